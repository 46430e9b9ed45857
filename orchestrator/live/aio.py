"""Small asyncio helpers the long-running parts share.

Why ``cancel_and_wait`` re-cancels: on Python 3.11 ``asyncio.wait_for`` swallows a cancellation
that arrives just as its inner future completes (CPython gh-86296, fixed in 3.12), so a loop that
awaits an AMI action can survive one ``cancel()`` and then sleep forever on its next ``get()``.
We no longer use ``wait_for`` ourselves, but libraries may; a stop must not hang on them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger("orchestrator")


async def cancel_and_wait(tasks: Iterable[asyncio.Task[None]], *, retry_s: float = 0.5,
                          give_up_s: float = 10.0) -> list[BaseException | None]:
    """Cancel ``tasks`` and wait until each has finished, cancelling again every ``retry_s`` a task
    that survived. Returns each task's failure (None when it ended by cancellation or normally);
    tasks still running after ``give_up_s`` are named in the log and reported as TimeoutError."""
    tasks = list(tasks)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_s
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(retry_s, max(0.0, deadline - loop.time())))
        if pending and loop.time() >= deadline:
            log.error("task(s) did not stop within %.0f s: %s", give_up_s,
                      ", ".join(sorted(t.get_name() for t in pending)))
            break
        if pending:
            log.warning("task(s) survived a cancel, cancelling again: %s",
                        ", ".join(sorted(t.get_name() for t in pending)))
    results: list[BaseException | None] = []
    for task in tasks:
        if not task.done():
            results.append(TimeoutError(f"{task.get_name()} did not stop"))
        elif task.cancelled():
            results.append(None)
        else:
            results.append(task.exception())
    return results
