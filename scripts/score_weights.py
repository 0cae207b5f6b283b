"""Score shipped generator weights against unseen real digits: the four numbers of data/weights/README.md.

    python scripts/score_weights.py data/weights/dcgan_mnist.pt data/weights/mlp_gan_mnist.pt

For each file: 2,000 samples (noise seed 1) against 2,000 MNIST test digits (the first of two random
halves, seed 0) in the shipped classifier's feature space: FID, the share of samples classified with
top probability above 0.9, the classifier-space Inception score and the class shares; and the floor,
the FID of the other half of real test digits. For a conditional G also its label fidelity (500
samples per class), within-class diversity (100 per class) and per-class FID (200 per class), all
against the MNIST test digits of each class (``gh.applications.conditional_scores``). The test
files come from ``--test-dir`` (default ``$GAN_HELPERS_REAL_MNIST`` or ``../shared/data/mnist``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gan_helpers as gh

N = 2000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path, nargs="+")
    p.add_argument("--test-dir", type=Path, default=None)
    args = p.parse_args(argv)
    folder = args.test_dir or os.environ.get(gh.data.mnist.MNIST_FILES_ENV) or "../shared/data/mnist"
    os.environ[gh.data.mnist.MNIST_FILES_ENV] = str(folder)
    test_images, test_labels = gh.data.load_mnist("test", download=False)
    classifier = gh.classifier.load_classifier()
    reference, other = gh.metrics.real_halves(test_images, N, seed=0)
    features = gh.metrics.extract_features(classifier, reference)
    real = gh.metrics.score_samples(other, classifier, features)
    print(f"real test digits (other half): {real}")
    for path in args.weights:
        G, _, info = gh.models.load_weights(path)
        scores = gh.metrics.score_generator(G, classifier, features, seed=1)
        shares = ", ".join(f"{c}: {s:.1%}" for c, s in enumerate(scores.shares))
        print(f"{path.name} ({info.get('steps')} steps): {scores}; FID {scores.fid / real.fid:.1f}x the floor")
        print(f"    class shares: {shares}")
        if getattr(G, "num_classes", None):  # a conditional G: does it obey the label, and vary within a class?
            conditional = gh.applications.conditional_scores(G, classifier, test_images, test_labels)
            print(f"    {conditional}")
            print("    label fidelity per class: " + ", ".join(f"{a:.1%}" for a in conditional.fidelity.per_class))
            print("    within-class diversity:   " + ", ".join(f"{d:.2f}" for d in conditional.diversity))
            print("    per-class FID:            " + ", ".join(f"{f:.1f}" for f in conditional.fid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
