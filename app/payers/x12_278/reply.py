"""What a decoded 278 response means to the hub: item decisions (`PayerReply`), or the payer's AAA
rejections as issues naming the loop (and the item) they stand in.

Each 2000F answer goes to the item its echoed trace names (`<trace>-<sequence>`), or by position
when the payer echoes no trace; items without a service answer take the event's (2000E) answer.
A response that echoes another request's trace is refused (`X12ProtocolError`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from app.domain.lifecycle import roll_up
from app.domain.model import Coding, ItemDecision, PayerReply, PriorAuthRequest
from app.errors import Issue
from app.payers.x12_278.decode import Answer, Decoded278, Rejection, service_sequence
from app.payers.x12_278.errors import X12ProtocolError
from app.payers.x12_278.tables import tables

LOOP_EXPRESSIONS = {
    "2000A": "Claim.insurer",
    "2010A": "Claim.insurer",
    "2000B": "Claim.provider",
    "2010B": "Claim.provider",
    "2000C": "Claim.insurance[0].coverage",
    "2010C": "Claim.insurance[0].coverage",
    "2000D": "Claim.patient",
    "2010D": "Claim.patient",
    "2000E": "Claim",
    "2010EA": "Claim",
}


@dataclass(frozen=True, slots=True)
class DecisionView:
    """One decision as `epa x12 decode` prints it."""

    sequence: int
    action: str
    authorization_number: str | None
    reason_codes: tuple[str, ...]
    quantity: str | None
    period: tuple[str | None, str | None] | None
    service: str | None


def check_answers(decoded: Decoded278, trace: str | None) -> None:
    """The response answers the request traced `trace` (its BHT03 or a TRN echoes it)."""
    if trace is None:
        return
    if decoded.reference != trace and trace not in decoded.traces:
        raise X12ProtocolError(
            f"the response (ST02 {decoded.transaction_control}) answers another request: no trace matches"
        )


GRANTING = frozenset({"A1", "A2", "A6"})


def _decision(sequence: int, answer: Answer, event: Answer | None, system: str | None = None) -> ItemDecision:
    """A service's own HCR decides alone (a granted one keeps the event's number and dates when it
    has none); a service loop without HCR takes the event's answer."""
    own = answer.action is not None
    action = answer.action if own else (event.action if event else None)
    assert action is not None
    inherit = event if event is not None and (not own or action.value in GRANTING) else None
    reason = answer.reason if own else (event.reason if event else None)
    return ItemDecision(
        sequence=sequence,
        action=action,
        reason_codes=(reason,) if reason else (),
        authorization_number=answer.number or (inherit.number if inherit else None),
        authorized_quantity=answer.quantity if action.value in GRANTING else None,
        authorized_period=answer.period or (inherit.period if inherit else None),
        authorized_service=Coding(system, answer.service.code) if answer.service and action.value == "A6" else None,
    )


def decisions_of(decoded: Decoded278, request: PriorAuthRequest) -> tuple[ItemDecision, ...]:
    """One decision per item the response decides (`X12ProtocolError` when it decides nothing known)."""
    systems = {item.sequence: item.product_or_service.system for item in request.items}
    return decide(decoded, [item.sequence for item in request.items], systems)


def decide(decoded: Decoded278, sequences: list[int], systems: dict[int, str | None]) -> tuple[ItemDecision, ...]:
    """The decisions on the items `sequences` (their code systems in `systems`, for an A6's service)."""
    event = decoded.event if decoded.event and decoded.event.action else None
    by_item: dict[int, Answer] = {}
    for position, service in enumerate(decoded.services):
        sequence = service_sequence(decoded, service)
        if sequence is None and not service.traces and position < len(sequences):
            sequence = sequences[position]
        if sequence not in sequences:
            raise X12ProtocolError(f"a 2000F loop (position {position + 1}) answers no item of the request")
        if service.action is not None or event is not None:
            by_item[sequence] = service
    decisions = [_decision(seq, by_item[seq], event, systems.get(seq)) for seq in sequences if seq in by_item]
    if event is not None:
        decisions.extend(_decision(seq, event, None) for seq in sequences if seq not in by_item)
    if not decisions:
        raise X12ProtocolError("the response carries no HCR decision")
    return tuple(sorted(decisions, key=lambda d: d.sequence))


def to_reply(decoded: Decoded278, request: PriorAuthRequest, *, payer_reference: str | None = None) -> PayerReply:
    """The `PayerReply` of a 278 response without AAA rejections."""
    decisions = decisions_of(decoded, request)
    event = decoded.event
    numbers = (d.authorization_number for d in decisions if d.authorization_number)
    preauth = (event.number if event else None) or next(numbers, None)
    return PayerReply(
        decisions=decisions,
        payer_reference=payer_reference,
        preauth_ref=preauth,
        preauth_period=event.period if event else None,
        raw=decoded,
    )


def rejection_issues(rejections: tuple[Rejection, ...], request: PriorAuthRequest) -> list[Issue]:
    """One issue per AAA: what the payer refused (the loop, as a FHIRPath on the request), the X12
    reject reason (901) and follow-up action (889) codes."""
    issues: list[Issue] = []
    positions = {item.sequence: n for n, item in enumerate(request.items)}
    for rejection in rejections:
        if rejection.loop.startswith("2000F") or rejection.loop.startswith("2010F"):
            index = positions.get(rejection.sequence) if rejection.sequence is not None else None
            expression = f"Claim.item[{index}]" if index is not None else "Claim.item"
        else:
            expression = LOOP_EXPRESSIONS.get(rejection.loop, "Claim")
        issues.append(
            Issue(
                text=(
                    f"the payer refused loop {rejection.loop}: X12 reject reason {rejection.reason or '-'}, "
                    f"follow-up action {rejection.follow_up or '-'}"
                ),
                code="business-rule",
                expression=expression,
            )
        )
    return issues


def summary(decoded: Decoded278) -> dict[str, object]:
    """What a 278 response says, without the request (`epa x12 decode`): the decisions on the items
    its 2000F loops name (by echoed trace, else by position), the whole request's status, the AAAs."""
    sequences = [service_sequence(decoded, s) or n for n, s in enumerate(decoded.services, start=1)]
    rejected = [asdict(r) for r in decoded.rejections]
    event = decoded.event
    decided = (event is not None and event.action is not None) or any(s.action for s in decoded.services)
    decisions = decide(decoded, sequences or [1], {}) if decided else ()
    status = roll_up(d.action for d in decisions).value if decisions else ("rejected" if rejected else "no-decision")
    return {
        "interchange": decoded.interchange.control_number,
        "transaction": decoded.transaction_control,
        "trace": decoded.reference,
        "status": status,
        "authorization_number": event.number if event else None,
        "administrative_reference": event.administrative_reference if event else None,
        "decisions": [asdict(view(d)) for d in decisions],
        "rejections": rejected,
    }


def view(decision: ItemDecision) -> DecisionView:
    period = decision.authorized_period
    return DecisionView(
        sequence=decision.sequence,
        action=decision.action.value,
        authorization_number=decision.authorization_number,
        reason_codes=tuple(c.code for c in decision.reason_codes),
        quantity=str(decision.authorized_quantity) if decision.authorized_quantity is not None else None,
        period=(
            (period.start.isoformat() if period.start else None, period.end.isoformat() if period.end else None)
            if period
            else None
        ),
        service=decision.authorized_service.code if decision.authorized_service else None,
    )


def reason_coding(code: str) -> Coding:
    return Coding(tables().code_systems["reason"], code)
