"""The FHIR read model of the lifecycle: `ClaimResponse?identifier=&patient.identifier=` search.

Token semantics (`value`, `system|value`, `|value`), keyset pages over the current versions of the
caller's authorizations, and an exact total. Scoped to the caller (`client_id=None`: an admin).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import Authorization, AuthorizationIdentifier, AuthorizationItem
from app.store.pages import decode_cursor, encode_cursor


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
