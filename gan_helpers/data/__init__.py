"""Data: real MNIST and Fashion-MNIST (IDX files, downloads, the offline sample), toy distributions, batches."""

from gan_helpers.data.batches import DeviceBatches, to_unit_range
from gan_helpers.data.idx import DataFileError, read_idx, write_idx
from gan_helpers.data.mnist import (
    DatasetInfo,
    DataUnavailableError,
    OfflineSampleWarning,
    default_data_root,
    load_fashion_mnist,
    load_mnist,
    load_offline_sample,
)
from gan_helpers.data.status import DataStatus, describe_data, format_data_status
from gan_helpers.data.toy import GaussianMixture, gaussian_1d, grid_2d, mixture_1d, ring_2d

__all__ = [
    "DataFileError",
    "DataStatus",
    "DataUnavailableError",
    "DatasetInfo",
    "DeviceBatches",
    "GaussianMixture",
    "OfflineSampleWarning",
    "default_data_root",
    "describe_data",
    "format_data_status",
    "gaussian_1d",
    "grid_2d",
    "load_fashion_mnist",
    "load_mnist",
    "load_offline_sample",
    "mixture_1d",
    "read_idx",
    "ring_2d",
    "to_unit_range",
    "write_idx",
]
