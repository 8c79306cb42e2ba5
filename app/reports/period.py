"""The period a report covers: dates mean midnight UTC, `to` is exclusive, at most five years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.errors import InvalidRequest
from app.reports.prior_auth import ReportQuery

DEFAULT_SPAN = timedelta(days=90)
MAX_SPAN = timedelta(days=5 * 366)


def as_instant(value: date | datetime | None) -> datetime | None:
    """A date means its midnight UTC; a naive datetime is UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def report_query(
    start: datetime | None, end: datetime | None, payer: str | None, client_id: str | None, now: datetime
) -> ReportQuery:
    end = end or now
    start = start or end - DEFAULT_SPAN
    if start >= end:
        raise InvalidRequest("`from` must be before `to`")
    if end - start > MAX_SPAN:
        raise InvalidRequest("a report covers at most five years")
    return ReportQuery(start=start, end=end, payer_id=payer, client_id=client_id)
