"""When to try again: the retry schedule with jitter, and the receiver's `Retry-After`."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

JITTER = 0.2  # +-20 % of each delay
MAX_RETRY_AFTER = timedelta(hours=10)


def retry_delay(
    attempts: int, schedule: Sequence[float], *, rng: Callable[[], float] = random.random
) -> timedelta | None:
    """The delay after `attempts` failed tries, or None when the schedule is spent (give up)."""
    if attempts < 1 or attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return timedelta(seconds=max(base * (1 + JITTER * (2 * rng() - 1)), 0.0))


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """`Retry-After` as delta-seconds or an HTTP date, capped; None when absent or malformed."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = when - now
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)
