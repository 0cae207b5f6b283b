r"""Notebook 08's question "do a conditional GAN's samples help a classifier trained on few digits?", measured.

Each *setting* trains the small classifier of :func:`gan_helpers.applications.augmentation_run` on
``real_per_class`` real digits of every class (a balanced draw per seed from the 4,000 digits the
conditional G was trained on) plus ``synthetic_per_class`` samples of G per class, and tests it on
unseen real digits. Two rules make the comparison one that can be trusted:

- **matched exposure**: the real digits are repeated to :data:`REAL_VIEWS` images per epoch (10 copies
  of 100 digits, 2 of 500), so with and without G's samples each real digit is seen equally often;
  the samples come on top, as extra steps;
- **trained to convergence**: every run records its accuracy on held-out digits after each epoch,
  so the curve shows whether more epochs would have changed the answer (nothing is chosen from it).

The setting with no real digit is the *classification accuracy score* of Ravuri and Vinyals (2019):
how well G's samples alone teach the classes. ``scripts/augmentation_study.py`` runs every setting
over seeds and writes :data:`RECORD`; the notebook reads it (:func:`load_study`,
:func:`study_table`, :func:`plot_study_curves`), because the runs take many CPU minutes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import nn

from gan_helpers import applications, plots

__all__ = [
    "REAL_VIEWS",
    "RECORD",
    "SETTINGS",
    "Setting",
    "load_study",
    "plot_study_curves",
    "run_setting",
    "study_table",
]

#: Real images per epoch in every setting with real digits (copies of the drawn digits).
REAL_VIEWS = 1000
#: The recorded study notebook 08 shows (``scripts/augmentation_study.py`` writes it).
RECORD = Path(__file__).resolve().parents[2] / "benchmarks" / "augmentation_study.json"


@dataclass(frozen=True)
class Setting:
    """Real digits per class and G's samples per class in one training set."""

    real_per_class: int
    synthetic_per_class: int

    def __post_init__(self) -> None:
        if (
            self.real_per_class < 0
            or self.synthetic_per_class < 0
            or self.real_per_class + self.synthetic_per_class == 0
        ):
            raise ValueError(f"a setting needs real or synthetic digits (both >= 0, not both 0), got {self}")
        if self.real_per_class and REAL_VIEWS % (10 * self.real_per_class):
            raise ValueError(f"{10 * self.real_per_class} real digits do not divide {REAL_VIEWS} views per epoch")

    @property
    def name(self) -> str:
        real = f"{10 * self.real_per_class} real" if self.real_per_class else "no real"
        return real + (f" + {10 * self.synthetic_per_class:,} cGAN" if self.synthetic_per_class else "")

    @property
    def real_copies(self) -> int:
        """How often each real digit appears per epoch: :data:`REAL_VIEWS` / (10 x ``real_per_class``)."""
        return REAL_VIEWS // (10 * self.real_per_class) if self.real_per_class else 1


#: The settings of the study: 100 and 500 real digits without and with 1,000 samples, and samples alone.
SETTINGS = (Setting(10, 0), Setting(10, 100), Setting(50, 0), Setting(50, 100), Setting(0, 100))


def run_setting(
    G: nn.Module,
    setting: Setting,
    seed: int,
    pool: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    curve: tuple[torch.Tensor, torch.Tensor],
    epochs: int,
) -> dict[str, Any]:
    """Train one setting from ``seed``: real digits drawn from ``pool`` (uint8 images, labels), tested on
    ``test``, with the per-epoch accuracy on ``curve`` recorded. Returns a JSON-ready record."""
    pool_x, pool_y = pool
    if setting.real_per_class:
        index = applications.balanced_subset(pool_y, setting.real_per_class, seed=seed)
        real_x, real_y = pool_x[index], pool_y[index]
    else:
        real_x, real_y = pool_x[:0], pool_y[:0]
    result = applications.augmentation_run(
        G, real_x, real_y, *test, synthetic_per_class=setting.synthetic_per_class, epochs=epochs, seed=seed,
        real_copies=setting.real_copies, curve_images=curve[0], curve_labels=curve[1],
    )  # fmt: skip
    epoch_images = len(real_x) * setting.real_copies + 10 * setting.synthetic_per_class
    return {
        "setting": asdict(setting),
        "name": setting.name,
        "seed": seed,
        "epochs": epochs,
        "views_per_real_digit": setting.real_copies * epochs if setting.real_per_class else 0,
        "images_seen": epoch_images * epochs,
        "accuracy": result.accuracy,
        "curve": result.curve,
    }


def load_study(path: str | os.PathLike[str] = RECORD) -> dict[str, Any]:
    """What ``scripts/augmentation_study.py`` recorded (default :data:`RECORD`)."""
    return json.loads(Path(path).read_text())


def study_table(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per setting, in the order met: test accuracy per seed, its mean and standard deviation,
    and, for a setting with G's samples, the per-seed difference from the setting with the same real
    digits and no samples (same seed, so the same real digits)."""
    by_name: dict[str, dict[int, dict[str, Any]]] = {}
    for run in runs:
        by_name.setdefault(run["name"], {})[run["seed"]] = run
    rows = []
    for name, seeds in by_name.items():
        accuracy = torch.tensor([seeds[s]["accuracy"] for s in sorted(seeds)], dtype=torch.float64)
        row: dict[str, Any] = {
            "name": name,
            "seeds": sorted(seeds),
            "accuracy": accuracy.tolist(),
            "mean": float(accuracy.mean()),
            "std": float(accuracy.std()) if len(accuracy) > 1 else float("nan"),
            "views_per_real_digit": next(iter(seeds.values()))["views_per_real_digit"],
        }
        setting = next(iter(seeds.values()))["setting"]
        if setting["synthetic_per_class"] and setting["real_per_class"]:
            base = Setting(setting["real_per_class"], 0).name
            common = sorted(set(seeds) & set(by_name.get(base, {})))
            row["baseline"] = base
            row["difference"] = [seeds[s]["accuracy"] - by_name[base][s]["accuracy"] for s in common]
        rows.append(row)
    return rows


def plot_study_curves(runs: list[dict[str, Any]], title: str | None = None) -> Figure:
    """Accuracy on held-out digits after each epoch, one colour per setting, one line per seed."""
    curves = [(run["name"], range(1, len(run["curve"]) + 1), run["curve"]) for run in runs]
    return plots.plot_grouped_curves(
        curves, "epoch", "accuracy on held-out digits",
        title or "did every run converge? accuracy after each epoch, one line per seed",
        ylim=(0.5, 1.0), legend_loc="lower right",
    )  # fmt: skip
