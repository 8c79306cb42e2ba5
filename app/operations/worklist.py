"""Worklist queries over authorizations: filters, keyset pages, the few columns a summary needs.

Every query is scoped to a client (`client_id=None`: an admin, every client). Pages are ordered
by (updated_at desc, id desc); the cursor is that pair of the last row, base64url-encoded, so
a page never repeats or skips a row that did not change between requests. Several statuses
become one branch per status (UNION ALL), so each branch walks the (client, status, updated)
index in order instead of sorting every matching row.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority
from app.errors import InvalidRequest
from app.store.models import Authorization, AuthorizationIdentifier, AuthorizationItem, Job

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


def encode_cursor(updated_at: datetime, authorization_id: uuid.UUID) -> str:
    raw = f"{updated_at.isoformat()}|{authorization_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        updated_at, authorization_id = datetime.fromisoformat(when), uuid.UUID(hex=ident)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidRequest("malformed cursor") from None
    if updated_at.tzinfo is None:
        raise InvalidRequest("malformed cursor")
    return updated_at, authorization_id


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
    order = (a.updated_at.desc(), a.id.desc())
    statuses = _statuses(where)
    if statuses is None:
        conditions.append(false())
        statuses = []
    if len(statuses) <= 1:
        if statuses:
            conditions.append(a.status == statuses[0])
        inner = select(*SUMMARY_COLUMNS).where(*conditions).order_by(*order).limit(limit).subquery()
    else:
        branches = [
            select(*SUMMARY_COLUMNS).where(*conditions, a.status == status).order_by(*order).limit(limit).subquery()
            for status in statuses
        ]
        inner = union_all(*(select(branch) for branch in branches)).subquery()
    count = (
        select(func.count())
        .select_from(AuthorizationItem)
        .where(AuthorizationItem.authorization_id == inner.c.id)
        .scalar_subquery()
    )
    return select(inner, count.label("item_count")).order_by(inner.c.updated_at.desc(), inner.c.id.desc()).limit(limit)


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


async def queued_job(session: AsyncSession, authorization_id: uuid.UUID, kind: str) -> Job | None:
    """The next queued job of this kind for the authorization (the follow-up, for polling hints)."""
    statement = (
        select(Job)
        .where(Job.authorization_id == authorization_id, Job.kind == kind, Job.state == "queued")
        .order_by(Job.run_at)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class TokenCriterion:
    """A FHIR token search value: `value` (any system), `system|value`, or `|value` (no system)."""

    system: str | None  # None: any system; "": no system
    value: str

    @classmethod
    def parse(cls, token: str) -> TokenCriterion:
        system, bar, value = token.partition("|")
        return cls(system, value) if bar else cls(None, token)


@dataclass(frozen=True, slots=True)
class ClaimResponseSearch:
    """What `GET /fhir/ClaimResponse` asks for (every given criterion must hold)."""

    identifier: TokenCriterion | None = None
    patient: TokenCriterion | None = None  # patient.identifier: a Patient identifier or the member id


@dataclass(frozen=True, slots=True)
class ClaimResponsePage:
    rows: list[Authorization]
    total: int
    next_cursor: str | None


def _like_suffix(value: str) -> str:
    return "%|" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _response_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _identifier_condition(token: TokenCriterion, response_system: str) -> ColumnElement[bool]:
    """ClaimResponse.identifier (its own id), the Claim's identifier it answers, or an authorization number."""
    a = Authorization
    numbers = or_(
        a.preauth_ref == token.value,
        select(AuthorizationItem.id)
        .where(AuthorizationItem.authorization_id == a.id, AuthorizationItem.authorization_number == token.value)
        .exists(),
    )
    own = _response_id(token.value)
    if token.system is None:
        found = [a.claim_identifier.like(_like_suffix(token.value), escape="\\"), numbers]
        return or_(*found, a.id == own) if own else or_(*found)
    if token.system == "":
        return or_(a.claim_identifier == f"|{token.value}", numbers)
    claim = a.claim_identifier == f"{token.system}|{token.value}"
    return or_(claim, a.id == own) if own and token.system == response_system else claim


def _patient_condition(token: TokenCriterion, client_id: str | None) -> ColumnElement[bool]:
    """One of the patient's identifiers (the Patient's own, or the member id) matches the token."""
    i = AuthorizationIdentifier
    found: list[ColumnElement[bool]] = [i.authorization_id == Authorization.id, i.value == token.value]
    if client_id is not None:
        found.append(i.client_id == client_id)  # the (client, value) index
    if token.system == "":
        found.append(i.system.is_(None))
    elif token.system is not None:
        found.append(i.system == token.system)
    return select(i.id).where(*found).exists()


def _claim_response_conditions(
    client_id: str | None, search: ClaimResponseSearch, response_system: str
) -> list[ColumnElement[bool]]:
    a = Authorization
    found: list[ColumnElement[bool]] = [
        a.replaced_by_id.is_(None),
        a.response_document.is_not(None),
        a.response_status == 200,
    ]
    if client_id is not None:
        found.append(a.client_id == client_id)
    if search.identifier is not None:
        found.append(_identifier_condition(search.identifier, response_system))
    if search.patient is not None:
        found.append(_patient_condition(search.patient, client_id))
    return found


async def search_claim_responses(
    session: AsyncSession,
    *,
    client_id: str | None,
    search: ClaimResponseSearch,
    response_system: str,
    cursor: str | None,
    limit: int,
) -> ClaimResponsePage:
    """One page of current ClaimResponses (newest first, keyset cursor as for worklists) and the exact total."""
    a = Authorization
    conditions = _claim_response_conditions(client_id, search, response_system)
    total = int((await session.execute(select(func.count()).select_from(a).where(*conditions))).scalar_one())
    if limit <= 0:
        return ClaimResponsePage([], total, None)
    if cursor is not None:
        updated_at, authorization_id = decode_cursor(cursor)
        conditions.append(tuple_(a.updated_at, a.id) < tuple_(updated_at, authorization_id))
    statement = select(a).where(*conditions).order_by(a.updated_at.desc(), a.id.desc()).limit(limit + 1)
    rows = list((await session.execute(statement)).scalars().all())
    page = rows[:limit]
    more = len(rows) > limit and bool(page)
    return ClaimResponsePage(page, total, encode_cursor(page[-1].updated_at, page[-1].id) if more else None)
