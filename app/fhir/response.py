"""The PAS response Bundle for `$submit` (and `$inquire`), built as plain dicts for orjson.

Entry 0 is the ClaimResponse; then the request's Claim with the closure of what it, the patient,
the insurer and the requestor reference (Coverage, Practitioner, ServiceRequest, ...), each
entry copied from the request Bundle exactly once, as sent (same fullUrl, same JSON), in the
request's order. So every reference in the answer resolves to one entry of it, except those
that already pointed outside the request Bundle (docs/ehr-integration.md says why we echo).
One ClaimResponse.item per submitted item.sequence.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from app.domain.codes import X12_UNIT, ReviewAction
from app.domain.model import Coding, InformationRequest, ItemDecision, Period, PriorAuthRequest
from app.errors import Issue
from app.fhir import urls
from app.fhir.elements import as_dict, as_list
from app.fhir.references import BundleIndex, closure

Outcome = Literal["queued", "complete", "error", "partial"]
RESPONSE_IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
PENDED_NOTE = (
    "One or more items are pended for review. Ask for the decision with Claim/$inquire "
    "or subscribe to the PAS Subscription topic to be notified."
)
_DISPLAY = {
    ReviewAction.CERTIFIED: "Certified in total",
    ReviewAction.PARTIAL: "Certified - partial",
    ReviewAction.NOT_CERTIFIED: "Not Certified",
    ReviewAction.PENDED: "Pended",
    ReviewAction.MODIFIED: "Modified",
    ReviewAction.CANCELLED: "Cancelled",
    ReviewAction.CONTACT_PAYER: "Contact Payer",
    ReviewAction.NO_ACTION_REQUIRED: "No Action Required",
}
_APPROVING = frozenset({ReviewAction.CERTIFIED, ReviewAction.PARTIAL, ReviewAction.MODIFIED})


def response_outcome(decisions: Iterable[ItemDecision]) -> Outcome:
    """ClaimResponse.outcome: `partial` while any item is pended (or awaits contact), else `complete`."""
    return "partial" if any(not d.action.is_final for d in decisions) else "complete"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _coding(coding: Coding) -> dict[str, Any]:
    rendered: dict[str, Any] = {"code": coding.code}
    if coding.system:
        rendered["system"] = coding.system
    if coding.display:
        rendered["display"] = coding.display
    return rendered


def _period(period: Period) -> dict[str, str]:
    rendered = {}
    if period.start:
        rendered["start"] = period.start.isoformat()
    if period.end:
        rendered["end"] = period.end.isoformat()
    return rendered


def _review_adjudication(decision: ItemDecision) -> dict[str, Any]:
    code = {"system": urls.X12_306, "code": decision.action.value, "display": _DISPLAY[decision.action]}
    parts: list[dict[str, Any]] = [
        {"url": urls.EXT_REVIEW_ACTION_CODE, "valueCodeableConcept": {"coding": [code]}},
    ]
    if decision.authorization_number:
        parts.append({"url": "number", "valueString": decision.authorization_number})
    x12, unmapped = _reasons(decision)
    if x12 or unmapped or decision.reason_text:
        reason: dict[str, Any] = {}
        if x12:
            reason["coding"] = [_coding(c) for c in x12]
        text = "; ".join(filter(None, [decision.reason_text, *(_coding_text(c) for c in unmapped)]))
        if text:
            reason["text"] = text
        parts.append({"url": "reasonCode", "valueCodeableConcept": reason})
    return {
        "extension": [{"url": urls.EXT_REVIEW_ACTION, "extension": parts}],
        "category": {"coding": [{"system": urls.ADJUDICATION, "code": "submitted"}]},
    }


def _reasons(decision: ItemDecision) -> tuple[list[Coding], list[Coding]]:
    """The reason codes under X12 886 (the reviewAction reasonCode binding, required), and the others: a
    code the payer's code map could not bring to 886 is kept as text, never sent under a wrong system."""
    x12 = [c for c in decision.reason_codes if c.system == urls.X12_886]
    return x12, [c for c in decision.reason_codes if c.system != urls.X12_886]


