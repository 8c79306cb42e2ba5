"""OperationOutcome rendering (plain dicts) for `app.errors.Issue` lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.errors import Issue

_ISSUE_TYPES = frozenset(
    {
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "unknown",
        "expired",
        "forbidden",
        "suppressed",
        "processing",
        "not-supported",
        "duplicate",
        "multiple-matches",
        "not-found",
        "deleted",
        "too-long",
        "code-invalid",
        "extension",
        "too-costly",
        "business-rule",
        "conflict",
        "transient",
        "lock-error",
        "no-store",
        "exception",
        "timeout",
        "incomplete",
        "throttled",
        "informational",
    }
)


def issue_entry(issue: Issue) -> dict[str, Any]:
    """One OperationOutcome.issue for `issue` (an unknown issue-type code becomes `processing`)."""
    entry: dict[str, Any] = {
        "severity": issue.severity,
        "code": issue.code if issue.code in _ISSUE_TYPES else "processing",
        "details": {"text": issue.text},
    }
    if issue.expression:
        entry["expression"] = [issue.expression]
    return entry


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    """An OperationOutcome listing `issues` (each with details.text and its FHIRPath expression).

    An empty list renders a single informational "ok" issue, since FHIR requires at least one.
    """
    rendered = [issue_entry(issue) for issue in issues]
    if not rendered:
        rendered = [{"severity": "information", "code": "informational", "details": {"text": "ok"}}]
    return {"resourceType": "OperationOutcome", "issue": rendered}
