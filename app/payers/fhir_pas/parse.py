"""A payer's PAS response (ClaimResponse Bundle) read into a `PayerReply` by plain dict walking.

Where PAS puts the decision of an item:

    ClaimResponse.item[].adjudication[].extension[extension-reviewAction]   (PAS 2.x)
        .extension[extension-reviewActionCode].valueCodeableConcept   X12 306 (A1 A2 A3 A4 A6 C CT NA)
        .extension[number].valueString                                 authorization number
        .extension[reasonCode].valueCodeableConcept                    X12 886 / payer reason
    ClaimResponse.item[].extension[extension-itemPreAuthPeriod].valuePeriod
    ClaimResponse.addItem[] (itemSequence, productOrService, quantity)  the authorized version (A6)

Older payers put extension-reviewAction on the item itself; that is read too.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from app.domain.codes import X12_306_SYSTEM, ReviewAction
from app.domain.model import Coding, ItemDecision, PayerReply, Period, PriorAuthRequest
from app.payers.bounds import check_reply_fits
from app.payers.errors import PayerProtocolError, PayerRejected
from app.payers.fhir_pas.information import information_request
from app.payers.fhir_pas.outcome import issues_from_operation_outcome

Json = dict[str, Any]

REVIEW_ACTION = "extension-reviewAction"
REVIEW_ACTION_CODE = "extension-reviewActionCode"
ITEM_PREAUTH_PERIOD = "extension-itemPreAuthPeriod"


def _ext(element: Json, suffix: str) -> list[Json]:
    found = []
    for ext in element.get("extension") or ():
        if isinstance(ext, dict) and str(ext.get("url", "")).rsplit("/", 1)[-1] == suffix:
            found.append(ext)
    return found


def _codings(concept: Any) -> tuple[Coding, ...]:
    if not isinstance(concept, dict):
        return ()
    return tuple(
        Coding(system=c.get("system"), code=str(c["code"]), display=c.get("display"))
        for c in concept.get("coding") or ()
        if isinstance(c, dict) and c.get("code")
    )


def _period(value: Any) -> Period | None:
    if not isinstance(value, dict):
        return None
    try:
        start = date.fromisoformat(value["start"][:10]) if value.get("start") else None
        end = date.fromisoformat(value["end"][:10]) if value.get("end") else None
    except (TypeError, ValueError) as exc:
        raise PayerProtocolError("payer sent a period that is not a date") from exc
    return Period(start=start, end=end)


def _quantity(value: Any) -> Decimal | None:
    if not isinstance(value, dict) or value.get("value") is None:
        return None
    try:
        return Decimal(str(value["value"]))
    except InvalidOperation as exc:
        raise PayerProtocolError("payer sent a quantity that is not a number") from exc


def _review_action(element: Json) -> tuple[ReviewAction, str | None, tuple[Coding, ...], str | None] | None:
    """(action, authorization number, reason codes, reason text) from the first reviewAction found."""
    holders = [element, *[a for a in element.get("adjudication") or () if isinstance(a, dict)]]
    for holder in holders:
        for review in _ext(holder, REVIEW_ACTION):
            code_ext = next(iter(_ext(review, REVIEW_ACTION_CODE) or _ext(review, "reviewActionCode")), None)
            if code_ext is None:
                continue
            codes = [c for c in _codings(code_ext.get("valueCodeableConcept")) if c.system in (None, X12_306_SYSTEM)]
            if not codes:
                raise PayerProtocolError("payer sent a reviewAction without an X12 306 code")
            try:
                action = ReviewAction(codes[0].code)
            except ValueError as exc:
                raise PayerProtocolError(f"payer sent an unknown X12 306 code {codes[0].code!r}") from exc
            number = next((e.get("valueString") for e in _ext(review, "number")), None)
            reasons: list[Coding] = []
            texts: list[str] = []
            for reason in _ext(review, "reasonCode"):
                concept = reason.get("valueCodeableConcept")
                reasons.extend(_codings(concept))
                if isinstance(concept, dict) and concept.get("text"):
                    texts.append(str(concept["text"]))
            text = "; ".join(texts) or next((c.display for c in reasons if c.display), None)
            return action, number, tuple(reasons), text
    return None


def _item_period(element: Json) -> Period | None:
    return next((_period(e.get("valuePeriod")) for e in _ext(element, ITEM_PREAUTH_PERIOD)), None)


def _decisions(claim_response: Json) -> dict[int, ItemDecision]:
    decisions: dict[int, ItemDecision] = {}
    for item in claim_response.get("item") or ():
        if not isinstance(item, dict) or not isinstance(item.get("itemSequence"), int):
            raise PayerProtocolError("payer sent a ClaimResponse item without an itemSequence")
        found = _review_action(item)
        if found is None:
            continue
        action, number, reasons, text = found
        decisions[item["itemSequence"]] = ItemDecision(
            sequence=item["itemSequence"],
            action=action,
            reason_codes=reasons,
            reason_text=text,
            authorization_number=number,
            authorized_period=_item_period(item),
        )
    for added in claim_response.get("addItem") or ():
        if not isinstance(added, dict):
            continue
        service = next(iter(_codings(added.get("productOrService"))), None)
        found = _review_action(added)
        for sequence in added.get("itemSequence") or ():
            base = decisions.get(sequence) or ItemDecision(sequence=sequence, action=ReviewAction.MODIFIED)
            decisions[sequence] = ItemDecision(
                sequence=sequence,
                action=found[0] if found else base.action,
                reason_codes=base.reason_codes or (found[2] if found else ()),
                reason_text=base.reason_text or (found[3] if found else None),
                authorization_number=base.authorization_number or (found[1] if found else None),
                authorized_quantity=_quantity(added.get("quantity")),
                authorized_period=_item_period(added) or base.authorized_period,
                authorized_service=service,
            )
    return decisions


def _unwrap(document: Any) -> Json:
    """The Bundle, also when a payer wraps it in Parameters (`return`)."""
    if isinstance(document, dict) and document.get("resourceType") == "Parameters":
        for parameter in document.get("parameter") or ():
            if isinstance(parameter, dict) and parameter.get("name") == "return":
                return _unwrap(parameter.get("resource"))
        raise PayerProtocolError("payer answered Parameters without a 'return' Bundle")
    if not isinstance(document, dict):
        raise PayerProtocolError("payer answered JSON that is not a FHIR resource")
    if document.get("resourceType") == "OperationOutcome":
        raise PayerRejected("payer answered with an OperationOutcome", issues=issues_from_operation_outcome(document))
    if document.get("resourceType") != "Bundle":
        raise PayerProtocolError(f"payer answered a {document.get('resourceType')!r}, not a Bundle")
    return document


def parse_response(body: bytes, request: PriorAuthRequest, retry_after: timedelta | None = None) -> PayerReply:
    """The payer's answer as a PayerReply; PayerProtocolError when it cannot be understood or does not fit."""
    try:
        return _parse(body, request, retry_after)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        # An element of an unexpected JSON type somewhere: an answer we cannot read, like any other.
        raise PayerProtocolError(
            f"the payer's answer has an element of an unexpected type ({type(exc).__name__})"
        ) from exc


