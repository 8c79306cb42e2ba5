"""Reads for FHIR clients: `$inquire`, ClaimResponse read and search (token semantics, pages). Scoped to the caller."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from app.authorizations import queries
from app.authorizations.deps import LookupDeps
from app.authorizations.queries import ClaimResponseSearch, TokenCriterion
from app.authorizations.repository import AuthorizationRepository
from app.errors import NotFound
from app.fhir.inquiry import InquiryCriteria
from app.fhir.response import RESPONSE_IDENTIFIER_SYSTEM
from app.security.principal import Principal
from app.store.models import Authorization

__all__ = ["ClaimResponseSearch", "TokenCriterion", "claim_response", "inquire", "search_claim_responses"]


def _response_bundle(authorization: Authorization) -> dict[str, Any] | None:
    if authorization.response_document is None or authorization.response_status != 200:
        return None
    bundle: dict[str, Any] = orjson.loads(authorization.response_document)
    return bundle


async def inquire(deps: LookupDeps, principal: Principal, criteria: InquiryCriteria) -> list[dict[str, Any]]:
    """The current response Bundle of each authorization the inquiry matches (replaced ones: their replacement).

    The caller's own requests match on the criteria. With EPA_INQUIRE_BY_NON_SUBMITTERS, requests
    other clients submitted match too, but only when both the member id and a provider identifier
    are given and equal (PAS lets the provider of record inquire, whoever submitted).
    """
    payer = deps.payers.route(criteria.insurer, criteria.payor)

    async def search(repository: AuthorizationRepository) -> list[Authorization]:
        found = await search_by(repository, [c.key() for c in criteria.claim_identifiers])
        # The inquiry's Claim identifier (required) names the Claim asked about when it is a known one;
        # otherwise it is the inquiry's own trace number and the other criteria decide alone.
        return found or (await search_by(repository, []) if criteria.claim_identifiers else found)

    async def search_by(repository: AuthorizationRepository, claims: list[str]) -> list[Authorization]:
        period = criteria.service_period
        return await repository.search_current(
            member_id=criteria.member_id.value if criteria.member_id else None,
            provider_identifiers=[p.key() for p in criteria.provider],
            payer_id=payer.id,
            claim_identifiers=claims,
            preauth_ref=criteria.authorization_numbers[0] if criteria.authorization_numbers else None,
            product_codes=[c.code for c in criteria.service_codes],
            serviced_from=period.start if period else None,
            serviced_to=period.end if period else None,
        )

    async with deps.sessions() as session:
        rows = await search(AuthorizationRepository(session, principal.scope_client_id))
        others_allowed = deps.settings.inquire_by_non_submitters and principal.scope_client_id is not None
        if others_allowed and criteria.member_id is not None and criteria.provider:
            others = await search(AuthorizationRepository(session, None))
            known = {row.id for row in rows}
            rows += [row for row in others if row.id not in known]
    return [bundle for row in rows if (bundle := _response_bundle(row)) is not None]


def _parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def claim_response(deps: LookupDeps, principal: Principal, claim_response_id: str) -> dict[str, Any]:
    """The ClaimResponse with this id (the authorization id), for the caller only."""
    key = _parse_id(claim_response_id)
    async with deps.sessions() as session:
        row = (
            await AuthorizationRepository(session, principal.scope_client_id).get(key, with_items=False)
            if key
            else None
        )
    bundle = _response_bundle(row) if row is not None else None
    if bundle is None:
        raise NotFound(f"ClaimResponse/{claim_response_id} is not known")
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


async def search_claim_responses(
    deps: LookupDeps,
    principal: Principal,
    search: ClaimResponseSearch,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of the caller's current ClaimResponses matching `search`, the exact total, the next cursor."""
    async with deps.sessions() as session:
        page = await queries.search_claim_responses(
            session,
            client_id=principal.scope_client_id,
            search=search,
            response_system=RESPONSE_IDENTIFIER_SYSTEM,
            cursor=cursor,
            limit=limit,
        )
    resources = [bundle["entry"][0]["resource"] for row in page.rows if (bundle := _response_bundle(row)) is not None]
    return resources, page.total, page.next_cursor
