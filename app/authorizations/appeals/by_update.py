"""An appeal sent as a PASClaimUpdate: `Claim.related` names the decided request, certificationType
(X12 1322, UM02) is `1` "Appeal - Immediate" (the expedited timeframe) or `2` "Appeal - Standard".

No new authorization is created: the appeal is linked to the current version of the authorization it
names, which becomes `appeal-submitted`, and `$submit` answers with that authorization's PAS response.
The same Bundle again (its `Bundle.identifier`) is a replay and gets the current response.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.authorizations.appeals.repository import AppealRepository
from app.authorizations.appeals.service import AppealRefused, AppealRequest, refusal, submit_appeal
from app.authorizations.deps import PayerCallDeps
from app.authorizations.repository import AuthorizationRepository
from app.domain.codes import X12_1322_APPEAL_IMMEDIATE, X12_1322_APPEALS, AuthorizationStatus
from app.domain.model import PriorAuthRequest
from app.errors import Issue, Unprocessable
from app.fhir.submit import ParsedSubmission
from app.security.principal import Principal

RELATED = "Bundle.entry[0].resource.related[0].claim"


@dataclass(frozen=True, slots=True)
class AppealAnswer:
    authorization_id: uuid.UUID
    body: bytes  # the appealed authorization's PAS response Bundle
    replayed: bool
    payer_id: str
    status: AuthorizationStatus


def is_appeal(request: PriorAuthRequest) -> bool:
    """A PASClaimUpdate whose Claim-level certificationType is an appeal code."""
    return request.related_claim is not None and request.certification_type in X12_1322_APPEALS


def _refused(text: str, code: str = "business-rule") -> Unprocessable:
    return Unprocessable(text, issues=[Issue(text=text, code=code, expression=RELATED)])


async def _answer(
    deps: PayerCallDeps, principal: Principal, authorization_id: uuid.UUID, *, replayed: bool
) -> AppealAnswer:
    async with deps.sessions() as session:
        row = await AuthorizationRepository(session, principal.client_id).get(authorization_id, with_items=False)
    assert row is not None
    assert row.response_document is not None
    return AppealAnswer(authorization_id, row.response_document, replayed, row.payer_id, row.status)


async def appeal_by_update(deps: PayerCallDeps, principal: Principal, parsed: ParsedSubmission) -> AppealAnswer:
    request = parsed.request
    assert request.related_claim is not None
    key = request.bundle_identifier.key()
    async with deps.sessions() as session:
        earlier = await AppealRepository(session, principal.client_id).by_request_identifier(key)
        if earlier is not None:
            authorization_id = earlier.authorization_id
            target = None
        else:
            repository = AuthorizationRepository(session, principal.client_id)
            original = await repository.by_claim_identifier(request.related_claim.key())
            if original is None:
                value = request.related_claim.value
                raise _refused(f"no authorization with Claim identifier {value} to appeal", "not-found")
            target = await repository.current(original)
            authorization_id = target.id
            why = refusal(target)
            if why is not None:
                raise _refused(why)
    if target is None:
        return await _answer(deps, principal, authorization_id, replayed=True)
    appeal = AppealRequest(
        reason=None,
        expedited=request.certification_type == X12_1322_APPEAL_IMMEDIATE,
        channel="pas-update",
        request_identifier=key,
    )
    try:
        await submit_appeal(deps, authorization_id, client_id=principal.client_id, request=appeal)
    except AppealRefused as refused:  # decided or appealed meanwhile
        raise _refused(refused.message) from None
    return await _answer(deps, principal, authorization_id, replayed=False)
