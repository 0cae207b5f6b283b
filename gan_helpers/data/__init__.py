"""Data: real MNIST and Fashion-MNIST (IDX files, downloads, the offline sample), toy distributions, batches,
augmentation."""

from gan_helpers.data.augment import DIFF_AUGMENTATIONS, affine_transform, diff_augment, random_affine
from gan_helpers.data.batches import DeviceBatches, EpochBatches, SampledBatches, to_unit_range
from gan_helpers.data.download import DownloadLimits, DownloadTooSlowError
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
from gan_helpers.data.toy import TOY_2D, GaussianMixture, gaussian_1d, grid_2d, mixture_1d, ring_2d, toy_2d, toy_extent

__all__ = [
    "DIFF_AUGMENTATIONS",
    "TOY_2D",
    "DataFileError",
    "DataStatus",
    "DataUnavailableError",
    "DatasetInfo",
    "DeviceBatches",
    "DownloadLimits",
    "DownloadTooSlowError",
    "EpochBatches",
    "GaussianMixture",
    "OfflineSampleWarning",
    "SampledBatches",
    "affine_transform",
    "default_data_root",
    "describe_data",
    "diff_augment",
    "format_data_status",
    "gaussian_1d",
    "grid_2d",
    "load_fashion_mnist",
    "load_mnist",
    "load_offline_sample",
    "mixture_1d",
    "random_affine",
    "read_idx",
    "ring_2d",
    "to_unit_range",
    "toy_2d",
    "toy_extent",
    "write_idx",
]
