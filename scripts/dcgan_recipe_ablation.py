"""Train DCGAN recipes on the offline sample over seeds; record FID (and the other scores) over steps.

    python scripts/dcgan_recipe_ablation.py --recipe base --seeds 0 1 --out benchmarks/recipe/base.json
    python scripts/dcgan_recipe_ablation.py --merge benchmarks/recipe/*.json --out benchmarks/dcgan_recipe.json

Each recipe (``RECIPES`` below) is a :class:`gan_helpers.experiments.dcgan_recipe.Recipe`; every
``eval_every`` steps G and its moving averages are scored on 2,000 samples against 2,000 unseen
MNIST test digits (``--test-dir``, default ``../shared/data/mnist`` or ``$GAN_HELPERS_REAL_MNIST``).
Notebook 05 reads the merged file.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import torch

import gan_helpers as gh
from gan_helpers.experiments.dcgan_recipe import Recipe, run_recipe

RECIPES = {
    "base": Recipe("base: DCGAN defaults (lr 2e-4)"),
    "lr5": Recipe("lr 5e-4", lr_d=5e-4, lr_g=5e-4),
    "ttur": Recipe("TTUR (lr_D 6e-4, lr_G 3e-4)", lr_d=6e-4, lr_g=3e-4),
    "aug": Recipe("DiffAugment (translation, cutout)", augment=("translation", "cutout")),
    "lr5_trans": Recipe("lr 5e-4 + DiffAugment (translation)", lr_d=5e-4, lr_g=5e-4, augment=("translation",)),
    "lr5_b64": Recipe("lr 5e-4, batch 64", lr_d=5e-4, lr_g=5e-4, batch_size=64, steps=8000, eval_every=1000),
    "lr5_w64": Recipe("lr 5e-4, width 64", lr_d=5e-4, lr_g=5e-4, width=64, steps=2000),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipe", choices=sorted(RECIPES))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--steps", type=int, help="override the recipe's steps")
    p.add_argument("--eval-every", type=int, help="override the recipe's steps between evaluations")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--test-dir", type=Path, default=None)
    p.add_argument("--merge", type=Path, nargs="+", help="merge these result files into --out")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    if args.merge:
        runs = [run for path in args.merge for run in json.loads(path.read_text())["runs"]]
        args.out.write_text(json.dumps({"runs": runs}, indent=1))
        print(f"{len(runs)} runs -> {args.out}")
        return 0
    if args.recipe is None:
        p.error("give --recipe (or --merge)")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.test_dir is not None:
        os.environ[gh.data.mnist.MNIST_FILES_ENV] = str(args.test_dir)
    elif not os.environ.get(gh.data.mnist.MNIST_FILES_ENV):
        os.environ[gh.data.mnist.MNIST_FILES_ENV] = "../shared/data/mnist"
    test_images, _ = gh.data.load_mnist("test", download=False)
    classifier = gh.classifier.load_classifier()
    recipe = RECIPES[args.recipe]
    overrides = {k: v for k, v in (("steps", args.steps), ("eval_every", args.eval_every)) if v}
    recipe = replace(recipe, **overrides)
    record = {
        "command": "python " + shlex.join(sys.argv),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": gh.runtime.describe().device_name,
        "threads": torch.get_num_threads(),
        "runs": [],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        partial = args.out.with_suffix(f".seed{seed}.partial.json")
        run = run_recipe(recipe, seed, classifier, test_images, out=partial)
        run.update({k: record[k] for k in ("command", "date", "device", "threads")})
        record["runs"].append(run)
        gh.files.atomic_write_json(args.out, record)
        partial.unlink(missing_ok=True)
        last = run["curve"][-1]
        print(f"{recipe.name}, seed {seed}: step {last['step']}, G FID {last['G']['fid']:.1f}, "
              + ", ".join(f"{k} FID {v['fid']:.1f}" for k, v in last.items() if k.startswith("ema")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
