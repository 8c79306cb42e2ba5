"""The operations read model: worklists over authorizations, and one authorization's page.

Every query is scoped to a client (`client_id=None`: an admin, every client); the lifecycle
(`app.authorizations`) writes these tables, this room only reads them.

Worklists: filters, keyset pages, the few columns a summary needs. Pages are ordered by
(updated_at desc, id desc); the cursor is that pair of the last row, so a page never repeats or
skips a row that did not change between requests. Several statuses become one branch per status
(UNION ALL), so each branch walks the (client, status, updated) index in order instead of sorting
every matching row. One authorization: the row with its items (not its documents), its timeline,
its appeals and the documents sent for it (metadata only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, tuple_, union, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority
from app.operations.queries.flagged import EVENT_MARGIN, failing_delivery, flagged
from app.store.models import (
    Appeal,
    AppealDocument,
    Attachment,
    Authorization,
    AuthorizationItem,
    Event,
    Job,
    WebhookDelivery,
)
from app.store.pages import decode_cursor, encode_cursor

MAX_PAGE = 200
OPEN_STATUSES = tuple(s.value for s in AuthorizationStatus if s.is_open)  # received, pended, info-requested

SUMMARY_COLUMNS = (
    Authorization.id,
    Authorization.status,
    Authorization.kind,
    Authorization.priority,
    Authorization.payer_id,
    Authorization.received_at,
    Authorization.due_at,
    Authorization.decided_at,
    Authorization.expires_at,
    Authorization.updated_at,
    Authorization.version,
    Authorization.replaces_id,
    Authorization.replaced_by_id,
)


@dataclass(frozen=True, slots=True)
class AuthorizationFilter:
    """What a worklist asks for; every given criterion must hold."""

    statuses: Sequence[str] = ()
    payer_id: str | None = None
    kind: str | None = None
    priority: str | None = None
    overdue: bool | None = None
    expiring_before: datetime | None = None
    updated_since: datetime | None = None
    member_id: str | None = None
    provider_identifier: str | None = None
    include_replaced: bool = False
    attention_before: datetime | None = None  # needs attention: see _needs_attention


@dataclass(frozen=True, slots=True)
class SummaryRow:
    id: uuid.UUID
    status: AuthorizationStatus
    kind: AuthorizationKind
    priority: Priority
    payer_id: str
    received_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    expires_at: datetime | None
    updated_at: datetime
    version: int
    replaces_id: uuid.UUID | None
    replaced_by_id: uuid.UUID | None
    item_count: int

    @classmethod
    def of(cls, authorization: Authorization) -> SummaryRow:
        values = {column.key: getattr(authorization, column.key) for column in SUMMARY_COLUMNS}
        return cls(**values, item_count=len(authorization.items))


@dataclass(frozen=True, slots=True)
class SummaryPage:
    rows: list[SummaryRow]
    next_cursor: str | None


def _conditions(client_id: str | None, where: AuthorizationFilter, now: datetime) -> list[ColumnElement[bool]]:
    a = Authorization
    found: list[ColumnElement[bool]] = []
    if client_id is not None:
        found.append(a.client_id == client_id)
    if not where.include_replaced:
        found.append(a.replaced_by_id.is_(None))
    if where.payer_id is not None:
        found.append(a.payer_id == where.payer_id)
    if where.kind is not None:
        found.append(a.kind == where.kind)
    if where.priority is not None:
        found.append(a.priority == where.priority)
    if where.expiring_before is not None:
        found.append(a.expires_at < where.expiring_before)
    if where.updated_since is not None:
        found.append(a.updated_at >= where.updated_since)
    if where.member_id is not None:
        found.append(a.patient_member_id == where.member_id)
    if where.provider_identifier is not None:
        found.append(a.provider_identifier == where.provider_identifier)
    if where.overdue is True:
        found.append(a.due_at <= now)  # with the open statuses, see _statuses
    elif where.overdue is False:
        found.append(or_(a.status.not_in(OPEN_STATUSES), a.due_at.is_(None), a.due_at > now))
    return found


def _statuses(where: AuthorizationFilter) -> list[str] | None:
    """The statuses to match; None when nothing can (overdue asked of decided statuses only)."""
    wanted = list(dict.fromkeys(where.statuses))
    if where.overdue is True:
        wanted = [s for s in wanted if s in OPEN_STATUSES] if wanted else list(OPEN_STATUSES)
        if not wanted:
            return None
    return wanted


def list_statement(
    client_id: str | None, where: AuthorizationFilter, *, now: datetime, cursor: str | None, limit: int
) -> Select[Any]:
    """The page query (exposed so the benchmark can EXPLAIN exactly what the API runs)."""
    a = Authorization
    conditions = _conditions(client_id, where, now)
    if cursor is not None:
        updated_at, authorization_id = decode_cursor(cursor)
        conditions.append(tuple_(a.updated_at, a.id) < tuple_(updated_at, authorization_id))
    statuses = _statuses(where)
    if statuses is None:
        conditions.append(false())
        statuses = []
    if where.attention_before is None:
        branches = _by_status(conditions, statuses, limit)
    else:
        branches = _needing_attention(conditions, statuses, where.attention_before, limit)
    if len(branches) == 1:
        inner = branches[0].subquery()
    else:  # each branch its own ordered, limited page (an index each); the union is ordered and cut below
        pages = [select(branch.subquery()) for branch in branches]
        inner = (union_all(*pages) if where.attention_before is None else union(*pages)).subquery()
    count = (
        select(func.count())
        .select_from(AuthorizationItem)
        .where(AuthorizationItem.authorization_id == inner.c.id)
        .scalar_subquery()
    )
    return select(inner, count.label("item_count")).order_by(inner.c.updated_at.desc(), inner.c.id.desc()).limit(limit)


def _page(conditions: Sequence[ColumnElement[bool]], limit: int) -> Select[*tuple[Any, ...]]:
    a = Authorization
    page: Select[*tuple[Any, ...]] = select(*SUMMARY_COLUMNS).where(*conditions)
    return page.order_by(a.updated_at.desc(), a.id.desc()).limit(limit)


def _by_status(
    conditions: list[ColumnElement[bool]], statuses: list[str], limit: int
) -> list[Select[*tuple[Any, ...]]]:
    """One page, or with several statuses one page per status (each read from the client-status index)."""
    if len(statuses) <= 1:
        return [_page([*conditions, *(Authorization.status == s for s in statuses)], limit)]
    return [_page([*conditions, Authorization.status == status], limit) for status in statuses]


def _needing_attention(
    conditions: list[ColumnElement[bool]], statuses: list[str], due_before: datetime, limit: int
) -> list[Select[*tuple[Any, ...]]]:
    """Needs attention: open and due before `due_before` (overdue or due soon), one page per open status
    (read from the client-status index), or flagged (`_flagged`: a few authorizations, read by id). A page
    thus costs what the open requests and the flagged few cost, not a look at every authorization; an
    authorization both due and flagged is one row of the union."""
    a = Authorization
    open_statuses = [s for s in (statuses or OPEN_STATUSES) if s in OPEN_STATUSES]
    due = [_page([*conditions, a.status == status, a.due_at < due_before], limit) for status in open_statuses]
    chosen = [a.status.in_(statuses)] if statuses else []
    return [*due, _page([*conditions, *chosen, a.id.in_(flagged())], limit)]


async def list_summaries(
    session: AsyncSession,
    *,
    client_id: str | None,
    where: AuthorizationFilter,
    now: datetime,
    cursor: str | None = None,
    limit: int = 50,
) -> SummaryPage:
    limit = max(1, min(limit, MAX_PAGE))
    statement = list_statement(client_id, where, now=now, cursor=cursor, limit=limit + 1)
    rows = [SummaryRow(**row._mapping) for row in await session.execute(statement)]
    more = len(rows) > limit
    page = rows[:limit]
    return SummaryPage(page, encode_cursor(page[-1].updated_at, page[-1].id) if more and page else None)


@dataclass(frozen=True, slots=True)
class Validator:
    """Just enough of an authorization to answer a conditional GET."""

    version: int
    status: AuthorizationStatus
    replaced: bool


async def validator_of(
    session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None
) -> Validator | None:
    statement = select(Authorization.version, Authorization.status, Authorization.replaced_by_id).where(
        Authorization.id == authorization_id
    )
    if client_id is not None:
        statement = statement.where(Authorization.client_id == client_id)
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else Validator(row.version, row.status, row.replaced_by_id is not None)


async def authorization(
    session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None
) -> Authorization | None:
    """The authorization with its items, without its request and response documents."""
    statement = (
        select(Authorization)
        .where(Authorization.id == authorization_id)
        .options(
            defer(Authorization.request_document),
            defer(Authorization.response_document),
            selectinload(Authorization.items),
        )
    )
    if client_id is not None:
        statement = statement.where(Authorization.client_id == client_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def exists(session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None) -> bool:
    statement = select(Authorization.id).where(Authorization.id == authorization_id)
    if client_id is not None:
        statement = statement.where(Authorization.client_id == client_id)
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def timeline(
    session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None, *, since: datetime | None = None
) -> list[Event]:
    """The authorization's timeline, oldest first; `since` (its receipt) lets PostgreSQL skip older months."""
    statement = select(Event).where(Event.authorization_id == authorization_id).order_by(Event.id)
    if since is not None:
        statement = statement.where(Event.at >= since - EVENT_MARGIN)
    if client_id is not None:
        statement = statement.where(Event.client_id == client_id)
    return list((await session.execute(statement)).scalars())


