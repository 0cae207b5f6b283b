"""The on-device batch iterator yields full batches by default, or every sample exactly once per epoch with
``drop_last=False``; a sampler gives endless batches."""

from __future__ import annotations

import pytest
import torch
from indexed_images import indexed_images, indices

from gan_helpers.data import DeviceBatches, SampledBatches, to_unit_range


@pytest.mark.parametrize(("n", "batch_size"), [(1000, 128), (256, 64), (5, 7)])
def test_each_sample_exactly_once_per_epoch_without_drop_last(n, batch_size):
    batches = DeviceBatches(
        indexed_images(n), batch_size=batch_size, drop_last=False, generator=torch.Generator().manual_seed(0)
    )
    orders = []
    for _ in range(3):
        seen = [i for batch in batches for i in indices(batch)]
        assert sorted(seen) == list(range(n))
        orders.append(seen)
    assert len(batches) == -(-n // batch_size)
    if n > 10:
        assert orders[0] != orders[1], "each epoch must reshuffle"


def test_by_default_every_batch_is_full_and_no_sample_repeats_within_an_epoch():
    batches = DeviceBatches(indexed_images(1000), batch_size=128, generator=torch.Generator().manual_seed(0))
    left_out = []
    for _ in range(3):
        epoch = [indices(b) for b in batches]
        assert [len(b) for b in epoch] == [128] * 7 and len(batches) == 7
        seen = [i for b in epoch for i in b]
        assert len(set(seen)) == 896
        left_out.append(set(range(1000)) - set(seen))
    assert left_out[0] != left_out[1], "the 104 left out must differ between epochs"


def test_labels_travel_with_their_images():
    images = indexed_images(300)
    labels = torch.arange(300)
    for x, y in DeviceBatches(images, labels, batch_size=64):
        assert indices(x) == y.tolist()


def test_pixels_are_normalised_to_minus_one_one():
    x = to_unit_range(torch.tensor([0, 255, 128], dtype=torch.uint8))
    torch.testing.assert_close(x, torch.tensor([-1.0, 1.0, 128 / 127.5 - 1]))
    batch = next(iter(DeviceBatches(torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8), batch_size=50)))
    assert batch.shape == (50, 1, 28, 28) and batch.dtype == torch.float32
    assert batch.min() >= -1 and batch.max() <= 1


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="batch_size"):
        DeviceBatches(indexed_images(10), batch_size=0)
    with pytest.raises(ValueError, match="shape"):
        DeviceBatches(torch.zeros(10, dtype=torch.uint8))
    with pytest.raises(ValueError, match="labels"):
        DeviceBatches(indexed_images(10), torch.zeros(9))
    with pytest.raises(TypeError, match="uint8"):
        to_unit_range(torch.zeros(3))


def test_one_epoch_in_a_stored_order_knows_its_batch_size_and_resumes_mid_epoch():
    batches = DeviceBatches(indexed_images(100), batch_size=32, generator=torch.Generator().manual_seed(0))
    order = batches.permutation()
    epoch = batches.epoch(order, start=1)
    assert epoch.batch_size == 32
    expected = [indices(b) for b in batches.iter_order(order)][1:]  # the batches left after the first
    assert [indices(b) for b in epoch] == expected == [indices(b) for b in epoch]  # re-iterable, same order
    assert [i for idx in expected for i in idx] == order[32:96].tolist()  # 3 full batches; the last 4 left out


def test_sampled_batches_are_endless_calls_of_the_sampler_in_order():
    calls = []

    def sample(n):
        calls.append(n)
        return torch.randn(n, 2)

    batches = SampledBatches(sample, 16)
    assert batches.batch_size == 16
    torch.manual_seed(0)
    stream = iter(batches)
    got = [next(stream) for _ in range(3)]
    torch.manual_seed(0)
    expected = [torch.randn(16, 2) for _ in range(3)]  # the global random stream, in the order asked
    assert calls == [16, 16, 16]
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))


def test_sampled_batches_reject_a_non_callable_and_a_batch_size_below_one():
    with pytest.raises(TypeError, match="function"):
        SampledBatches(torch.zeros(4, 2), 8)
    with pytest.raises(ValueError, match="batch_size"):
        SampledBatches(torch.randn, 0)
    with pytest.raises(ValueError, match="batch_size"):
        SampledBatches(torch.randn, -3)
