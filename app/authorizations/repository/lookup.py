"""`$submit`'s one look-up before its write: a replay, a reused Claim identifier and duplicate items at once.

One narrow statement (a UNION ALL of up to three parts, ids, codes and dates only: no documents) answers
what a new request must know before it is stored:
- tag 0: the authorization stored with this Bundle identifier (the request is a replay, or reuses it);
- tag 1: authorizations submitted with this Claim identifier (a duplicate Claim);
- tag 2: the items granted to the member for the requested codes (active, current, unexpired
  authorizations), from which the pre-submission check finds duplicates.
The duplicates part starts from the member's authorizations (a MATERIALIZED common table expression
over the member index) and only then joins their items, so a planner without statistics (a fresh
PostgreSQL database) cannot start from the items of a common code instead.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String, any_, bindparam, cast, literal_column, not_, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from app.authorizations.repository import AuthorizationRepository
from app.store.models import Authorization, AuthorizationItem

_BUNDLE, _CLAIM, _GRANTED = 0, 1, 2

GrantedItem = tuple[str, date | None, date | None, str, uuid.UUID]
"""(code, serviced start, serviced end, reference, authorization id) of an item granted to the member."""


@dataclass(frozen=True, slots=True)
class GrantedQuery:
    """What the duplicates part asks: the member's items of these codes, granted and still active."""

    member_id: str
    codes: Sequence[str]
    statuses: Sequence[str]
    not_granted: Sequence[str]
    now: datetime


@dataclass(frozen=True, slots=True)
class SubmissionLookup:
    replay_of: uuid.UUID | None = None  # stored with the same Bundle identifier
    claim_used_by: uuid.UUID | None = None  # submitted with the same Claim identifier
    granted: list[GrantedItem] = field(default_factory=list)


def _tagged(tag: int, authorization_id: Any) -> list[Any]:
    return [literal_column(str(tag), Integer).label("tag"), authorization_id.label("authorization_id")]


def _no_item() -> list[Any]:
    return [
        cast(null(), String).label("code"),
        cast(null(), Date).label("serviced_start"),
        cast(null(), Date).label("serviced_end"),
        cast(null(), String).label("reference"),
    ]


def _among(column: Any, name: str, arrays: bool) -> Any:
    """`column IN (the list bound as name)`: on PostgreSQL `= ANY` of one array parameter, so the statement's
    text is the same whatever the list's length (an expanding `IN` is rewritten for every execution)."""
    if arrays:
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


@functools.cache
def _statement(claim: bool, granted: bool, scoped: bool, arrays: bool = False) -> Any:
    """The look-up for one shape (built once per shape: a `$submit` only binds its values); `arrays`: the
    lists are bound as arrays (PostgreSQL)."""

    def mine(*conditions: Any) -> list[Any]:
        return [*conditions, *([Authorization.client_id == bindparam("client_id")] if scoped else [])]

    parts: list[Any] = [
        select(*_tagged(_BUNDLE, Authorization.id), *_no_item()).where(
            *mine(Authorization.bundle_identifier == bindparam("bundle_identifier"))
        )
    ]
    if claim:
        parts.append(
            select(*_tagged(_CLAIM, Authorization.id), *_no_item()).where(
                *mine(Authorization.claim_identifier == bindparam("claim_identifier"))
            )
        )
    if granted:
        members = (
            select(Authorization.id, Authorization.preauth_ref)
            .where(
                *mine(
                    Authorization.patient_member_id == bindparam("member_id"),
                    Authorization.replaced_by_id.is_(None),
                    _among(Authorization.status, "statuses", arrays),
                    or_(Authorization.expires_at.is_(None), Authorization.expires_at > bindparam("now")),
                )
            )
            .cte("member_authorizations")
            .prefix_with("MATERIALIZED")
        )
        item = AuthorizationItem
        parts.append(
            select(
                *_tagged(_GRANTED, members.c.id),
                item.product_code.label("code"),
                item.serviced_start.label("serviced_start"),
                item.serviced_end.label("serviced_end"),
                members.c.preauth_ref.label("reference"),
            )
            .join_from(members, item, item.authorization_id == members.c.id)
            .where(
                _among(item.product_code, "codes", arrays),
                item.cancelled.is_(False),
                or_(
                    item.decision_code.is_(None),
                    not_(_among(item.decision_code, "not_granted", arrays)),
                ),
            )
        )
    return union_all(*parts) if len(parts) > 1 else parts[0]


async def submission_lookup(
    repository: AuthorizationRepository,
    bundle_identifier: str,
    claim_identifier: str | None,
    granted: GrantedQuery | None,
) -> SubmissionLookup:
    """The replay, the Claim identifier's earlier use and the member's granted items, in one statement."""
    values: dict[str, Any] = {"bundle_identifier": bundle_identifier, "client_id": repository.client_id}
    if claim_identifier is not None:
        values["claim_identifier"] = claim_identifier
    wants_granted = granted is not None and bool(granted.codes)
    if granted is not None and wants_granted:
        values |= {
            "member_id": granted.member_id,
            "codes": list(granted.codes),
            "statuses": list(granted.statuses),
            "not_granted": list(granted.not_granted),
            "now": granted.now,
        }
    arrays = repository.session.get_bind().dialect.name == "postgresql"
    statement = _statement(claim_identifier is not None, wants_granted, repository.client_id is not None, arrays)
    replay_of: uuid.UUID | None = None
    claim_used_by: uuid.UUID | None = None
    found: list[GrantedItem] = []
    rows: Sequence[Any] = (await repository.session.execute(statement, values)).all()
    for tag, authorization_id, code, start, end, reference in rows:
        if tag == _BUNDLE:
            replay_of = authorization_id
        elif tag == _CLAIM:
            claim_used_by = claim_used_by or authorization_id
        else:
            found.append((code, start, end, reference or str(authorization_id), authorization_id))
    return SubmissionLookup(replay_of, claim_used_by, found)
