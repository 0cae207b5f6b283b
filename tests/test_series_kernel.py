"""The series' kernel manager: shutdown without the interrupt that made idle kernels log a KeyboardInterrupt."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from gan_helpers.series import QuietShutdownKernelManager


def _run(coroutine_function):
    """Run a coroutine on a fresh thread's own event loop (whatever loop this thread may be running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()


def test_no_interrupt_while_shutting_down_but_interrupts_otherwise():
    manager = QuietShutdownKernelManager()
    manager.shutting_down = True
    assert _run(manager._async_interrupt_kernel) is None  # nothing sent, nothing raised
    manager.shutting_down = False
    with pytest.raises(RuntimeError, match="No kernel is running"):
        _run(manager._async_interrupt_kernel)
