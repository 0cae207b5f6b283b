"""A training step never reads a value back from the device: between two log points the loop only queues work.

Every Python-level read of a tensor's value (``item``, ``int()``, ``float()``, ``bool()``, ``tolist``)
made by the package's code is counted while ``train_gan`` runs. With one log point per run (the
last step), a run of 6 steps must make exactly as many reads as a run of 2: the steps themselves
make none. (PyTorch's own Adam reads its step counters, which live on the host even on a GPU; those
reads come from torch's code and are not counted.)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

import gan_helpers as gh

PACKAGE = str(Path(gh.__file__).resolve().parent)
READS = ("item", "tolist", "__int__", "__float__", "__bool__", "__index__")


@pytest.fixture
def host_reads(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """A Counter of ``(method, file:line)`` for every tensor read made by code inside gan_helpers."""
    reads: Counter = Counter()
    for name in READS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name):
            caller = sys._getframe(1).f_code.co_filename
            if caller.startswith(PACKAGE):
                reads[(_name, f"{Path(caller).name}:{sys._getframe(1).f_lineno}")] += 1
            return _original(self, *args)

        monkeypatch.setattr(torch.Tensor, name, counting)
    return reads


def _reads_of_a_run(reads: Counter, steps: int, conditional: bool, config: gh.training.TrainConfig) -> Counter:
    gh.runtime.seed_everything(0)
    images, labels = gh.data.load_offline_sample()
    batches = gh.data.DeviceBatches(images[:256], labels=labels[:256], batch_size=32, drop_last=True)
    if conditional:
        G = gh.models.ConditionalDCGANGenerator(width=8)
        D = gh.models.ConditionalDCGANDiscriminator(width=8)
    else:
        G, D = gh.models.DCGANGenerator(width=8), gh.models.DCGANDiscriminator(width=8)
    average = gh.training.GeneratorAverage(G, decay=0.9)
    reads.clear()
    gh.training.train_gan(G, D, batches, config.replace(steps=steps, log_every=steps), average=average, progress=False)
    return Counter(reads)


@pytest.mark.parametrize("conditional", [False, True], ids=["dcgan", "conditional"])
@pytest.mark.parametrize("augment", [(), ("translation", "cutout")], ids=["plain", "diffaugment"])
def test_steps_between_log_points_make_no_host_reads(host_reads: Counter, conditional: bool, augment) -> None:
    config = gh.training.TrainConfig(precision="fp32", augment=augment)
    short = _reads_of_a_run(host_reads, 2, conditional, config)
    long = _reads_of_a_run(host_reads, 6, conditional, config)
    extra = long - short
    assert not extra, f"reads that grow with the number of steps (so made inside steps): {dict(extra)}"
    assert short, "the counter saw no reads at all: the log point itself must read the interval's means"


def test_the_counter_sees_a_read_inside_a_step(host_reads: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: with the label values checked in every forward again (the old behaviour), it counts them."""
    from gan_helpers.models import dcgan

    original = dcgan.check_labels

    def always_checking(y, batch_size, num_classes, who, values=True):
        return original(y, batch_size, num_classes, who, values=True)

    monkeypatch.setattr(dcgan, "check_labels", always_checking)
    config = gh.training.TrainConfig(precision="fp32")
    extra = _reads_of_a_run(host_reads, 6, True, config) - _reads_of_a_run(host_reads, 2, True, config)
    assert {name for name, where in extra if where.startswith("dcgan.py")} == {"__int__"}
    assert sum(extra.values()) == 4 * 2 * 4  # 4 more steps x 2 label values x 4 forwards (G once, D three times)


def test_bad_labels_are_refused_where_they_enter() -> None:
    """Labels are checked once, at the data source: a label 10 for 10 classes stops training before step 1."""
    images, labels = gh.data.load_offline_sample()
    labels = labels[:64].clone()
    labels[5] = 10
    batches = gh.data.DeviceBatches(images[:64], labels=labels, batch_size=32)
    G = gh.models.ConditionalDCGANGenerator(width=8)
    D = gh.models.ConditionalDCGANDiscriminator(width=8)
    with pytest.raises(ValueError, match="the data source got labels from 0 to 10"):
        gh.training.train_gan(G, D, batches, gh.training.TrainConfig(steps=1), progress=False)


def test_sampling_still_checks_label_values() -> None:
    G = gh.models.ConditionalDCGANGenerator(width=8).eval()
    with pytest.raises(ValueError, match=r"outside 0\.\.9"):
        G(torch.randn(2, 100), torch.tensor([0, 12]))
