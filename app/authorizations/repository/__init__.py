"""AuthorizationRepository: every read is scoped to the calling client (None = admin, all clients).

Repositories add and flush; they never commit (the caller's unit of work does).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from app.domain.codes import AuthorizationStatus
from app.domain.model import Identifier
from app.store.models import Authorization, AuthorizationIdentifier, AuthorizationItem, CoverageAssertion, Event

_MAX_REPLACEMENT_CHAIN = 100


class AuthorizationRepository:
    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.session = session
        self.client_id = client_id

    def _scoped(self, statement: Select[Authorization]) -> Select[Authorization]:
        if self.client_id is not None:
            statement = statement.where(Authorization.client_id == self.client_id)
        return statement

    async def get(self, authorization_id: uuid.UUID, *, with_items: bool = True) -> Authorization | None:
        statement = self._scoped(select(Authorization).where(Authorization.id == authorization_id))
        if with_items:
            statement = statement.options(selectinload(Authorization.items))
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_for_update(self, authorization_id: uuid.UUID) -> Authorization | None:
        """The row locked for the rest of the transaction (PostgreSQL; SQLite serializes writers anyway)."""
        statement = self._scoped(select(Authorization).where(Authorization.id == authorization_id))
        statement = statement.options(selectinload(Authorization.items)).with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_bundle_identifier(self, bundle_identifier: str) -> Authorization | None:
        statement = self._scoped(select(Authorization).where(Authorization.bundle_identifier == bundle_identifier))
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_claim_identifier(self, claim_identifier: str) -> Authorization | None:
        """The first authorization submitted with this Claim identifier (updates carry their own)."""
        statement = self._scoped(
            select(Authorization)
            .where(Authorization.claim_identifier == claim_identifier)
            .options(selectinload(Authorization.items))
            .order_by(Authorization.created_at)
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def current(self, authorization: Authorization) -> Authorization:
        """Follow `replaced_by_id` to the authorization's current version."""
        seen = 0
        while authorization.replaced_by_id is not None and seen < _MAX_REPLACEMENT_CHAIN:
            following = await self.get(authorization.replaced_by_id)
            if following is None:
                break
            authorization, seen = following, seen + 1
        return authorization

    async def search_current(
        self,
        *,
        member_id: str | None = None,
        provider_identifiers: Sequence[str] = (),
        payer_id: str | None = None,
        claim_identifiers: Sequence[str] = (),
        preauth_ref: str | None = None,
        product_codes: Sequence[str] = (),
        serviced_from: date | None = None,
        serviced_to: date | None = None,
        limit: int = 50,
    ) -> list[Authorization]:
        """Current (not replaced) authorizations matching every given criterion, newest first."""
        conditions: list[Any] = [Authorization.replaced_by_id.is_(None)]
        if member_id is not None:
            conditions.append(Authorization.patient_member_id == member_id)
        if provider_identifiers:
            conditions.append(Authorization.provider_identifier.in_(provider_identifiers))
        if payer_id is not None:
            conditions.append(Authorization.payer_id == payer_id)
        if claim_identifiers:
            # An update's answer stands for the original Claim too: match the whole chain's identifiers.
            earlier = select(Authorization.id).where(Authorization.claim_identifier.in_(claim_identifiers))
            conditions.append(
                or_(Authorization.claim_identifier.in_(claim_identifiers), Authorization.replaces_id.in_(earlier))
            )
        if preauth_ref is not None:
            conditions.append(Authorization.id.in_(_replacements_of_number(preauth_ref)))
        item_conditions: list[Any] = []
        if product_codes:
            item_conditions.append(AuthorizationItem.product_code.in_(product_codes))
        if serviced_from is not None:
            item_conditions.append(
                or_(AuthorizationItem.serviced_end.is_(None), AuthorizationItem.serviced_end >= serviced_from)
            )
        if serviced_to is not None:
            item_conditions.append(
                or_(AuthorizationItem.serviced_start.is_(None), AuthorizationItem.serviced_start <= serviced_to)
            )
        if item_conditions:
            conditions.append(
                exists().where(and_(AuthorizationItem.authorization_id == Authorization.id, *item_conditions))
            )
        statement = self._scoped(
            select(Authorization)
            .where(*conditions)
            .options(selectinload(Authorization.items))
            .order_by(Authorization.updated_at.desc(), Authorization.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def granted_items(
        self,
        member_id: str,
        codes: Sequence[str],
        *,
        statuses: Sequence[str],
        not_granted: Sequence[str],
        now: datetime,
    ) -> list[tuple[str, date | None, date | None, str, uuid.UUID]]:
        """(code, serviced start, serviced end, reference, id) of items granted to the member, in one query.

        Only current, unexpired authorizations in one of `statuses`; items not cancelled and
        not decided with one of `not_granted`.
        """
        statement = (
            select(
                AuthorizationItem.product_code,
                AuthorizationItem.serviced_start,
                AuthorizationItem.serviced_end,
                Authorization.preauth_ref,
                Authorization.id,
            )
            .join(Authorization, AuthorizationItem.authorization_id == Authorization.id)
            .where(
                Authorization.patient_member_id == member_id,
                Authorization.replaced_by_id.is_(None),
                Authorization.status.in_(statuses),
                or_(Authorization.expires_at.is_(None), Authorization.expires_at > now),
                AuthorizationItem.product_code.in_(codes),
                AuthorizationItem.cancelled.is_(False),
                or_(AuthorizationItem.decision_code.is_(None), AuthorizationItem.decision_code.not_in(not_granted)),
            )
        )
        if self.client_id is not None:
            statement = statement.where(Authorization.client_id == self.client_id)
        rows = await self.session.execute(statement)
        return [(code, start, end, ref or str(auth_id), auth_id) for code, start, end, ref, auth_id in rows]

    def add(self, authorization: Authorization) -> None:
        self.session.add(authorization)

    def add_patient_identifiers(
        self, authorization: Authorization, patient: Sequence[Identifier], member: Identifier | None
    ) -> None:
        """The patient's identifiers and the member id (with its system, when it has one), for token search."""
        roles = [("patient", found) for found in dict.fromkeys(patient)]
        roles += [("member", member)] if member is not None else []
        self.session.add_all(
            AuthorizationIdentifier(
                authorization_id=authorization.id,
                client_id=authorization.client_id,
                role=role,
                system=found.system or None,
                value=found.value,
            )
            for role, found in roles
        )

    def record_event(
        self,
        authorization: Authorization,
        type_: str,
        at: datetime,
        *,
        from_status: AuthorizationStatus | None = None,
        to_status: AuthorizationStatus | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Event:
        event = Event(
            authorization_id=authorization.id,
            client_id=authorization.client_id,
            type=type_,
            at=at,
            from_status=from_status,
            to_status=to_status,
            detail=detail,
        )
        self.session.add(event)
        return event

    async def link_assertions(
        self,
        authorization_id: uuid.UUID,
        now: datetime,
        *,
        assertion_ids: Sequence[str] = (),
        satisfied_pa_ids: Sequence[str] = (),
    ) -> list[str]:
        """Link the client's CRD coverage assertions a $submit names (by assertion id or satisfied-pa-id); the ids."""
        if not assertion_ids and not satisfied_pa_ids:
            return []
        statement = select(CoverageAssertion).where(
            or_(
                CoverageAssertion.id.in_(list(assertion_ids)),
                CoverageAssertion.satisfied_pa_id.in_(list(satisfied_pa_ids)),
            ),
        )
        if self.client_id is not None:
            statement = statement.where(CoverageAssertion.client_id == self.client_id)
        linked: list[str] = []
        for assertion in (await self.session.execute(statement)).scalars():
            assertion.authorization_id = authorization_id
            assertion.linked_at = now
            linked.append(assertion.id)
        return sorted(linked)


def _replacements_of_number(number: str) -> Select[tuple[uuid.UUID]]:
    """The ids of the authorizations that carry `number` (REF-NT preAuthRef, or an item's REF-BB number)
    and of every later version that replaced them (PAS spec-47: an inquiry by a replaced number answers
    the current authorization, under its new number)."""
    carries = or_(
        Authorization.preauth_ref == number,
        exists().where(
            and_(
                AuthorizationItem.authorization_id == Authorization.id, AuthorizationItem.authorization_number == number
            )
        ),
    )
    chain = select(Authorization.id, Authorization.replaced_by_id).where(carries).cte("number_chain", recursive=True)
    later = aliased(Authorization)
    chain = chain.union_all(select(later.id, later.replaced_by_id).where(later.id == chain.c.replaced_by_id))
    return select(chain.c.id)
