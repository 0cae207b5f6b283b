"""Which data sets this machine has, without downloading anything: the welcome notebook's data check."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from gan_helpers.data.idx import DataFileError
from gan_helpers.data.mnist import DataUnavailableError, OfflineSampleWarning, load_fashion_mnist, load_mnist

__all__ = ["DataStatus", "describe_data", "format_data_status"]


@dataclass(frozen=True)
class DataStatus:
    """One data set and split: how many images are at hand and where they come from."""

    name: str
    split: str
    num_images: int
    source: str


def describe_data(root: str | os.PathLike[str] | None = None) -> list[DataStatus]:
    """Try each of MNIST and Fashion-MNIST, train and test, from disk only (``download=False``).

    A split that is missing is reported with the first line of the loader's explanation; the MNIST
    training split reports the offline sample when full MNIST is absent.
    """
    rows = []
    for name, loader in (("MNIST", load_mnist), ("Fashion-MNIST", load_fashion_mnist)):
        for split in ("train", "test"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OfflineSampleWarning)
                try:
                    _, _, info = loader(split, root=root, download=False, return_info=True)
                except (DataUnavailableError, DataFileError) as exc:
                    rows.append(DataStatus(name, split, 0, "not here: " + str(exc).splitlines()[0]))
                    continue
            rows.append(DataStatus(name, split, info.num_images, info.source))
    return rows


def format_data_status(rows: list[DataStatus]) -> str:
    """A plain-text table of :func:`describe_data`'s rows."""
    lines = [f"{'data set':<14} {'split':<6} {'images':>7}  source"]
    lines += [f"{r.name:<14} {r.split:<6} {r.num_images:>7,}  {r.source}" for r in rows]
    return "\n".join(lines)
