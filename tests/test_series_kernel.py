"""The series' kernel manager: shutdown without the interrupt that made idle kernels log a KeyboardInterrupt."""

from __future__ import annotations

import asyncio

import pytest

from gan_helpers.series import QuietShutdownKernelManager


def test_no_interrupt_while_shutting_down_but_interrupts_otherwise():
    manager = QuietShutdownKernelManager()
    manager.shutting_down = True
    assert asyncio.run(manager._async_interrupt_kernel()) is None  # nothing sent, nothing raised
    manager.shutting_down = False
    with pytest.raises(RuntimeError, match="No kernel is running"):
        asyncio.run(manager._async_interrupt_kernel())
