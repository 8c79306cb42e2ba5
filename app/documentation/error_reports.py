"""`Questionnaire/$log-questionnaire-errors`: DTR clients report problems with the payers' questionnaires.

Stored without PHI (`app.fhir.dtr_errors` keeps no free text), one row per call, in the request's
unit of work; operations read them back (`GET /dtr/questionnaire-errors`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.documentation.repository import add_error_report, recent_error_reports
from app.fhir.dtr_errors import ReportedErrors
from app.payers.contract import Clock
from app.security.principal import Principal


async def log_questionnaire_errors(
    session: AsyncSession, clock: Clock, principal: Principal, reported: ReportedErrors
) -> int:
    """Store the report; the number of issues kept."""
    await add_error_report(session, principal.client_id, reported.questionnaires, reported.issues, clock())
    return len(reported.issues)


async def questionnaire_error_reports(session: AsyncSession, principal: Principal, limit: int) -> list[dict[str, Any]]:
    """The newest reports (the caller's own unless admin), as plain dicts for the operations API."""
    rows = await recent_error_reports(session, principal.scope_client_id, limit)
    return [
        {
            "id": row.id,
            "client_id": row.client_id,
            "questionnaires": row.questionnaires,
            "issues": row.issues,
            "received_at": row.received_at.isoformat(),
        }
        for row in rows
    ]
