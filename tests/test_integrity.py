"""Checkpoints and shipped weights prove their integrity: every bad file raises one ``CheckpointError``.

Truncated, empty, garbage, text, hostile, edited (flipped bytes), older (no checksum) and foreign files;
a checkpoint of another model kind; a crafted model spec that would allocate gigabytes; a full disk;
a device that is not there; NaN in a buffer; the run's settings; and a fuzz test flipping random bytes
of a real checkpoint: each case loads the identical state or raises ``CheckpointError``, nothing else.
"""

from __future__ import annotations

import errno
import math
import random
import re
import resource
import time
import warnings
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import torch

import gan_helpers as gh
from gan_helpers.checkpoints import CHECKSUM_KEY, CheckpointError
from gan_helpers.training.runs import CHECKPOINT_FORMAT

UNSAFE_ADVICE = re.compile(r"weights_only(=|\W+set to\W+)False")  # torch's advice for a refused file


def _advises_unsafe(text: str) -> bool:
    return UNSAFE_ADVICE.search(text) is not None


def _tiny_batches() -> gh.data.DeviceBatches:
    """64 random 'images' in batches of 16."""
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    return gh.data.DeviceBatches(images, batch_size=16)


def _tiny_run(out_dir: Path, epochs: int = 1, batch_norm: bool = False) -> gh.training.Run:
    """A tiny MLP GAN trained ``epochs`` epochs on :func:`_tiny_batches` with a checkpoint in ``out_dir``."""
    gh.runtime.seed_everything(0)
    batches = _tiny_batches()
    G = gh.models.MLPImageGenerator(latent_dim=8, hidden=(16, 32), batch_norm=batch_norm)
    D = gh.models.MLPImageDiscriminator(hidden=(32, 16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny models trip the diagnostics
        return gh.training.train_epochs(
            G, D, batches, gh.training.TrainConfig(log_every=2), epochs=epochs, out_dir=out_dir, progress=False
        )


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real checkpoint: one epoch of a tiny MLP GAN (read-only for the tests: they copy it)."""
    out = tmp_path_factory.mktemp("run")
    _tiny_run(out)
    return out / gh.training.CHECKPOINT_NAME


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real weights file of a tiny MLP GAN (export_weights)."""
    G = gh.models.MLPImageGenerator(latent_dim=8, hidden=(16, 32))
    D = gh.models.MLPImageDiscriminator(hidden=(32, 16))
    return gh.models.export_weights(G, D, tmp_path_factory.mktemp("w") / "w.pt", info={"command": "test"})


def _small_classifier(path: Path) -> Path:
    """A small classifier saved with save_classifier."""
    return gh.classifier.save_classifier(gh.classifier.MNISTClassifier(channels=(4, 8), feature_dim=16), path)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _raises_checkpoint_error(load: Any, path: Path, *match: str) -> str:
    """``load(path)`` raises CheckpointError naming ``path`` and holding every ``match``, without the unsafe advice."""
    with pytest.raises(CheckpointError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message and not _advises_unsafe(message)
    assert caught.value.__cause__ is None or not _advises_unsafe(str(caught.value.__cause__))
    for text in match:
        assert text in message, message
    return message


def _largest_tensor_record(path: Path) -> zipfile.ZipInfo:
    """The zip record of the biggest tensor in a torch file (its bytes are stored uncompressed)."""
    with zipfile.ZipFile(path) as archive:
        records = [info for info in archive.infolist() if "/data/" in info.filename]
    return max(records, key=lambda info: info.file_size)


def _data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where the bytes of record ``info`` start in the file (after its local header)."""
    with path.open("rb") as file:
        file.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(file.read(2), "little") for _ in range(2))
    return info.header_offset + 30 + name_length + extra_length


def _flip_middle_of_tensor(path: Path, out: Path, count: int = 64) -> Path:
    """A copy of ``path`` with ``count`` bytes in the middle of its largest tensor inverted."""
    data = bytearray(path.read_bytes())
    info = _largest_tensor_record(path)
    start = _data_offset(path, info) + info.file_size // 2
    for i in range(start, start + count):
        data[i] ^= 0xFF
    return _write(out, bytes(data))


# --- unreadable files: one CheckpointError naming the file, never torch's raw error ---


@pytest.mark.parametrize("cut", [1, 4, 30, 100, 0.25, 0.5, 0.75, -100, -22, -1])
def test_a_truncated_checkpoint_raises_checkpoint_error(checkpoint, tmp_path, cut):
    data = checkpoint.read_bytes()
    end = cut if isinstance(cut, int) else int(len(data) * cut)
    path = _write(tmp_path / "checkpoint.pt", data[:end])
    _raises_checkpoint_error(gh.training.load_run, path, "truncated or damaged", "--overwrite", "--out")


def test_an_empty_file_raises_checkpoint_error(tmp_path):
    path = _write(tmp_path / "checkpoint.pt", b"")
    _raises_checkpoint_error(gh.training.load_run, path, "empty")
    _raises_checkpoint_error(gh.models.load_weights, path, "empty")
    _raises_checkpoint_error(gh.classifier.load_classifier, path, "empty")


@pytest.mark.parametrize("head", [b"", b"PK\x03\x04"], ids=["garbage", "garbage-behind-a-zip-header"])
def test_garbage_bytes_raise_checkpoint_error(tmp_path, head):
    noise = random.Random(0).randbytes(5000)
    path = _write(tmp_path / "checkpoint.pt", head + noise)
    _raises_checkpoint_error(gh.training.load_run, path, "--out")
    _raises_checkpoint_error(gh.models.load_weights, path, "git checkout -- data/weights")


def test_a_text_file_raises_checkpoint_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_text("epoch: 3\nthis is not a checkpoint\n")
    _raises_checkpoint_error(gh.training.load_run, path, "not a PyTorch file")
    _raises_checkpoint_error(gh.classifier.load_classifier, path, "not a PyTorch file", "train_classifier.py")


class _Hostile:
    """A pickle that would create ``marker`` when loaded without ``weights_only``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_hostile_pickle_is_refused_without_the_unsafe_advice(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "checkpoint.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "G": _Hostile(marker)}, path)
    with pytest.raises(Exception) as raw:  # what torch alone says: the advice we must not pass on
        torch.load(path, weights_only=True)
    assert _advises_unsafe(str(raw.value))
    _raises_checkpoint_error(gh.training.load_run, path, "nothing in it ran")
    _raises_checkpoint_error(gh.models.load_weights, path)
    assert not marker.exists()


def test_a_file_holding_something_else_than_a_dict_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save([torch.ones(2)], path)
    _raises_checkpoint_error(gh.training.load_run, path, "holds a list")


# --- damaged or edited files: the checksum catches what torch does not ---


def test_flipped_bytes_in_a_tensor_are_caught_by_the_checksum(checkpoint, tmp_path):
    path = _flip_middle_of_tensor(checkpoint, tmp_path / "checkpoint.pt")
    raw = torch.load(path, map_location="cpu", weights_only=True)  # torch loads it without a word
    original = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert (
        raw[CHECKSUM_KEY] == original[CHECKSUM_KEY]
        and gh.checkpoints.checksum({k: v for k, v in raw.items() if k != CHECKSUM_KEY}) != raw[CHECKSUM_KEY]
    )
    _raises_checkpoint_error(gh.training.load_run, path, "do not match the checksum", "damaged", "--overwrite")


def test_flipped_bytes_in_weights_and_classifier_files_are_caught(weights, tmp_path):
    path = _flip_middle_of_tensor(weights, tmp_path / "w.pt")
    _raises_checkpoint_error(gh.models.load_weights, path, "do not match the checksum", "git checkout -- data/weights")
    clf = _small_classifier(tmp_path / "c.pt")
    path = _flip_middle_of_tensor(clf, tmp_path / "c2.pt", count=8)
    _raises_checkpoint_error(gh.classifier.load_classifier, path, "do not match the checksum")


def test_an_edited_value_is_caught(checkpoint, tmp_path):
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state["epoch"] = 99  # edited by hand, checksum left as it was
    path = tmp_path / "checkpoint.pt"
    torch.save(state, path)
    _raises_checkpoint_error(gh.training.load_run, path, "do not match the checksum")


def test_the_checksum_tells_apart_what_equality_would_confuse():
    base = {"a": [1, 2.0], "t": torch.zeros(2, 3)}
    variants = [
        {"a": (1, 2.0), "t": torch.zeros(2, 3)},  # tuple, not list
        {"a": [1.0, 2.0], "t": torch.zeros(2, 3)},  # float, not int
        {"a": [True, 2.0], "t": torch.zeros(2, 3)},  # bool, not int
        {"a": [1, 2.0], "t": torch.zeros(3, 2)},  # shape
        {"a": [1, 2.0], "t": torch.zeros(2, 3, dtype=torch.float64)},  # dtype
        {"a": [1, 2.0], "t": -torch.zeros(2, 3)},  # -0.0: other bytes
    ]
    reference = gh.checkpoints.checksum(base)
    assert gh.checkpoints.checksum({"t": torch.zeros(3, 2).T, "a": [1, 2.0]}) == reference  # key order, strides
    assert all(gh.checkpoints.checksum(v) != reference for v in variants)


# --- files of older versions and of other kinds ---


def _without_checksum(path: Path, out: Path, **changes: Any) -> Path:
    state = torch.load(path, map_location="cpu", weights_only=True)
    state.pop(CHECKSUM_KEY)
    state.update(changes)
    torch.save(state, out)
    return out


def test_files_without_a_checksum_are_from_an_older_version(checkpoint, weights, tmp_path):
    old = _without_checksum(checkpoint, tmp_path / "checkpoint.pt", format="gan_helpers.checkpoint/1")
    _raises_checkpoint_error(gh.training.load_run, old, "older version", "gan_helpers.checkpoint/1", "--overwrite")
    old = _without_checksum(weights, tmp_path / "w.pt", format="gan_helpers.weights/1")
    _raises_checkpoint_error(gh.models.load_weights, old, "older version", "git checkout -- data/weights")
    clf = _small_classifier(tmp_path / "c.pt")
    state = torch.load(clf, weights_only=True)
    torch.save({k: state[k] for k in ("config", "state_dict", "info")}, clf)  # exactly the old layout
    _raises_checkpoint_error(gh.classifier.load_classifier, clf, "older version", "git checkout -- data/weights")


def test_a_file_of_another_kind_is_named_as_such(checkpoint, weights, tmp_path):
    _raises_checkpoint_error(gh.training.load_run, weights, "not a training checkpoint", "gan_helpers.weights/2")
    _raises_checkpoint_error(gh.models.load_weights, checkpoint, "not a weights file")
    _raises_checkpoint_error(gh.classifier.load_classifier, weights, "not a classifier file")


def test_a_checkpoint_of_another_model_kind_names_both_and_suggests_overwrite(checkpoint):
    G = gh.models.DCGANGenerator(8, (1, 28, 28), width=4)
    D = gh.models.DCGANDiscriminator((1, 28, 28), width=4)
    message = _raises_checkpoint_error(
        lambda path: gh.training.load_run(path, G, D), checkpoint, "holds a different model", "--overwrite", "--out"
    )
    assert "MLPImageGenerator(latent_dim=8" in message and "DCGANGenerator(latent_dim=8" in message


def test_resuming_into_a_folder_of_another_model_kind_is_refused(checkpoint):
    batches = gh.data.DeviceBatches(torch.zeros(32, 28, 28, dtype=torch.uint8), batch_size=16)
    G = gh.models.DCGANGenerator(8, (1, 28, 28), width=4)
    D = gh.models.DCGANDiscriminator((1, 28, 28), width=4)
    with pytest.raises(CheckpointError, match="holds a different model"):
        gh.training.train_epochs(G, D, batches, epochs=2, out_dir=checkpoint.parent, resume=True, progress=False)


# --- crafted specs: refused before anything is allocated ---


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _quickly_refused(load: Any, path: Path, *match: str) -> None:
    """``load(path)`` raises CheckpointError in under 2 s and without growing the process by 500 MB."""
    start, peak = time.perf_counter(), _peak_rss_mb()
    _raises_checkpoint_error(load, path, *match)
    assert time.perf_counter() - start < 2.0
    assert _peak_rss_mb() - peak < 500  # a 60000x60000 float32 matrix alone is 14 GB


def test_a_crafted_spec_in_a_checkpoint_is_refused_without_allocating(checkpoint, tmp_path):
    state = gh.checkpoints.load_checkpoint(checkpoint)
    state["G_spec"]["kwargs"]["hidden"] = [60000, 60000]
    path = gh.checkpoints.atomic_save(state, tmp_path / "checkpoint.pt")  # a valid checksum: anyone can make one
    _quickly_refused(gh.training.load_run, path, "do not fit", "net.0.weight")


def test_a_crafted_spec_in_weights_and_classifier_files_is_refused_without_allocating(weights, tmp_path):
    payload = gh.checkpoints.load_checkpoint(weights)
    payload["D"]["kwargs"]["hidden"] = [60000, 60000]
    path = gh.checkpoints.atomic_save(payload, tmp_path / "w.pt")
    _quickly_refused(gh.models.load_weights, path, "cannot be rebuilt", "do not fit")
    clf = _small_classifier(tmp_path / "c.pt")
    payload = gh.checkpoints.load_checkpoint(clf)
    payload["config"]["channels"] = [60000, 60000]
    path = gh.checkpoints.atomic_save(payload, tmp_path / "c2.pt")
    _quickly_refused(gh.classifier.load_classifier, path, "cannot be rebuilt")


@pytest.mark.parametrize(
    "kwargs",
    [{"hidden": torch.tensor([16, 32])}, {"hidden": list(range(5000))}, {"latent_dim": 8, 3: 1}],
    ids=["a-tensor", "too-many-values", "a-non-string-key"],
)
def test_spec_arguments_must_be_plain_data(checkpoint, tmp_path, kwargs):
    state = gh.checkpoints.load_checkpoint(checkpoint)
    state["G_spec"]["kwargs"] = kwargs
    path = gh.checkpoints.atomic_save(state, tmp_path / "checkpoint.pt")
    _quickly_refused(gh.training.load_run, path, "cannot be rebuilt")


def test_an_incomplete_checkpoint_is_refused(checkpoint, tmp_path):
    state = gh.checkpoints.load_checkpoint(checkpoint)
    del state["opt_G"]
    path = gh.checkpoints.atomic_save(state, tmp_path / "checkpoint.pt")
    _raises_checkpoint_error(gh.training.load_run, path, "lacks opt_G")


# --- saving: a full disk, non-finite values, the run's settings ---


DISK_FULL = [
    RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0"),
    RuntimeError(
        "[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file data/3: file write failed"
    ),
    OSError(errno.ENOSPC, "No space left on device"),
]


@pytest.mark.parametrize("error", DISK_FULL, ids=["unexpected-pos", "file-write-failed", "ENOSPC"])
def test_a_full_disk_while_saving_says_so_and_keeps_the_old_file(tmp_path, monkeypatch, error):
    run = _tiny_run(tmp_path)
    path = tmp_path / gh.training.CHECKPOINT_NAME
    before = path.read_bytes()

    def full_disk(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        Path(f).write_bytes(b"PK\x03\x04 half a file")
        raise error

    names = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(torch, "save", full_disk)
    savers = {
        "save_run": lambda: gh.training.save_run(run, path),
        "export_weights": lambda: gh.models.export_weights(run.G, run.D, path),
        "save_classifier": lambda: gh.classifier.save_classifier(gh.classifier.MNISTClassifier(), path),
    }
    for name, save in savers.items():
        with pytest.raises(OSError) as caught:
            save()
        message = str(caught.value)
        assert caught.value.errno == errno.ENOSPC, name
        assert f"could not write {path}: the disk may be full" in message and "--out" in message, message
        assert path.read_bytes() == before, f"{name} damaged the old file"
        assert sorted(p.name for p in tmp_path.iterdir()) == names, f"{name} left a file behind"


def test_other_write_errors_pass_through(tmp_path, monkeypatch):
    def broken(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("something else")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(RuntimeError, match="something else"):
        gh.checkpoints.atomic_save({"x": torch.ones(1)}, tmp_path / "c.pt")


def test_nan_in_a_buffer_is_never_saved(tmp_path):
    run = _tiny_run(tmp_path, batch_norm=True)
    path = tmp_path / gh.training.CHECKPOINT_NAME
    before = path.read_bytes()
    name = next(k for k in run.G.state_dict() if k.endswith("running_var"))
    run.G.state_dict()[name][0] = float("nan")
    with pytest.raises(gh.training.TrainingDiverged, match=rf"G\.{name}.*not saved.*last good checkpoint"):
        gh.training.save_run(run, path)
    assert path.read_bytes() == before


def test_train_epochs_keeps_the_last_good_checkpoint_when_a_buffer_goes_non_finite(tmp_path):
    class PoisonAfterFirstEpoch(gh.training.Callback):
        def on_epoch_end(self, run: gh.training.Run) -> None:
            if run.epoch == 2:
                run.D.state_dict()["net.1.weight"][0, 0] = float("inf")

    _tiny_run(tmp_path)  # epoch 1 saved
    gh.runtime.seed_everything(0)
    run = gh.training.load_run(tmp_path)
    batches = _tiny_batches()
    with warnings.catch_warnings(), pytest.raises(gh.training.TrainingDiverged, match=r"D\.net\.1\.weight"):
        warnings.simplefilter("ignore")
        gh.training.train_epochs(
            run.G,
            run.D,
            batches,
            run.config,
            epochs=3,
            out_dir=tmp_path,
            resume=True,
            callbacks=[PoisonAfterFirstEpoch()],
            progress=False,
        )
    assert gh.checkpoints.load_checkpoint(tmp_path / gh.training.CHECKPOINT_NAME)["epoch"] == 1


def test_settings_travel_with_the_checkpoint(tmp_path):
    run = _tiny_run(tmp_path)
    assert run.settings == {}
    run.settings = {"model": "mlp", "lr": 1e-3, "batch_size": 32, "betas": [0.5, 0.999], "limit_images": None}
    path = gh.training.save_run(run, tmp_path / "with_settings.pt")
    assert gh.training.load_run(path).settings == run.settings
    run.settings = {"lr": torch.tensor(1e-3)}
    with pytest.raises(ValueError, match="plain values"):
        gh.training.save_run(run, tmp_path / "bad.pt")


# --- devices that are not there ---


def _missing_device() -> str:
    return "cuda:99" if torch.cuda.is_available() else "cuda"


def test_loading_onto_a_missing_device_says_which_exist(checkpoint, weights):
    device = _missing_device()
    loaders = [
        lambda: gh.models.load_pretrained("dcgan", device=device),
        lambda: gh.models.load_weights(weights, device=device),
        lambda: gh.classifier.load_classifier(device=device),
        lambda: gh.training.load_run(checkpoint, device=device),
    ]
    for load in loaders:
        with pytest.raises(ValueError, match=r"not available|CUDA device\(s\)") as caught:
            load()
        assert "cpu" in str(caught.value)


# --- the shipped files ---


@pytest.mark.parametrize("name", [*gh.models.PRETRAINED.values(), gh.classifier.CLASSIFIER_WEIGHTS])
def test_shipped_files_carry_a_valid_checksum(name):
    path = gh.models.weights_dir() / name
    raw = torch.load(path, map_location="cpu", weights_only=True)
    saved = raw.pop(CHECKSUM_KEY)
    assert saved.startswith("sha256:") and saved == gh.checkpoints.checksum(raw)
    assert raw["format"] in (gh.models.WEIGHTS_FORMAT, gh.classifier.CLASSIFIER_FORMAT)


# --- fuzz: flipped bytes anywhere either load the identical state or raise CheckpointError ---


def _state_of(run: gh.training.Run) -> dict[str, Any]:
    """Everything a loaded run holds, as plain data and tensors."""
    return {
        "G": run.G.state_dict(),
        "D": run.D.state_dict(),
        "G_class": type(run.G).__name__,
        "D_class": type(run.D).__name__,
        "opt_G": run.opt_G.state_dict(),
        "opt_D": run.opt_D.state_dict(),
        "config": asdict(run.config),
        "history": run.history.state_dict(),
        "fixed_noise": run.fixed_noise,
        "samples": run.samples,
        "sample_epochs": run.sample_epochs,
        "counters": (run.epoch, run.step, run.position, run.seconds, run.interrupted),
        "order": run.order,
        "rng": run.rng_state,
        "settings": run.settings,
    }


def _identical(a: Any, b: Any) -> bool:
    """Deep equality: tensors by dtype, shape and bytes; containers by type and content; NaN equal to NaN."""
    if isinstance(a, torch.Tensor):
        return (
            isinstance(b, torch.Tensor)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bytes(a.contiguous().reshape(-1).view(torch.uint8).numpy())
            == bytes(b.contiguous().reshape(-1).view(torch.uint8).numpy())
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _structure_spans(path: Path) -> list[tuple[int, int]]:
    """The parts of a torch file that are not tensor bytes: zip headers, the pickle, the central directory."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        records = sorted(archive.infolist(), key=lambda info: info.header_offset)
    spans, position = [], 0
    for info in records:
        start = _data_offset(path, info)
        if "/data/" in info.filename and not info.filename.endswith(".pkl"):
            spans.append((position, start))  # the header before a tensor's bytes
            position = start + info.file_size
    spans.append((position, size))  # the pickle, the small records and the central directory
    return [(a, b) for a, b in spans if b > a]


def test_fuzz_flipped_bytes_load_the_identical_state_or_raise_checkpoint_error(checkpoint, tmp_path):
    original = _state_of(gh.training.load_run(checkpoint))
    data = checkpoint.read_bytes()
    rng = random.Random(20261201)
    spans = _structure_spans(checkpoint)
    cases = [rng.sample(range(len(data)), rng.randint(1, 8)) for _ in range(200)]  # anywhere in the file
    for _ in range(150):  # and where parsing can go wrong: headers, the pickle, the central directory
        start, end = rng.choice(spans)
        cases.append([rng.randrange(start, end) for _ in range(rng.randint(1, 8))])
    outcomes = {"identical": 0, "refused": 0}
    path = tmp_path / "checkpoint.pt"
    started = time.perf_counter()
    for index, positions in enumerate(cases):
        mutated = bytearray(data)
        for position in positions:
            mutated[position] ^= rng.randint(1, 255)
        _write(path, bytes(mutated))
        try:
            loaded = gh.training.load_run(path)
        except CheckpointError as exc:
            assert not _advises_unsafe(str(exc)), f"case {index} ({positions})"
            outcomes["refused"] += 1
            continue
        assert _identical(_state_of(loaded), original), f"case {index}: flipped {positions} loaded a different state"
        outcomes["identical"] += 1
    print(f"{len(cases)} cases in {time.perf_counter() - started:.1f} s: {outcomes}")
    assert outcomes["refused"] > len(cases) // 2  # most flips hit tensor bytes or the pickle
