"""CMS-0057-F figures per payer, kind and priority: the report's rows, read by `app.reports.queries`.

What each column counts (population, the statuses behind each column, appeals, information requests,
decision times and late decisions) is written in `app.reports.queries`, beside the statements.

Decided = approved + partially approved + denied; approval rate = (approved + partially approved)
/ decided, denial rate = denied / decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.queries import APPEAL_COLUMNS, LEVELS, STATUS_COLUMNS, ReportQuery, rows_by_level

__all__ = ["APPEAL_COLUMNS", "STATUS_COLUMNS", "PriorAuthReport", "ReportQuery", "ReportRow", "prior_auth_report"]


@dataclass(frozen=True, slots=True)
class ReportRow:
    payer: str | None
    kind: str | None
    priority: str | None
    requests: int
    approved: int
    partially_approved: int
    denied: int
    pended: int
    cancelled: int
    not_required: int
    appealed: int
    approved_after_appeal: int
    denied_after_appeal: int
    info_requested: int
    information_requests: int  # the payer asked for documents (at any time)
    decided: int
    late_decisions: int
    median_decision_seconds: float | None
    p90_decision_seconds: float | None
    max_decision_seconds: float | None

    @property
    def approval_rate(self) -> float | None:
        return round((self.approved + self.partially_approved) / self.decided, 4) if self.decided else None

    @property
    def denial_rate(self) -> float | None:
        return round(self.denied / self.decided, 4) if self.decided else None


@dataclass(frozen=True, slots=True)
class PriorAuthReport:
    query: ReportQuery
    groups: list[ReportRow]
    payers: list[ReportRow]
    total: ReportRow


def _row(values: Any, keys: tuple[str, ...]) -> ReportRow:
    mapping = values._mapping
    return ReportRow(
        payer=mapping["payer_id"] if "payer_id" in keys else None,
        kind=mapping["kind"] if "kind" in keys else None,
        priority=mapping["priority"] if "priority" in keys else None,
        requests=int(mapping["requests"]),
        **{name: int(mapping[name]) for name in (*STATUS_COLUMNS, *APPEAL_COLUMNS)},
        information_requests=int(mapping["information_requests"]),
        decided=int(mapping["decided"]),
        late_decisions=int(mapping["late_decisions"]),
        median_decision_seconds=_seconds(mapping["median_seconds"]),
        p90_decision_seconds=_seconds(mapping["p90_seconds"]),
        max_decision_seconds=_seconds(mapping["max_seconds"]),
    )


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


async def prior_auth_report(session: AsyncSession, query: ReportQuery) -> PriorAuthReport:
    """By (payer, kind, priority), by payer and over everything: one statement on PostgreSQL, three on SQLite."""
    levels = await rows_by_level(session, query)
    rows = {level: [_row(values, keys) for values in levels[level]] for level, keys in LEVELS.items()}
    return PriorAuthReport(query=query, groups=rows["groups"], payers=rows["payers"], total=rows["total"][0])
