"""Every statement of the denial-risk room: the decided history it learns from, and its model versions.

Read in pages (keyset on received_at, id) so a large history never sits in memory as rows; scoped
to one client unless the caller asks for the pooled history (client None). Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.codes import AuthorizationKind, ReviewAction
from app.store.models import Appeal, Attachment, Authorization, AuthorizationItem, RiskModelVersion

DECIDED = (
    ReviewAction.CERTIFIED.value,
    ReviewAction.PARTIAL.value,
    ReviewAction.NOT_CERTIFIED.value,
    ReviewAction.MODIFIED.value,
)


@dataclass(frozen=True, slots=True)
class DecidedRequest:
    id: uuid.UUID
    client_id: str
    payer_id: str
    kind: AuthorizationKind
    received_at: datetime
    request_document: bytes


@dataclass(frozen=True, slots=True)
class DecidedItem:
    sequence: int
    decision_code: str
    reason_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppealOf:
    appealed_status: str
    outcome: str | None


async def decided_requests(
    session: AsyncSession, client_id: str | None, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[DecidedRequest]:
    """The next page of requests with at least one decided item, oldest first (client None: every client)."""
    has_decision = exists().where(
        AuthorizationItem.authorization_id == Authorization.id,
        AuthorizationItem.decision_code.in_(DECIDED),
        AuthorizationItem.cancelled.is_(False),
    )
    statement = select(
        Authorization.id,
        Authorization.client_id,
        Authorization.payer_id,
        Authorization.kind,
        Authorization.received_at,
        Authorization.request_document,
    ).where(has_decision)
    if client_id is not None:
        statement = statement.where(Authorization.client_id == client_id)
    if after is not None:
        at, last = after
        statement = statement.where(
            or_(Authorization.received_at > at, and_(Authorization.received_at == at, Authorization.id > last))
        )
    rows = await session.execute(statement.order_by(Authorization.received_at, Authorization.id).limit(limit))
    return [DecidedRequest(*row) for row in rows]


async def decided_items(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[DecidedItem]]:
    """The decided, not cancelled items of those requests, by request."""
    rows = await session.execute(
        select(
            AuthorizationItem.authorization_id,
            AuthorizationItem.sequence,
            AuthorizationItem.decision_code,
            AuthorizationItem.reason_codes,
        )
        .where(
            AuthorizationItem.authorization_id.in_(list(ids)),
            AuthorizationItem.decision_code.in_(DECIDED),
            AuthorizationItem.cancelled.is_(False),
        )
        .order_by(AuthorizationItem.authorization_id, AuthorizationItem.sequence)
    )
    found: dict[uuid.UUID, list[DecidedItem]] = {}
    for authorization_id, sequence, code, reasons in rows:
        found.setdefault(authorization_id, []).append(DecidedItem(sequence, code or "", tuple(reasons or ())))
    return found


async def attachment_counts(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many documents were sent for each of those requests after it (CDex attachments)."""
    rows = await session.execute(
        select(Attachment.authorization_id, func.count())
        .where(Attachment.authorization_id.in_(list(ids)))
        .group_by(Attachment.authorization_id)
    )
    return {authorization_id: int(count) for authorization_id, count in rows}


async def first_appeals(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AppealOf]:
    """The first appeal of each of those requests: the status appealed and the payer's outcome."""
    rows = await session.execute(
        select(Appeal.authorization_id, Appeal.appealed_status, Appeal.outcome)
        .where(Appeal.authorization_id.in_(list(ids)))
        .order_by(Appeal.authorization_id, Appeal.submitted_at)
    )
    found: dict[uuid.UUID, AppealOf] = {}
    for authorization_id, appealed, outcome in rows:
        found.setdefault(authorization_id, AppealOf(str(appealed), outcome))
    return found


async def client_ids_with_history(session: AsyncSession) -> list[str]:
    """Every client that has at least one request (each gets a model of its own)."""
    rows = await session.scalars(select(Authorization.client_id).distinct().order_by(Authorization.client_id))
    return list(rows)


def _scope(client_id: str | None) -> Any:
    return RiskModelVersion.client_id.is_(None) if client_id is None else RiskModelVersion.client_id == client_id


async def latest_model(session: AsyncSession, client_id: str | None) -> RiskModelVersion | None:
    """The newest model of a client (None: the pooled one)."""
    statement = select(RiskModelVersion).where(_scope(client_id)).order_by(RiskModelVersion.version.desc()).limit(1)
    return await session.scalar(statement)


async def add_model(session: AsyncSession, row: RiskModelVersion) -> None:
    session.add(row)
    await session.flush()


async def drop_versions_before(session: AsyncSession, client_id: str | None, version: int) -> int:
    """Delete the scope's versions older than `version`; returns how many went."""
    result = await session.execute(
        delete(RiskModelVersion).where(_scope(client_id), RiskModelVersion.version < version)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    client_id: str
    payer_id: str
    kind: AuthorizationKind
    status: str
    request_document: bytes


async def stored_request(
    session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None
) -> StoredRequest | None:
    """One request as stored (client None: an admin's read, any client)."""
    statement = select(
        Authorization.client_id,
        Authorization.payer_id,
        Authorization.kind,
        Authorization.status,
        Authorization.request_document,
    ).where(Authorization.id == authorization_id)
    if client_id is not None:
        statement = statement.where(Authorization.client_id == client_id)
    row = (await session.execute(statement)).first()
    return StoredRequest(row[0], row[1], row[2], str(row[3]), row[4]) if row is not None else None


async def recent_outcomes(
    session: AsyncSession, client_id: str, payer_id: str, provider: str, *, since: datetime
) -> tuple[int, int]:
    """(decided, denied) items of the client's requests from `provider` to `payer_id` received since `since`."""
    denied = func.sum(case((AuthorizationItem.decision_code == ReviewAction.NOT_CERTIFIED.value, 1), else_=0))
    row = (
        await session.execute(
            select(func.count(), denied)
            .select_from(AuthorizationItem)
            .join(Authorization, Authorization.id == AuthorizationItem.authorization_id)
            .where(
                Authorization.client_id == client_id,
                Authorization.provider_identifier == provider,
                Authorization.payer_id == payer_id,
                Authorization.received_at >= since,
                AuthorizationItem.decision_code.in_(DECIDED),
                AuthorizationItem.cancelled.is_(False),
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