def _unmapped_note(decision: ItemDecision) -> str | None:
    """The processNote text of an item whose payer reasons are not X12 886 codes."""
    _, unmapped = _reasons(decision)
    if not unmapped:
        return None
    return f"Item {decision.sequence}: payer reason {', '.join(_coding_text(c) for c in unmapped)}"


def _item(decision: ItemDecision, issued: date, notes: list[int]) -> dict[str, Any]:
    extension: list[dict[str, Any]] = []
    if decision.action in _APPROVING and decision.authorized_period is not None:
        extension.append({"url": urls.EXT_ITEM_PREAUTH_PERIOD, "valuePeriod": _period(decision.authorized_period)})
    if decision.action.is_final and decision.action is not ReviewAction.CANCELLED:
        extension.append({"url": urls.EXT_ITEM_PREAUTH_ISSUE_DATE, "valueDate": issued.isoformat()})
    item: dict[str, Any] = {"itemSequence": decision.sequence, "adjudication": [_review_adjudication(decision)]}
    if extension:
        item["extension"] = extension
    if notes:
        item["noteNumber"] = notes
    return item


def _denial_text(decision: ItemDecision) -> str:
    """The processNote text of a denied item: the payer's reason text, else its reason codes."""
    if decision.reason_text:
        return decision.reason_text
    codes = [c.display or c.code if c.system == urls.X12_886 else _coding_text(c) for c in decision.reason_codes]
    return f"Item {decision.sequence} not certified: {', '.join(codes)}"


def uri_identifier(value: str) -> str:
    """`value` as a URI (for identifiers with system urn:ietf:rfc:3986): `urn:uuid:` of it unless it is one."""
    if value.startswith(("urn:", "http://", "https://")):
        return value
    try:
        return f"urn:uuid:{uuid.UUID(value)}"
    except ValueError:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, value)}"


def _add_item(decision: ItemDecision, original: Coding) -> dict[str, Any]:
    added: dict[str, Any] = {
        "itemSequence": [decision.sequence],
        "productOrService": {"coding": [_coding(decision.authorized_service or original)]},
        "adjudication": [_review_adjudication(decision)],
    }
    if decision.authorized_quantity is not None:
        # PAS prof-2/prof-3: a value and a unit (the payer sends a count: X12 `UN`, whatever it wrote)
        added["quantity"] = {
            "value": _number(decision.authorized_quantity),
            "unit": "Unit",
            "system": urls.X12_UNITS,
            "code": X12_UNIT,
        }
    if decision.authorized_period is not None:
        added["servicedPeriod"] = _period(decision.authorized_period)
    return added


def _decision_for(sequence: int, cancelled: bool, decisions: Mapping[int, ItemDecision]) -> ItemDecision:
    found = decisions.get(sequence)
    if found is not None:
        return found
    return ItemDecision(sequence=sequence, action=ReviewAction.CANCELLED if cancelled else ReviewAction.PENDED)


def _meta(profile: str, version_id: str | None, updated: datetime) -> dict[str, Any]:
    meta: dict[str, Any] = {"profile": [profile]}
    if version_id is not None:
        meta = {"versionId": version_id, "lastUpdated": updated.isoformat(), **meta}
    return meta


def _identifier_value(system: str, value: str) -> str:
    return uri_identifier(value) if system == RESPONSE_IDENTIFIER_SYSTEM else value


def _reference(index: BundleIndex, element: Any) -> tuple[dict[str, Any], int | None]:
    """A Reference to the entry `element` designates (by its fullUrl), and that entry's index."""
    reference = as_dict(element).get("reference")
    position = index.index_of(reference, 0) if isinstance(reference, str) else None
    if position is None:
        return {"reference": reference} if isinstance(reference, str) else {}, None
    full_url, resource = index.entries[position]
    return {"reference": full_url or f"{resource.get('resourceType')}/{resource.get('id')}"}, position


