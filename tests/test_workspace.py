"""The student's workspace: created once, never overwritten, restored on request; `make lab`'s command line."""

from __future__ import annotations

import sys

import pytest

from gan_helpers import workspace


@pytest.fixture
def folders(tmp_path):
    source = tmp_path / "notebooks"
    source.mkdir()
    for name in ("00_welcome.ipynb", "02_toy_gan_1d.ipynb"):
        (source / name).write_text(f'{{"committed": "{name}"}}')
    return source, tmp_path / "workspace"


def test_prepare_copies_only_what_the_workspace_lacks(folders):
    source, work = folders
    assert [p.name for p in workspace.prepare(source, work)] == ["00_welcome.ipynb", "02_toy_gan_1d.ipynb"]
    (work / "02_toy_gan_1d.ipynb").write_text("my edits")
    assert workspace.prepare(source, work) == []
    assert (work / "02_toy_gan_1d.ipynb").read_text() == "my edits"


def test_reset_restores_a_notebook_and_keeps_the_old_copy(folders):
    source, work = folders
    workspace.prepare(source, work)
    (work / "02_toy_gan_1d.ipynb").write_text("my edits")
    (work / "00_welcome.ipynb").write_text("other edits")
    restored = workspace.reset(["02"], source, work)
    assert [p.name for p in restored] == ["02_toy_gan_1d.ipynb"]
    assert (work / "02_toy_gan_1d.ipynb").read_text() == (source / "02_toy_gan_1d.ipynb").read_text()
    assert (work / "02_toy_gan_1d.ipynb.bak").read_text() == "my edits"
    assert (work / "00_welcome.ipynb").read_text() == "other edits"  # untouched
    with pytest.raises(ValueError, match="names 0 notebooks"):
        workspace.reset(["09"], source, work)
    with pytest.raises(ValueError, match="NB=02"):
        workspace.reset([], source, work)
    assert len(workspace.reset(["all"], source, work)) == 2


def test_lab_command_allows_root_only_as_root_and_passes_extra_arguments(tmp_path):
    as_root = workspace.lab_command(["--no-browser", "--port", "8899"], tmp_path, is_root=True)
    assert as_root[:5] == [sys.executable, "-m", "jupyter", "lab", str(tmp_path)]
    assert as_root[5:] == ["--allow-root", "--no-browser", "--port", "8899"]
    assert "--allow-root" not in workspace.lab_command([], tmp_path, is_root=False)


def test_environment_warning_names_a_system_python(monkeypatch, tmp_path):
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert "not a virtual or conda environment" in workspace.environment_warning(str(tmp_path), str(tmp_path))
    assert workspace.environment_warning(str(tmp_path / "venv"), str(tmp_path)) is None
    monkeypatch.setenv("CONDA_PREFIX", str(tmp_path))
    assert workspace.environment_warning(str(tmp_path), str(tmp_path)) is None


def test_the_workspace_is_ignored_by_git():
    ignored = (workspace.REPO / ".gitignore").read_text().splitlines()
    assert "workspace/" in ignored and ".venv/" in ignored


def test_check_env_runs_as_a_plain_script_before_anything_is_installed(tmp_path):
    """The Makefile runs the file itself (no package import, so no torch needed) before the first install."""
    import subprocess

    script = workspace.REPO / "gan_helpers" / "workspace.py"
    command = [sys.executable, "-I", str(script), "check-env"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = workspace.environment_warning() or ""
    assert done.stdout.strip() == expected.strip()
