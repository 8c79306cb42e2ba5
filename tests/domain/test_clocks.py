from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.clocks import DecisionWindows, decision_due, expiring_soon_at, expiry, is_overdue
from app.domain.codes import AuthorizationStatus, Priority
from app.domain.model import Period

RECEIVED = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("priority", "windows", "due"),
    [
        (Priority.EXPEDITED, DecisionWindows(), RECEIVED + timedelta(hours=72)),
        (Priority.STANDARD, DecisionWindows(), RECEIVED + timedelta(days=7)),
        (Priority.EXPEDITED, DecisionWindows(expedited=timedelta(hours=24)), RECEIVED + timedelta(hours=24)),
        (Priority.STANDARD, DecisionWindows(standard=timedelta(days=14)), RECEIVED + timedelta(days=14)),
    ],
)
def test_decision_due(priority: Priority, windows: DecisionWindows, due: datetime) -> None:
    assert decision_due(RECEIVED, priority, windows) == due


@pytest.mark.parametrize(
    ("status", "now", "overdue"),
    [
        (AuthorizationStatus.PENDED, RECEIVED + timedelta(days=7), True),
        (AuthorizationStatus.PENDED, RECEIVED + timedelta(days=7) - timedelta(seconds=1), False),
        (AuthorizationStatus.RECEIVED, RECEIVED + timedelta(days=8), True),
        (AuthorizationStatus.APPROVED, RECEIVED + timedelta(days=30), False),
    ],
)
def test_is_overdue(status: AuthorizationStatus, now: datetime, overdue: bool) -> None:
    assert is_overdue(RECEIVED + timedelta(days=7), status, now) is overdue


def test_expiry_is_the_end_of_the_last_period() -> None:
    periods = [Period(date(2026, 1, 1), date(2026, 3, 31)), None, Period(date(2026, 1, 1), date(2026, 6, 30))]
    expires = expiry(periods)
    assert expires is not None
    assert expires.date() == date(2026, 6, 30)
    assert expires.tzinfo is UTC
    assert expires + timedelta(microseconds=1) == datetime(2026, 7, 1, tzinfo=UTC)
    assert expiring_soon_at(expires, timedelta(days=14)).date() == date(2026, 6, 16)


def test_no_period_means_no_expiry() -> None:
    assert expiry([None, Period(date(2026, 1, 1), None)]) is None
