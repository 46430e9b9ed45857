"""cancel_and_wait: a stop must finish even when a task survives one cancel (Python 3.11's
wait_for swallows a cancellation that races with its inner future; see orchestrator/aio.py)."""

from __future__ import annotations

import asyncio
import contextlib

from orchestrator.live.aio import cancel_and_wait


async def _swallows_first_cancel(swallowed: list[int]) -> None:
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(1)  # like wait_for returning a result despite the cancel


async def _fails() -> None:
    raise ValueError("a bug")


async def _ignores_cancels_until(release: asyncio.Event) -> None:
    while not release.is_set():
        with contextlib.suppress(asyncio.CancelledError):
            await release.wait()


async def test_a_task_that_swallows_a_cancel_is_cancelled_again() -> None:
    swallowed: list[int] = []
    task = asyncio.create_task(_swallows_first_cancel(swallowed), name="stubborn")
    await asyncio.sleep(0)
    results = await asyncio.wait_for(cancel_and_wait([task], retry_s=0.05), 5)
    assert swallowed == [1]
    assert task.cancelled()
    assert results == [None]


async def test_failures_are_returned_and_a_task_that_never_stops_is_reported() -> None:
    failing = asyncio.create_task(_fails(), name="failing")
    release = asyncio.Event()
    endless = asyncio.create_task(_ignores_cancels_until(release), name="endless")
    await asyncio.sleep(0)
    results = await cancel_and_wait([failing, endless], retry_s=0.05, give_up_s=0.3)
    assert isinstance(results[0], ValueError)
    assert isinstance(results[1], TimeoutError) and "endless" in str(results[1])
    release.set()
    await endless
