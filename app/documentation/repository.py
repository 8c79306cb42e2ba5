"""Every statement on `questionnaire_errors` (adds in the caller's transaction, reads scoped by client)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import QuestionnaireError


async def add_error_report(
    session: AsyncSession,
    client_id: str,
    questionnaires: Sequence[str],
    issues: Sequence[dict[str, Any]],
    received_at: datetime,
) -> None:
    session.add(
        QuestionnaireError(
            client_id=client_id, questionnaires=list(questionnaires), issues=list(issues), received_at=received_at
        )
    )
    await session.flush()


async def recent_error_reports(session: AsyncSession, client_id: str | None, limit: int) -> list[QuestionnaireError]:
    """The newest reports first (a client's own, or every client's for None)."""
    query = select(QuestionnaireError).order_by(QuestionnaireError.received_at.desc(), QuestionnaireError.id.desc())
    if client_id is not None:
        query = query.where(QuestionnaireError.client_id == client_id)
    return list((await session.scalars(query.limit(limit))).all())