def _parse(body: bytes, request: PriorAuthRequest, retry_after: timedelta | None) -> PayerReply:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayerProtocolError("payer answered with a body that is not JSON") from exc
    bundle = _unwrap(document)
    entries = bundle.get("entry") or []
    first = entries[0].get("resource") if entries and isinstance(entries[0], dict) else None
    if not isinstance(first, dict) or first.get("resourceType") != "ClaimResponse":
        kind = first.get("resourceType") if isinstance(first, dict) else "nothing"
        raise PayerProtocolError(f"the payer's Bundle starts with {kind!r}, not a ClaimResponse")
    decisions = _decisions(first)
    if not decisions and first.get("outcome") == "queued":
        decisions = {i.sequence: ItemDecision(sequence=i.sequence, action=ReviewAction.PENDED) for i in request.items}
    if not decisions:
        raise PayerProtocolError("the payer's ClaimResponse carries no item decisions")
    identifiers = [i.get("value") for i in first.get("identifier") or () if isinstance(i, dict) and i.get("value")]
    reply = PayerReply(
        decisions=tuple(decisions[s] for s in sorted(decisions)),
        payer_reference=identifiers[0] if identifiers else first.get("id"),
        preauth_ref=first.get("preAuthRef"),
        preauth_period=_period(first.get("preAuthPeriod")),
        retry_after=retry_after if any(d.action is ReviewAction.PENDED for d in decisions.values()) else None,
        disposition=first.get("disposition"),
        raw=document,
        information_request=information_request(bundle, first),
    )
    return check_reply_fits(reply)
