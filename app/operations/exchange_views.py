"""The documents a payer adapter exchanged for an authorization (the raw X12 278s), for admins only.

They are kept in the detail of the timeline entry of the answer they carried (`EXCHANGE_KEY`, see
`app.authorizations.exchanges`); the timeline shows their trace and control numbers, this view the
documents themselves. A 278 carries PHI: the route behind this view needs the admin scope, and
nothing here logs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations import EXCHANGE_KEY, not_found
from app.operations import queries


class ExchangeView(BaseModel):
    """One request sent to the payer and the answer it got, as they went on the wire."""

    type: str = Field(description="The timeline entry the answer made (payer-answered, cancelled, ...).")
    at: datetime
    format: str | None = Field(description="x12-278, or null when the adapter did not say.")
    trace: str | None = Field(description="The TRN trace number the hub sent (TRN02).")
    control_number: int | None = Field(description="The interchange and group control number (ISA13, GS06).")
    request: str = Field(description="The document sent (PHI).")
    response: str = Field(description="The document received (PHI).")
    request_size: int = Field(description="Characters.")
    response_size: int = Field(description="Characters.")


class ExchangeList(BaseModel):
    authorization_id: uuid.UUID
    exchanges: list[ExchangeView] = Field(description="Oldest first.")


def _view(type_: str, at: datetime, detail: dict[str, Any]) -> ExchangeView | None:
    exchange = detail.get(EXCHANGE_KEY)
    if not isinstance(exchange, dict):
        return None
    request, response = str(exchange.get("request") or ""), str(exchange.get("response") or "")
    number = detail.get("control_number")
    return ExchangeView(
        type=type_,
        at=at,
        format=exchange.get("format"),
        trace=detail.get("trace"),
        control_number=number if isinstance(number, int) else None,
        request=request,
        response=response,
        request_size=len(request),
        response_size=len(response),
    )


async def exchanges_of(session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None) -> ExchangeList:
    """The exchanged documents of one authorization, oldest first (404 when unknown)."""
    if not await queries.exists(session, authorization_id, client_id):
        raise not_found(authorization_id)
    views = [
        _view(event.type, event.at, event.detail)
        for event in await queries.timeline(session, authorization_id, client_id)
        if event.detail
    ]
    return ExchangeList(authorization_id=authorization_id, exchanges=[v for v in views if v is not None])
