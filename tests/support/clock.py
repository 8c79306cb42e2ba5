"""Clocks tests move by hand, so nothing waits for real time to pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Callable like `app.jobs.repository.utc_now`; `advance` moves it forward."""

    def __init__(self, start: datetime = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> datetime:
        self.at += delta
        return self.at


class MovableClock:
    """Callable like `Runtime.clock`, starting at 2030-05-02 12:00 UTC; `now` is public, `advance` moves it."""

    def __init__(self) -> None:
        self.now = datetime(2030, 5, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
