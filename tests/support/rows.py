"""Pended authorization rows written straight to the store (no payer involved), for tests that need rows
without the lifecycle: notifications, metrics, reports, the console, the operator commands."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority
from app.store.models import Authorization


def make_authorization(client_id: str, now: datetime, *, provider: str | None = None) -> Authorization:
    key = uuid.uuid4().hex
    return Authorization(
        id=uuid.uuid4(),
        client_id=client_id,
        payer_id="sandbox",
        bundle_identifier=f"urn:test|{key}",
        claim_identifier=f"urn:test:claims|{key}",
        provider_identifier=provider,
        kind=AuthorizationKind.PRIOR,
        priority=Priority.STANDARD,
        status=AuthorizationStatus.PENDED,
        received_at=now,
        created_at=now,
        updated_at=now,
        version=1,
        request_hash="0" * 64,
        request_document=b"{}",
        response_status=200,
        items=[],
    )


async def add_authorizations(session: AsyncSession, client_id: str, now: datetime, count: int) -> list[Authorization]:
    rows = [make_authorization(client_id, now) for _ in range(count)]
    session.add_all(rows)
    await session.flush()
    return rows
