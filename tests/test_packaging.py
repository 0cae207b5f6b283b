"""The two install routes agree, and CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# Packages that exist only on one side by design: conda needs python and pip; the project
# installs itself; torch comes from pip (pinned) in both routes.
ONLY_CONDA = {"python", "pip"}


def _name(requirement: str) -> str:
    """The distribution name of a requirement such as ``numpy>=1.26`` (lower case)."""
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_name(r): r.replace(" ", "") for r in reqs}


def environment_requirements() -> dict[str, str]:
    """Requirements under ``dependencies:`` in environment.yml, conda and pip (layout: ``- name>=x``)."""
    found = {}
    in_dependencies = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if not line.startswith((" ", "-")):
            in_dependencies = line.startswith("dependencies:")
            continue
        match = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+[^#:]*?)\s*(#.*)?$", line)
        if in_dependencies and match and not match.group(1).startswith("-e"):
            found[_name(match.group(1))] = match.group(1).replace(" ", "")
    return found


def test_environment_yml_names_the_same_packages_as_pyproject():
    pip_side = pyproject_requirements()
    conda_side = {k: v for k, v in environment_requirements().items() if k not in ONLY_CONDA}
    assert set(pip_side) == set(conda_side), (
        f"only in pyproject.toml: {sorted(set(pip_side) - set(conda_side))}; "
        f"only in environment.yml: {sorted(set(conda_side) - set(pip_side))}"
    )


def test_environment_yml_uses_the_same_version_bounds():
    pip_side = pyproject_requirements()
    for name, spec in environment_requirements().items():
        if name in ONLY_CONDA or name == "torch":
            continue
        assert spec == pip_side[name], f"{name}: environment.yml says {spec}, pyproject.toml says {pip_side[name]}"


def test_torch_pin_agrees_between_makefile_and_environment_yml():
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"TORCH_VERSION \?= (\S+)", makefile).group(1)
    assert f"torch=={pinned}" in (ROOT / "environment.yml").read_text()
    torch_range = pyproject_requirements()["torch"]
    assert torch_range.startswith("torch>="), "pyproject must admit the pinned torch, not pin another"


def test_ci_runs_the_readme_test_command():
    """.ci/run does two things, both written in the README: install Chromium, run the README's test command."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = [line for line in ci.splitlines() if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert command == [
        "apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)",
        "GAN_HELPERS_REAL_MNIST=../shared/data/mnist GAN_HELPERS_BROWSER_TESTS=1 make test",
    ]
    assert "make test" in readme and all(line in readme for line in command)
