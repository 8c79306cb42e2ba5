"""Continuity of care: an active authorization from the patient's previous plan, carried over.

When a patient changes plans, the new payer honours the old plan's authorization for a transition
window (`carry_over_window_days`, 90 by default, after the 2025 industry commitments). Imported here
(operations API or `epa carried-over import`), it is an authorization of kind `carried-over` that
goes through the aggregate as any other: `received`, then answered A1 by the import itself (timeline
type `carried-over`), approved until the earlier of the old authorization's end and the window's.
The expiry clock then fires `expiring` (`carry_over_warning_days` ahead) and `expired`, as for every
approval.

The resubmission to the new payer is prepared at import: a PAS request Bundle for the same services
(`app.fhir.prepared.resubmission_request`), validated once like any `$submit` and stored as the
authorization's request, so the EHR fetches it and sends it to `Claim/$submit` as it is.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.errors import not_found
from app.authorizations.items import items_for
from app.authorizations.recording import render_document, save, state_of
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.stored import normalized_form
from app.domain.authorization import Authorization as Aggregate
from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority, ReviewAction
from app.domain.model import Identifier, ItemDecision, PayerReply, Period
from app.errors import Conflict, Issue, Unprocessable
from app.fhir.prepared import CarriedService, resubmission_request, window_end
from app.fhir.submit import parse_submit
from app.store.models import Authorization

CARRIED_OVER_SYSTEM = "urn:epa-hub:carried-over"


@dataclass(frozen=True, slots=True)
class CarryOver:
    """What the previous plan authorized, as the practice or operations knows it."""

    payer_id: str  # the new payer (configured), which honours it and gets the resubmission
    previous_payer: str  # the old plan, as named by the practice
    member_id: str  # the member id at the new plan
    services: tuple[CarriedService, ...]
    authorization_number: str  # the old plan's
    period: Period  # what the old plan authorized (start and end)
    provider: Identifier | None = None


@dataclass(frozen=True, slots=True)
class Window:
    length: timedelta
    warning: timedelta  # how far ahead of the window's end `expiring` fires

    @classmethod
    def of_days(cls, length: int, warning: int) -> Window:
        return cls(timedelta(days=length), timedelta(days=warning))


def insurer_of(payer_id: str, patterns: Sequence[tuple[str | None, str]]) -> Identifier:
    """The insurer identifier that routes a request to `payer_id`: its first match pattern, else its id."""
    if patterns:
        system, value = patterns[0]
        return Identifier(system, value)
    return Identifier(None, payer_id)


def _refuse(text: str, expression: str) -> Unprocessable:
    return Unprocessable(text, issues=[Issue(text=text, code="business-rule", expression=expression)])


def _check(request: CarryOver, today: date) -> tuple[date, date]:
    start, end = request.period.start, request.period.end
    if start is None or end is None:
        raise _refuse("the carried-over period needs a start and an end", "period")
    if end < start:
        raise _refuse("the carried-over period ends before it starts", "period.end")
    if end < today:
        raise _refuse("the carried-over authorization has already ended; there is nothing to honour", "period.end")
    return start, end


async def import_carried_over(
    session: AsyncSession,
    request: CarryOver,
    *,
    client_id: str,
    insurer: Identifier,
    now: datetime,
    window: Window,
    base_url: str,
) -> Authorization:
    """Store the carried-over authorization, approved for its window (409 if this client imported it already);
    the stored row, with its items."""
    start, end = _check(request, now.date())
    repository = AuthorizationRepository(session, client_id)
    bundle_key = f"{CARRIED_OVER_SYSTEM}|{request.payer_id}|{request.authorization_number}"
    existing = await repository.by_bundle_identifier(bundle_key)
    if existing is not None:
        raise Conflict(f"authorization {request.authorization_number} was carried over already as {existing.id}")
    honoured_until = window_end(end, now.date(), window.length)
    authorization_id = uuid.uuid4()
    bundle = resubmission_request(
        identifier=f"{authorization_id}-resubmission",
        created=now,
        insurer=insurer,
        member_id=request.member_id,
        provider=request.provider,
        services=request.services,
        period_start=start,
        period_end=end,
        previous_payer=request.previous_payer,
        authorization_number=request.authorization_number,
        honoured_until=honoured_until,
    )
    document = orjson.dumps(bundle)
    parsed = parse_submit(document)  # what the EHR will send must be a valid PAS request
    row = Authorization(
        id=authorization_id,
        client_id=client_id,
        payer_id=request.payer_id,
        bundle_identifier=bundle_key,
        claim_identifier=f"{CARRIED_OVER_SYSTEM}|{request.authorization_number}",
        patient_member_id=request.member_id,
        provider_identifier=request.provider.key() if request.provider else None,
        kind=AuthorizationKind.CARRIED_OVER,
        priority=Priority.STANDARD,
        status=AuthorizationStatus.RECEIVED,
        preauth_ref=request.authorization_number,
        received_at=now,
        created_at=now,
        updated_at=now,
        version=1,
        request_hash=hashlib.sha256(document).hexdigest(),
        request_document=document,
        request_form=normalized_form(parsed),
        response_status=200,
    )
    row.items = items_for(parsed.request)
    repository.add(row)
    try:
        await repository.session.flush()
    except IntegrityError:  # a concurrent import of the same authorization was stored first
        raise Conflict(f"authorization {request.authorization_number} was carried over already") from None
    facts = {
        "previous_payer": request.previous_payer,
        "authorization_number": request.authorization_number,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "honoured_until": honoured_until.isoformat(),
    }
    state, received = Aggregate.received(parsed.request.items, now=now, due_at=None, detail={"carried_over": True})
    save(repository, row, state_of(row), received, items=False)
    authorized = Period(start, honoured_until)
    decisions = {
        item.sequence: ItemDecision(
            item.sequence,
            ReviewAction.CERTIFIED,
            authorization_number=request.authorization_number,
            authorized_quantity=item.quantity,
            authorized_period=authorized,
        )
        for item in parsed.request.items
    }
    state = state_of(row)
    reply = PayerReply(tuple(decisions.values()), preauth_ref=request.authorization_number, preauth_period=authorized)
    change = state.answer(
        decisions, now=now, timeline_type="carried-over", approval_validity=window.length, reply=reply, detail=facts
    )
    save(repository, row, state, change, expiring_lead=window.warning)
    row.response_document = render_document(row, state, parsed, reply=reply, base_url=base_url)
    await repository.session.flush()
    return row


async def resubmission(session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None) -> bytes:
    """The prepared PAS request to the new payer of a carried-over authorization (409 for other kinds)."""
    row = await AuthorizationRepository(session, client_id).get(authorization_id, with_items=False)
    if row is None:
        raise not_found(authorization_id)
    if row.kind is not AuthorizationKind.CARRIED_OVER:
        raise Conflict(f"authorization {row.id} was not carried over from another plan; it has no resubmission")
    return row.request_document
