"""A JupyterLab server and a headless Chromium driven by Playwright, for the browser tests.

The server runs on 127.0.0.1 with a random token, in fast mode, on a *copy* of the notebooks
(JupyterLab autosaves: the committed notebooks must never be written by a test). The browser is
Debian's Chromium (Playwright cannot download its own offline); ``$GAN_HELPERS_CHROMIUM`` names
another executable.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ENV = "GAN_HELPERS_CHROMIUM"
REQUIRED_ENV = "GAN_HELPERS_BROWSER_TESTS"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """The Chromium executable to drive: ``$GAN_HELPERS_CHROMIUM``, else the first of the usual paths."""
    named = os.environ.get(CHROMIUM_ENV, "").strip()
    if named:
        return named if Path(named).is_file() else None
    found = [path for path in CHROMIUM_CANDIDATES if Path(path).is_file()]
    return found[0] if found else shutil.which("chromium")


def missing_requirements() -> list[str]:
    """What the browser tests need and this machine lacks, each with how to get it."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright (pip install -e '.[browser]')")
    if chromium_path() is None:
        missing.append(f"Chromium (apt-get install chromium, or set ${CHROMIUM_ENV})")
    return missing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: its base URL, token, the folder it serves and its log file."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def notebook_url(self, name: str) -> str:
        return f"{self.url}lab/tree/{name}?token={self.token}&reset"

    def file_url(self, relative: str) -> str:
        return f"{self.url}files/{relative}?token={self.token}"


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer at {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def lab_server(root: Path, env: dict[str, str] | None = None) -> Iterator[LabServer]:
    """Start ``jupyter lab`` serving ``root`` on 127.0.0.1 (fast mode); stop it on exit."""
    token = secrets.token_hex(16)
    port = _free_port()
    log = root.parent / f"jupyterlab-{port}.log"
    settings = root.parent / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    # No "would you like to get notified about news?" toast over the page.
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root.parent / 'lab-workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    full_env = {**os.environ, "GAN_HELPERS_FAST": "1", **(env or {})}
    with log.open("w") as log_file:
        process = subprocess.Popen(command, cwd=root, env=full_env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(f"{url}api/status?token={token}", process, log)
        yield LabServer(url, token, root, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def non_white_fraction(png: bytes, threshold: int = 245) -> float:
    """The share of pixels of a PNG that are not (near) white: about 0 for a blank figure."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()  # 256 counts of grey levels
    return sum(histogram[:threshold]) / max(1, sum(histogram))