def render_response_bundle(
    *,
    request_bundle: dict[str, Any],
    request: PriorAuthRequest,
    claim_response_id: str,
    bundle_identifier: str,
    created: datetime,
    decisions: Mapping[int, ItemDecision],
    preauth_ref: str | None = None,
    preauth_period: Period | None = None,
    disposition: str | None = None,
    warnings: Sequence[Issue] = (),
    outcome: Outcome | None = None,
    identifier_system: str = RESPONSE_IDENTIFIER_SYSTEM,
    full_url: str | None = None,
    version_id: str | None = None,
    information_request: InformationRequest | None = None,
    request_index: BundleIndex | None = None,
) -> dict[str, Any]:
    """The PAS response Bundle (a dict) answering `request` (parsed from `request_bundle`, whose references
    `request_index` resolves when the caller has it already).

    `information_request` (the payer asks for documents) becomes a contained CommunicationRequest
    that `ClaimResponse.communicationRequest` names: what is needed (payload) and by when.

    `decisions` are keyed by item.sequence; a submitted item without one is answered A4 (pended),
    or C when the request cancelled it. `warnings` become ClaimResponse.processNote entries; a
    pended answer adds a note telling the client to use `$inquire` or a Subscription.
    `full_url` is the ClaimResponse entry's fullUrl (default `urn:uuid:<claim_response_id>`).
    `outcome` overrides the computed one (e.g. `error`). `version_id` is the ClaimResponse's
    `meta.versionId` (its `meta.lastUpdated` is `created`). An approval always carries a
    `preAuthRef` (the payer's, else the first item authorization number, else the ClaimResponse
    id); a denied item's reason is in its reviewAction `reasonCode` and in a processNote that
    the item's `noteNumber` names.
    """
    index = request_index if request_index is not None else BundleIndex(request_bundle)
    claim = index.entries[0][1]
    answered = [_decision_for(i.sequence, i.cancelled, decisions) for i in request.items]
    if not request.items and request.cancels_all:  # a cancel without items answers for the items it cancelled
        answered = [decisions[sequence] for sequence in sorted(decisions)]
    computed = outcome or response_outcome(answered)
    notes: list[dict[str, Any]] = [{"number": n, "type": "display", "text": w.text} for n, w in enumerate(warnings, 1)]
    pended_note: int | None = None
    if any(not d.action.is_final for d in answered):
        pended_note = len(notes) + 1
        notes.append({"number": pended_note, "type": "display", "text": PENDED_NOTE})
    item_notes: dict[int, list[int]] = {}
    for d in answered:
        if pended_note is not None and not d.action.is_final:
            item_notes[d.sequence] = [pended_note]
    for d in answered:
        if d.action is ReviewAction.NOT_CERTIFIED and (d.reason_codes or d.reason_text):
            notes.append({"number": len(notes) + 1, "type": "display", "text": _denial_text(d)})
            item_notes.setdefault(d.sequence, []).append(len(notes))
        unmapped = _unmapped_note(d)
        if unmapped is not None and not (d.action is ReviewAction.NOT_CERTIFIED and not d.reason_text):
            notes.append({"number": len(notes) + 1, "type": "display", "text": unmapped})
            item_notes.setdefault(d.sequence, []).append(len(notes))
    products = {i.sequence: i.product_or_service for i in request.items}
    roots: list[int] = [0]
    refs: dict[str, dict[str, Any]] = {}
    for name, source in (("patient", "patient"), ("insurer", "insurer"), ("requestor", "provider")):
        refs[name], position = _reference(index, claim.get(source))
        if position is not None:
            roots.append(position)
    included = closure(index, roots)
    request_ref, _ = _reference(index, {"reference": index.entries[0][0] or f"Claim/{claim.get('id')}"})
    if request.claim_identifiers:
        first = request.claim_identifiers[0]
        request_ref["identifier"] = {"value": first.value, **({"system": first.system} if first.system else {})}
    claim_response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": claim_response_id,
        "meta": _meta(urls.PROFILE_CLAIM_RESPONSE, version_id, created),
        "identifier": [{"system": identifier_system, "value": _identifier_value(identifier_system, claim_response_id)}],
        "status": "active",
        "type": as_dict(claim.get("type")) or {"coding": [{"code": "professional"}]},
        "use": "preauthorization",
        "patient": refs["patient"],
        "created": created.isoformat(),
        "insurer": refs["insurer"],
        "requestor": refs["requestor"],
        "request": request_ref,
        "outcome": computed,
        "item": [_item(d, created.date(), item_notes.get(d.sequence, [])) for d in answered],
    }
    if not claim_response["item"]:
        del claim_response["item"]
    added = [
        _add_item(d, products[d.sequence])
        for d in answered
        if d.action is ReviewAction.MODIFIED and d.sequence in products
    ]
    if added:
        claim_response["addItem"] = added
    if disposition or pended_note is not None:
        claim_response["disposition"] = disposition or PENDED_NOTE
    if any(d.action in _APPROVING for d in answered):
        numbers = [d.authorization_number for d in answered if d.action in _APPROVING and d.authorization_number]
        claim_response["preAuthRef"] = preauth_ref or (numbers[0] if numbers else claim_response_id)
    if preauth_period is not None and _period(preauth_period):
        claim_response["preAuthPeriod"] = _period(preauth_period)
    if notes:
        claim_response["processNote"] = notes
    if information_request is not None:
        claim_response["contained"] = [communication_request(information_request, created)]
        claim_response["communicationRequest"] = [{"reference": f"#{INFO_REQUEST_ID}"}]
    entries = [{"fullUrl": full_url or f"urn:uuid:{claim_response_id}", "resource": claim_response}]
    originals = as_list(request_bundle.get("entry"))
    entries += [originals[position] for position in included]
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [urls.PROFILE_RESPONSE_BUNDLE]},
        "identifier": {"system": identifier_system, "value": _identifier_value(identifier_system, bundle_identifier)},
        "type": "collection",
        "timestamp": created.isoformat(),
        "entry": entries,
    }


