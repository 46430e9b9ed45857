"""Test hook: ``SVC_TEST_CRASH_AT=<step>`` kills the process (SIGKILL, like ``kill -9``) at that
step boundary of an apply, so tests prove the next apply repairs whatever it left behind
(tests/e2e/test_crash_apply.py, docs/apply.md). Unset in production: a no-op."""

from __future__ import annotations

import os
import signal

ENV = "SVC_TEST_CRASH_AT"
# In the order an apply passes them.
STEPS = ("validated", "written", "journaled", "switched", "loaded", "synced", "staged", "committed")


def crash_point(step: str) -> None:
    assert step in STEPS, step
    if os.environ.get(ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
