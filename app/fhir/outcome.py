"""OperationOutcome rendered as a plain dict from app.errors.Issue values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.errors import Issue


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    """One OperationOutcome listing every issue, with its FHIRPath expression when known."""
    rendered: list[dict[str, Any]] = []
    for issue in issues:
        entry: dict[str, Any] = {
            "severity": issue.severity,
            "code": issue.code,
            "details": {"text": issue.text},
            "diagnostics": issue.text,
        }
        if issue.expression:
            entry["expression"] = [issue.expression]
        rendered.append(entry)
    return {"resourceType": "OperationOutcome", "issue": rendered}
