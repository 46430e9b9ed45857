"""When a plan change must be confirmed before it takes numbers away (issue 14): a plan that
leaves the tenant no number, or drops more than a few at once, is far more often a mistake (an
empty or truncated body, the wrong file) than an intent, and it makes every call to those numbers
"unallocated" at once."""

from __future__ import annotations

from collections.abc import Collection

MAX_UNCONFIRMED_REMOVALS = 5  # numbers one plan may drop without a confirmation


def removal_needs_confirmation(before: Collection[str], after: Collection[str]) -> list[str]:
    """The numbers that would go, when their removal must be confirmed; else []."""
    gone = sorted(set(before) - set(after))
    if gone and (not after or len(gone) > MAX_UNCONFIRMED_REMOVALS):
        return gone
    return []
