"""Decision clocks (CMS-0057-F) and approval expiry, as pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.domain.codes import AuthorizationStatus, Priority
from app.domain.model import Period

EXPEDITED_WINDOW = timedelta(hours=72)
STANDARD_WINDOW = timedelta(days=7)
DRUG_EXPEDITED_WINDOW = timedelta(hours=24)  # medical-benefit drugs (CMS-0062-P as proposed)
DRUG_STANDARD_WINDOW = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class DecisionWindows:
    """How long a payer has to decide; configurable per payer."""

    expedited: timedelta = EXPEDITED_WINDOW
    standard: timedelta = STANDARD_WINDOW
    drug_expedited: timedelta = DRUG_EXPEDITED_WINDOW
    drug_standard: timedelta = DRUG_STANDARD_WINDOW

    def for_priority(self, priority: Priority) -> timedelta:
        return self.expedited if priority is Priority.EXPEDITED else self.standard

    def for_item(self, priority: Priority, *, drug: bool) -> timedelta:
        """The window of one item: the drug windows for a drug, else the medical-service ones."""
        if not drug:
            return self.for_priority(priority)
        return self.drug_expedited if priority is Priority.EXPEDITED else self.drug_standard


def decision_due(received_at: datetime, priority: Priority, windows: DecisionWindows = DecisionWindows()) -> datetime:
    return received_at + windows.for_priority(priority)


def is_overdue(due_at: datetime | None, status: AuthorizationStatus, now: datetime) -> bool:
    return due_at is not None and status.is_open and now >= due_at


def expiry(periods: Iterable[Period | None]) -> datetime | None:
    """When an approval expires: the end (23:59:59.999999 UTC) of the last authorized period."""
    ends = [p.end for p in periods if p is not None and p.end is not None]
    if not ends:
        return None
    return datetime.combine(max(ends), time.max, tzinfo=UTC)


def approval_expiry(periods: Sequence[Period], *, start: date, validity: timedelta) -> datetime | None:
    """When an approval expires: the end of its last authorized period, else (no item has one) the end
    of `validity` counted from `start`."""
    return expiry(periods or [Period(start, start + validity)])


def authorized_span(periods: Sequence[Period]) -> Period | None:
    """From the earliest start to the latest end of authorized periods (ClaimResponse.preAuthPeriod)."""
    if not periods:
        return None
    starts: list[date] = [p.start for p in periods if p.start is not None]
    ends: list[date] = [p.end for p in periods if p.end is not None]
    return Period(min(starts) if starts else None, max(ends) if ends else None)


def expiring_soon_at(expires_at: datetime, lead: timedelta) -> datetime:
    """When the "expiring soon" event fires, `lead` ahead of expiry."""
    return expires_at - lead


# Appeal deadlines: 72 hours expedited, 30 calendar days standard, the pre-service timeframes of
# Medicare Advantage reconsiderations (42 CFR 422.590, 422.584) and Medicaid managed care appeals
# (42 CFR 438.408(b)); payers configure their own (`appeal_*` in the payers file).
APPEAL_EXPEDITED_WINDOW = timedelta(hours=72)
APPEAL_STANDARD_WINDOW = timedelta(days=30)
APPEAL_WINDOWS = DecisionWindows(expedited=APPEAL_EXPEDITED_WINDOW, standard=APPEAL_STANDARD_WINDOW)
