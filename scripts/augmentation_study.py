"""Train notebook 08's augmentation settings over seeds with a conditional G; record test accuracy and curves.

    python scripts/augmentation_study.py --seeds 0 1 2 --epochs 50 --out benchmarks/augmentation_study.json

Settings: ``gh.experiments.augmentation.SETTINGS`` (100 and 500 real digits, without and with 1,000
samples of the shipped conditional DCGAN, and the samples alone). Real digits are drawn from the
4,000 digits G was trained on; accuracy is measured on the MNIST test set (``--test-dir``, default
``$GAN_HELPERS_REAL_MNIST`` or ``../shared/data/mnist``), the per-epoch curve on the offline sample's
last 1,000 digits (which G never saw). The record is written after every run, so an interrupted study
keeps what it finished, and a rerun with the same ``--out`` skips the runs already there.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm.auto import tqdm

import gan_helpers as gh
from gan_helpers.experiments.augmentation import SETTINGS, run_setting


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--test-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ[gh.data.mnist.MNIST_FILES_ENV] = str(
        args.test_dir or os.environ.get(gh.data.mnist.MNIST_FILES_ENV) or "../shared/data/mnist"
    )
    test = gh.data.load_mnist("test", download=False)
    images, labels = gh.data.load_offline_sample()
    G, _, info = gh.models.load_pretrained("cdcgan")
    record = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
    record.update(
        {
            "command": "python " + shlex.join(sys.argv),
            "generator": {k: info[k] for k in ("command", "steps", "date") if k in info},
            "test": f"MNIST test set, {len(test[0]):,} digits",
            "curve": "the offline sample's last 1,000 digits (unseen by G and by the classifier)",
            "device": gh.runtime.describe().device_name,
            "threads": torch.get_num_threads(),
        }
    )
    done = {(r["name"], r["seed"], r["epochs"]) for r in record["runs"]}
    todo = [(s, seed) for seed in args.seeds for s in SETTINGS if (s.name, seed, args.epochs) not in done]
    for setting, seed in tqdm(todo, desc="augmentation study"):
        start = time.perf_counter()
        run = run_setting(
            G, setting, seed, (images[:4000], labels[:4000]), test, (images[4000:], labels[4000:]), args.epochs
        )
        run["seconds"] = round(time.perf_counter() - start, 1)
        run["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        record["runs"].append(run)
        gh.files.atomic_write_json(args.out, record)
        tqdm.write(f"{setting.name}, seed {seed}: {run['accuracy']:.2%} ({run['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
