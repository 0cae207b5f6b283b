"""Browser tests: skipped with a message when Playwright or Chromium is missing, failed instead when
``$GAN_HELPERS_BROWSER_TESTS=1`` (CI sets it, so CI cannot skip them silently)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from lab import REQUIRED_ENV, chromium_path, missing_requirements


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser``; skip (or fail, when required) if the browser stack is missing."""
    missing = missing_requirements()
    required = os.environ.get(REQUIRED_ENV, "").strip() == "1"
    for item in items:
        if "tests/browser/" not in item.nodeid.replace("\\", "/"):
            continue
        item.add_marker(pytest.mark.browser)
        if missing and not required:
            item.add_marker(pytest.mark.skip(reason=f"browser tests need {' and '.join(missing)}"))


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium to drive; fails (never skips) when ``$GAN_HELPERS_BROWSER_TESTS=1`` and it is missing."""
    missing = missing_requirements()
    if missing:
        pytest.fail(f"{REQUIRED_ENV}=1 but this machine lacks {' and '.join(missing)}")
    path = chromium_path()
    assert path is not None
    return path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright (tests/browser/)")


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    """A headless Chromium for one test module. Module-scoped, not session-scoped: Playwright's sync API
    keeps an event loop running in this thread while it is open, which would break ``asyncio.run`` in
    the tests that follow."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_executable)
        yield chromium
        chromium.close()
