"""Information requests (PAS 2.2.1 + CDex): the timeline entry that says what a payer asked for.

The aggregate decides what an answer that asks for documents does to the status (`info-requested`,
its due time); this names the request on the timeline, once, when it is news.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.changes import TimelineEntry
from app.domain.codes import AuthorizationStatus as S
from app.domain.model import InformationRequest


def information_entries(now: datetime, information: InformationRequest | None, after: S) -> tuple[TimelineEntry, ...]:
    """The `info-requested` entry (codes, due time, questionnaire, text) of a request that left the status so."""
    if information is None or after is not S.INFO_REQUESTED:
        return ()
    detail: dict[str, Any] = {
        "codes": [f"{c.system or ''}|{c.code}" for c in information.codes],
        "due_at": information.due_at.isoformat() if information.due_at else None,
    }
    if information.questionnaire:
        detail["questionnaire"] = information.questionnaire
    if information.text:
        detail["text"] = information.text
    return (TimelineEntry("info-requested", now, detail=detail),)
