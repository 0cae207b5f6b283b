"""The command recorded with each shipped GAN, typed again, trains with every setting of its run; the weights
README shows that command, and notebook 05 prints it from the file rather than typing a copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gan_helpers as gh
from gan_helpers import cli

ROOT = Path(__file__).resolve().parents[1]
PATH_FREE = ("dcgan", "mlp", "cdcgan-scratch")  # commands without a path-valued setting (cdcgan's --init-from)


@pytest.mark.parametrize("name", PATH_FREE)
def test_the_recorded_command_gives_the_recorded_settings(name):
    info = gh.models.load_pretrained(name)[2]
    typed = cli.settings_of(info["command"])
    assert typed == {key: info["settings"][key] for key in typed}, f"{name}: the command and the run disagree"
    assert f"`{info['command']}`" in (ROOT / "data" / "weights" / "README.md").read_text(encoding="utf-8")


def test_a_command_missing_one_of_the_runs_flags_is_told_apart():
    info = gh.models.load_pretrained("dcgan")[2]
    for flag in ("--no-download", "--width 32", "--ema-decay 0.999"):
        assert flag in info["command"]
        shorter = cli.settings_of(info["command"].replace(" " + flag, ""))
        assert shorter != {key: info["settings"][key] for key in shorter}, f"dropping {flag} went unnoticed"


def test_settings_of_defaults_and_refusals():
    settings = cli.settings_of("python -m gan_helpers train dcgan --lr 5e-4")
    assert settings["lr"] == 5e-4 and settings["batch_size"] == 64 and settings["width"] == 64
    assert settings["epochs"] == 20 and settings["no_download"] is False
    with pytest.raises(ValueError, match="not a training command"):
        cli.settings_of("python -m gan_helpers series --fast 05")
    with pytest.raises(ValueError, match="--resume"):
        cli.settings_of("python -m gan_helpers train dcgan --resume")


def test_notebook_05_prints_the_shipped_command_instead_of_typing_it():
    cells = json.loads((ROOT / "notebooks" / "05_dcgan_mnist.ipynb").read_text(encoding="utf-8"))["cells"]
    prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "python -m gan_helpers train dcgan" not in prose, "05 types a copy of the command, which can drift"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert 'shipped["command"]' in code and "settings_of(" in code