async def appeals(session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None) -> list[Appeal]:
    """The authorization's appeals, oldest first, with their documents' metadata (not their bytes)."""
    statement = (
        select(Appeal)
        .where(Appeal.authorization_id == authorization_id)
        .options(selectinload(Appeal.documents).options(defer(AppealDocument.content)))
        .order_by(Appeal.submitted_at, Appeal.id)
    )
    if client_id is not None:
        statement = statement.where(Appeal.client_id == client_id)
    return list((await session.execute(statement)).scalars())


async def attachments(session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None) -> list[Attachment]:
    """The documents sent for the authorization, oldest first (their bytes stay unread)."""
    statement = (
        select(Attachment)
        .where(Attachment.authorization_id == authorization_id)
        .options(defer(Attachment.content))
        .order_by(Attachment.id)
    )
    if client_id is not None:
        statement = statement.where(Attachment.client_id == client_id)
    return list((await session.execute(statement)).scalars())


async def status_counts(session: AsyncSession, *, client_id: str | None) -> dict[str, int]:
    """How many current authorizations (not replaced) are in each status."""
    a = Authorization
    statement = select(a.status, func.count()).where(a.replaced_by_id.is_(None)).group_by(a.status)
    if client_id is not None:
        statement = statement.where(a.client_id == client_id)
    return {AuthorizationStatus(status).value: count for status, count in await session.execute(statement)}