INFO_REQUEST_ID = "information-request"
LOINC = "http://loinc.org"
PAYLOAD_CONTENT_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-CommunicationRequest.payload.content"
"""R5's payload.contentCodeableConcept carried into R4 (cross-version extension): the LOINC code as a coding."""


def _coding_text(code: Coding) -> str:
    return f"{code.display} ({code.system or ''}|{code.code})" if code.display else f"{code.system or ''}|{code.code}"


def communication_request(asked: InformationRequest, created: datetime) -> dict[str, Any]:
    """The payer's request for documents as a PAS CommunicationRequest (contained in the ClaimResponse).

    At most one `payload`, whose content is the first LOINC code asked for (the LOINC attachment-request
    value set, a required binding): `contentString` holds the code, the R5 cross-version extension its
    coding. Anything else (more codes, free text, a questionnaire) goes to `note`, never to a payload.
    """
    loinc = [code for code in asked.codes if code.system == LOINC and code.code]
    notes = [f"Requested: {_coding_text(code)}" for code in asked.codes if not loinc or code is not loinc[0]]
    if asked.text:
        notes.append(asked.text)
    if asked.questionnaire:
        notes.append(f"Questionnaire {asked.questionnaire}")
    resource: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "id": INFO_REQUEST_ID,
        "status": "active",
        "authoredOn": created.isoformat(),
    }
    if loinc:
        first = loinc[0]
        coding = {k: v for k, v in (("system", LOINC), ("code", first.code), ("display", first.display)) if v}
        resource["payload"] = [
            {
                "extension": [{"url": PAYLOAD_CONTENT_R5, "valueCodeableConcept": {"coding": [coding]}}],
                "contentString": first.code,
            }
        ]
    resource["note"] = [{"text": text} for text in notes or ["The payer asks for more information"]]
    if asked.due_at is not None:
        resource["occurrencePeriod"] = {"end": asked.due_at.isoformat()}
    return resource
