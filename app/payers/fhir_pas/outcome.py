"""Reading a payer's OperationOutcome into the project's `Issue`s (plain dict walking)."""

from __future__ import annotations

from typing import Any, get_args

import orjson

from app.errors import Issue, Severity

_SEVERITIES: tuple[str, ...] = get_args(Severity)


def issues_from_operation_outcome(resource: dict[str, Any]) -> list[Issue]:
    """The issues of an OperationOutcome resource (one generic issue if it lists none)."""
    issues: list[Issue] = []
    for raw in resource.get("issue") or ():
        if not isinstance(raw, dict):
            continue
        details = raw.get("details") if isinstance(raw.get("details"), dict) else {}
        text = details.get("text") if isinstance(details, dict) else None
        if not text and isinstance(details, dict):
            codings = details.get("coding") or []
            text = next((c.get("display") or c.get("code") for c in codings if isinstance(c, dict)), None)
        text = text or raw.get("diagnostics") or raw.get("code") or "payer reported an issue"
        expressions = raw.get("expression") or raw.get("location") or []
        severity = raw.get("severity")
        issues.append(
            Issue(
                text=str(text),
                code=str(raw.get("code") or "processing"),
                severity=severity if severity in _SEVERITIES else "error",
                expression=str(expressions[0]) if expressions else None,
            )
        )
    return issues or [Issue(text="payer rejected the request without details", code="processing")]


def operation_outcome_issues(body: bytes) -> list[Issue] | None:
    """The issues when `body` is an OperationOutcome, else None."""
    try:
        resource = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
        return None
    return issues_from_operation_outcome(resource)
