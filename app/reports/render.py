"""The report as JSON (nested, with rates) and as CSV (one line per group, payer total and grand total)."""

from __future__ import annotations

import csv
import io
from typing import Any

from app.reports.prior_auth import APPEAL_COLUMNS, STATUS_COLUMNS, PriorAuthReport, ReportRow

ALL = "*"
CSV_COLUMNS = (
    "payer",
    "kind",
    "priority",
    "requests",
    *STATUS_COLUMNS,
    *APPEAL_COLUMNS,
    "information_requests",
    "decided",
    "approval_rate",
    "denial_rate",
    "median_decision_seconds",
    "p90_decision_seconds",
    "max_decision_seconds",
    "late_decisions",
)


def row_dict(row: ReportRow) -> dict[str, Any]:
    return {
        "payer": row.payer,
        "kind": row.kind,
        "priority": row.priority,
        "requests": row.requests,
        **{name: getattr(row, name) for name in (*STATUS_COLUMNS, *APPEAL_COLUMNS)},
        "information_requests": row.information_requests,
        "decided": row.decided,
        "approval_rate": row.approval_rate,
        "denial_rate": row.denial_rate,
        "median_decision_seconds": row.median_decision_seconds,
        "p90_decision_seconds": row.p90_decision_seconds,
        "max_decision_seconds": row.max_decision_seconds,
        "late_decisions": row.late_decisions,
    }


def report_json(report: PriorAuthReport) -> dict[str, Any]:
    query = report.query
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "payer": query.payer_id,
        "windows": {"expedited_hours": 72, "standard_days": 7},
        "total": row_dict(report.total),
        "payers": [row_dict(row) for row in report.payers],
        "groups": [row_dict(row) for row in report.groups],
    }


def report_csv(report: PriorAuthReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in [*report.groups, *report.payers, report.total]:
        values = row_dict(row)
        for key in ("payer", "kind", "priority"):
            values[key] = values[key] if values[key] is not None else ALL
        writer.writerow({k: "" if v is None else v for k, v in values.items()})
    return buffer.getvalue()
