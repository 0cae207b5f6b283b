r"""Notebook 05's lesson "how to get a GAN to work on 5,000 digits", told with measurements.

Each *recipe* is a DCGAN training setting (width, batch size, learning rates, differentiable
augmentation); :func:`run_recipe` trains it on the offline sample and, every ``eval_every`` steps,
scores G and moving averages of G with several decays (:class:`gan_helpers.training.GeneratorAverage`)
against unseen real digits: :func:`gan_helpers.metrics.score_samples` of 2,000 samples against
2,000 MNIST test digits in the shipped classifier's feature space. ``scripts/dcgan_recipe_ablation.py``
runs recipes over seeds and writes their curves to a JSON file; the notebook reads that file
(:func:`load_curves`), because the runs take hours of CPU, and shows :func:`ablation_table` and
:func:`plot_recipe_curves`.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from gan_helpers import data, files, metrics, models, plots, runtime, training

__all__ = ["RECORD", "Recipe", "ablation_table", "load_curves", "plot_recipe_curves", "run_recipe"]

#: The samples scored at each evaluation, and the seed of their noise.
EVAL_SAMPLES, EVAL_SEED = 2000, 99
#: The unseen real digits: the first of two random halves of the MNIST test set (this seed).
REFERENCE_SEED = 1234
#: The recorded runs notebook 05 shows (``scripts/dcgan_recipe_ablation.py --merge`` writes it).
RECORD = Path(__file__).resolve().parents[2] / "benchmarks" / "dcgan_recipe.json"


@dataclass(frozen=True)
class Recipe:
    """One training setting of the DCGAN on the offline sample (``name`` labels it in tables)."""

    name: str
    width: int = 32
    batch_size: int = 128
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    augment: tuple[str, ...] = ()
    steps: int = 4000
    eval_every: int = 500
    ema_decays: tuple[float, ...] = (0.99, 0.995, 0.999)
    drop_last: bool = True

    def config(self) -> training.TrainConfig:
        """The :class:`~gan_helpers.training.TrainConfig` of one evaluation interval."""
        return training.TrainConfig(
            steps=self.eval_every,
            lr_d=self.lr_d,
            lr_g=self.lr_g,
            augment=self.augment,
            log_every=50,
            precision="fp32",
        )


class _Averages:
    """Several moving averages of G at once, updated by the loop as one ``average``."""

    def __init__(self, G: torch.nn.Module, decays: Sequence[float]) -> None:
        self.averages = {float(d): training.GeneratorAverage(G, d) for d in decays}

    def update(self, G: torch.nn.Module) -> None:
        for average in self.averages.values():
            average.update(G)


def _scores(G: torch.nn.Module, classifier: torch.nn.Module, reference: torch.Tensor) -> dict[str, Any]:
    s = metrics.score_generator(G, classifier, reference, seed=EVAL_SEED)
    return {"fid": s.fid, "confident": s.confident, "inception": s.inception, "shares": list(s.shares)}


def run_recipe(
    recipe: Recipe,
    seed: int,
    classifier: torch.nn.Module,
    test_images: torch.Tensor,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    n_eval: int = EVAL_SAMPLES,
) -> dict[str, Any]:
    """Train ``recipe`` from ``seed`` and return its curve: per evaluation, the step, the training seconds
    so far, and the scores of G (``"G"``) and of each average (``"ema0.999"``, ...). With ``out`` the curve
    so far is written there (JSON) after every evaluation, so an interrupted run keeps what it measured.
    ``n_eval`` samples are scored against as many real digits (tests use fewer)."""
    reference = metrics.extract_features(classifier, metrics.real_halves(test_images, n_eval, REFERENCE_SEED)[0])
    generator = runtime.seed_everything(seed)
    images, _ = data.load_offline_sample()
    batches = data.DeviceBatches(images, batch_size=recipe.batch_size, drop_last=recipe.drop_last, generator=generator)
    G, D = models.DCGANGenerator(width=recipe.width), models.DCGANDiscriminator(width=recipe.width)
    averages = _Averages(G, recipe.ema_decays)
    config = recipe.config()
    optimizers = training.make_optimizers(G, D, config)
    history = training.History()
    result: dict[str, Any] = {"recipe": asdict(recipe), "seed": seed, "curve": []}
    seconds = 0.0
    for k in tqdm(range(recipe.steps // recipe.eval_every), desc=f"{recipe.name}, seed {seed}", disable=not progress):
        start = time.perf_counter()
        training.train_gan(
            G, D, batches, config, history=history, optimizers=optimizers,
            start_step=k * recipe.eval_every, average=averages, progress=False,
        )  # fmt: skip
        seconds += time.perf_counter() - start
        row = {"step": (k + 1) * recipe.eval_every, "train_seconds": round(seconds, 1)}
        row["G"] = _scores(G, classifier, reference)
        for decay, average in averages.averages.items():
            averaged = training.recalibrate_batch_norm(copy.deepcopy(average.model))
            row[f"ema{decay:g}"] = _scores(averaged, classifier, reference)
        result["curve"].append(row)
        if out is not None:
            files.atomic_write_json(out, result)
    return result


def load_curves(path: str | os.PathLike[str] = RECORD) -> list[dict[str, Any]]:
    """What ``scripts/dcgan_recipe_ablation.py`` recorded (default :data:`RECORD`): :func:`run_recipe` results."""
    return json.loads(Path(path).read_text())["runs"]


def _final(run: dict[str, Any], which: str) -> dict[str, Any]:
    return run["curve"][-1][which]


def ablation_table(runs: list[dict[str, Any]], which: str = "ema0.999") -> list[dict[str, Any]]:
    """One row per recipe: the final FID of ``which`` (G or an average) per seed, their mean and half range,
    the step, and the best FID along the curve."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        name = run["recipe"]["name"]
        row = rows.setdefault(name, {"recipe": name, "step": run["curve"][-1]["step"], "fid": {}, "best": {}})
        row["fid"][run["seed"]] = _final(run, which)["fid"]
        row["best"][run["seed"]] = min(r[which]["fid"] for r in run["curve"])
    for row in rows.values():
        values = list(row["fid"].values())
        row["mean"] = sum(values) / len(values)
        row["half_range"] = (max(values) - min(values)) / 2
    return list(rows.values())


def plot_recipe_curves(runs: list[dict[str, Any]], which: str = "ema0.999", title: str | None = None) -> Figure:
    """FID against unseen digits over training steps, one colour per recipe, one line per seed (log scale)."""
    curves = [
        (run["recipe"]["name"], [r["step"] for r in run["curve"]], [r[which]["fid"] for r in run["curve"]])
        for run in runs
    ]
    return plots.plot_grouped_curves(
        curves, "training step", f"FID vs unseen digits (n = {EVAL_SAMPLES:,})",
        title or f"FID over training, {which}; one line per seed", log_y=True,
    )  # fmt: skip
