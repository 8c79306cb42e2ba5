"""The statements of the CMS-0057-F report: SQL aggregates over `authorizations` (and `appeals`).

Population: the current version of every request (an updated request counts once, as its
replacement) received in `[start, end)`, optionally one payer's, scoped to a client unless the
caller is an admin. Statuses map to the regulation's columns:

    approved            approved, modified, expired (an expired authorization had been approved)
    partially_approved  partially-approved
    denied              denied
    pended              received, pended (no decision yet)
    cancelled           cancelled
    not_required        not-required
    info_requested      info-requested (the payer waits for documents: no decision yet)

A request that was appealed counts by the decision it had when first appealed (the `appeals` row
keeps it), so its first decision stays in the figures above; its latest appeal counts here:

    appealed               every appealed request (the payer reviewing it, or decided)
    approved_after_appeal  the latest appeal was approved (overturned)
    denied_after_appeal    the latest appeal was denied (upheld)

`information_requests` counts the requests for which the payer asked for documents at some point
(PAS communicationRequest / CDex Task), whatever their status now.

Decision times (decided_at - received_at) are taken over the decided requests; median and p90 are
nearest-rank percentiles (the value at rank ceil(p*n)), `percentile_disc` on PostgreSQL and the same
ranks from window functions on SQLite. A decision is late past 72 hours (expedited) or 7 calendar
days (standard), the regulation's windows. Every level (by payer, kind and priority; by payer; over
everything) is one statement on PostgreSQL (GROUPING SETS), one statement per level on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.clocks import EXPEDITED_WINDOW, STANDARD_WINDOW
from app.store.durations import seconds_between
from app.store.models import Appeal, Authorization

STATUS_COLUMNS: dict[str, tuple[str, ...]] = {
    "approved": ("approved", "modified", "expired"),
    "partially_approved": ("partially-approved",),
    "denied": ("denied",),
    "pended": ("received", "pended"),
    "cancelled": ("cancelled",),
    "not_required": ("not-required",),
    "info_requested": ("info-requested",),
}
# Over the latest appeal's state ("submitted" while the payer reviews it, else its outcome).
APPEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "appealed": ("submitted", "approved", "denied"),
    "approved_after_appeal": ("approved",),
    "denied_after_appeal": ("denied",),
}
DECIDED = (*STATUS_COLUMNS["approved"], *STATUS_COLUMNS["partially_approved"], *STATUS_COLUMNS["denied"])
LEVELS: dict[str, tuple[str, ...]] = {
    "groups": ("payer_id", "kind", "priority"),
    "payers": ("payer_id",),
    "total": (),
}


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: datetime
    end: datetime
    payer_id: str | None = None
    client_id: str | None = None  # None: every client (an admin)


def _base(query: ReportQuery, dialect: str) -> Select[Any]:
    a = Authorization
    first_appealed = (
        select(Appeal.appealed_status)
        .where(Appeal.authorization_id == a.id)
        .order_by(Appeal.submitted_at)
        .limit(1)
        .scalar_subquery()
    )
    latest_appeal = (
        select(func.coalesce(Appeal.outcome, "submitted"))
        .where(Appeal.authorization_id == a.id)
        .order_by(Appeal.submitted_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    status = func.coalesce(first_appealed, a.status)  # the decision as first made
    decided = status.in_(DECIDED) & a.decided_at.is_not(None)
    seconds = case((decided, seconds_between(a.decided_at, a.received_at, dialect)), else_=None)
    window = case((a.priority == "expedited", EXPEDITED_WINDOW.total_seconds()), else_=STANDARD_WINDOW.total_seconds())
    conditions: list[ColumnElement[bool]] = [
        a.received_at >= query.start,
        a.received_at < query.end,
        a.replaced_by_id.is_(None),
    ]
    if query.payer_id is not None:
        conditions.append(a.payer_id == query.payer_id)
    if query.client_id is not None:
        conditions.append(a.client_id == query.client_id)
    return select(
        a.payer_id.label("payer_id"),
        a.kind.label("kind"),
        a.priority.label("priority"),
        status.label("status"),
        latest_appeal.label("appeal"),
        seconds.label("seconds"),
        literal(1).label("one"),
        window.label("window"),
        case((a.info_request.is_not(None), 1), else_=0).label("asked"),
    ).where(and_(*conditions))


def _counts(rows: Any) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = [func.count().label("requests")]
    for name, statuses in STATUS_COLUMNS.items():
        columns.append(func.coalesce(func.sum(case((rows.c.status.in_(statuses), 1), else_=0)), 0).label(name))
    for name, states in APPEAL_COLUMNS.items():
        columns.append(func.coalesce(func.sum(case((rows.c.appeal.in_(states), 1), else_=0)), 0).label(name))
    columns.append(func.coalesce(func.sum(rows.c.asked), 0).label("information_requests"))
    columns.append(func.count(rows.c.seconds).label("decided"))
    late = case((rows.c.seconds > rows.c.window, 1), else_=0)
    columns.append(func.coalesce(func.sum(late), 0).label("late_decisions"))
    columns.append(func.max(rows.c.seconds).label("max_seconds"))
    return columns


def _postgres(base: Select[Any]) -> Select[Any]:
    """All three levels in one scan: GROUPING SETS, the level told by GROUPING()."""
    rows = base.subquery("r")
    median = func.percentile_disc(0.5).within_group(rows.c.seconds).label("median_seconds")
    p90 = func.percentile_disc(0.9).within_group(rows.c.seconds).label("p90_seconds")
    keys = [rows.c[k] for k in LEVELS["groups"]]
    level = func.grouping(*keys).label("level")
    sets = text("GROUPING SETS ((r.payer_id, r.kind, r.priority), (r.payer_id), ())")
    return select(level, *keys, *_counts(rows), median, p90).group_by(sets).order_by(level, *keys)


def _sqlite(base: Select[Any], keys: tuple[str, ...]) -> Select[Any]:
    inner = base.subquery("b")
    partition = [inner.c[k] for k in keys] + [inner.c.seconds.is_(None)]
    ranked = select(
        *inner.c,
        func.row_number().over(partition_by=partition, order_by=inner.c.seconds).label("rank"),
        func.count(inner.c.seconds).over(partition_by=[inner.c[k] for k in keys]).label("ranked"),
    ).subquery("r")

    def nearest_rank(p: float, label: str) -> ColumnElement[Any]:
        hit = and_(ranked.c.seconds.is_not(None), ranked.c.rank >= p * ranked.c.ranked)
        return func.min(case((hit, ranked.c.seconds), else_=None)).label(label)

    group = [ranked.c[k] for k in keys]
    statement = select(*group, *_counts(ranked), nearest_rank(0.5, "median_seconds"), nearest_rank(0.9, "p90_seconds"))
    return statement.group_by(*group).order_by(*group) if group else statement


# GROUPING(payer_id, kind, priority): 0 for a full group, 0b011 for a payer total, 0b111 for the grand total.
_GROUPING_LEVEL = {0: "groups", 3: "payers", 7: "total"}


async def rows_by_level(session: AsyncSession, query: ReportQuery) -> dict[str, list[Row[Any]]]:
    """The report's rows of each of LEVELS, in order, each with the columns of its level's keys, the
    counts, and median_seconds, p90_seconds and max_seconds."""
    dialect = session.get_bind().dialect.name
    levels: dict[str, list[Row[Any]]] = {level: [] for level in LEVELS}
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '64MB'"))  # the percentile sorts stay in memory
        for values in await session.execute(_postgres(_base(query, dialect))):
            levels[_GROUPING_LEVEL[values._mapping["level"]]].append(values)
    else:
        for level, keys in LEVELS.items():
            levels[level] = list(await session.execute(_sqlite(_base(query, dialect), keys)))
    return levels