@dataclass(slots=True)
class WorklistRow:
    """What the console's worklist adds to a summary: member id, codes, latest entry, what runs next."""

    member_id: str | None = None
    service_codes: list[str] = field(default_factory=list)
    last_event: str | None = None
    last_event_at: datetime | None = None
    next_job: str | None = None  # the soonest queued job's kind (authorization.follow_up, ...)
    next_job_at: datetime | None = None
    next_delivery_at: datetime | None = None
    failing_deliveries: int = 0
    dead_jobs: int = 0


def _latest_events(ids: Sequence[uuid.UUID], oldest: datetime) -> Select[uuid.UUID, str, datetime]:
    """The latest timeline entry of each authorization, read from the months since the oldest receipt."""
    since = oldest - EVENT_MARGIN
    latest = (
        select(func.max(Event.id))
        .where(Event.authorization_id.in_(ids), Event.at >= since)
        .group_by(Event.authorization_id)
    )
    return select(Event.authorization_id, Event.type, Event.at).where(Event.id.in_(latest), Event.at >= since)


async def worklist_rows(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, WorklistRow]:
    """One WorklistRow per id (the ids of one worklist page, already scoped to the client)."""
    rows: dict[uuid.UUID | None, WorklistRow] = {i: WorklistRow() for i in ids}  # job, delivery: optional ids
    if not ids:
        return {}
    a, item, d = Authorization, AuthorizationItem, WebhookDelivery
    oldest: datetime | None = None
    for i, member, received_at in await session.execute(
        select(a.id, a.patient_member_id, a.received_at).where(a.id.in_(ids))
    ):
        rows[i].member_id = member
        oldest = received_at if oldest is None else min(oldest, received_at)
    codes = select(item.authorization_id, item.product_code).where(item.authorization_id.in_(ids))
    for i, code in await session.execute(codes.order_by(item.authorization_id, item.sequence)):
        rows[i].service_codes.append(code)
    if oldest is not None:
        for event_of, kind, at in await session.execute(_latest_events(ids, oldest)):
            rows[event_of].last_event, rows[event_of].last_event_at = kind, at
    dead = select(Job.authorization_id, func.count()).where(Job.authorization_id.in_(ids), Job.state == "dead")
    for job_of, count in await session.execute(dead.group_by(Job.authorization_id)):
        rows[job_of].dead_jobs = count
    queued = select(Job.authorization_id, Job.kind, Job.run_at).where(
        Job.authorization_id.in_(ids), Job.state == "queued"
    )
    for queued_of, job_kind, run_at in await session.execute(queued.order_by(Job.run_at.desc())):
        rows[queued_of].next_job, rows[queued_of].next_job_at = job_kind, run_at  # the soonest last
    pending = select(d.authorization_id, func.min(d.next_attempt_at)).where(
        d.authorization_id.in_(ids), d.state == "pending"
    )
    for delivery_of, next_at in await session.execute(pending.group_by(d.authorization_id)):
        rows[delivery_of].next_delivery_at = next_at
    failing = select(d.authorization_id, func.count()).where(
        failing_delivery(d.authorization_id), d.authorization_id.in_(ids)
    )
    for failing_of, failures in await session.execute(failing.group_by(d.authorization_id)):
        rows[failing_of].failing_deliveries = failures
    return {i: row for i, row in rows.items() if i is not None}
