"""A PAS payer's request for more information, and the CDex Parameters that answer it.

A payer asks in its ClaimResponse (`communicationRequest`, references to CommunicationRequests in
the Bundle or contained) or with a CDex Task in the same Bundle (inputs `attachment-request-code`,
`questionnaire`; due at `restriction.period.end`). Either becomes one `InformationRequest`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from app.domain.model import Attachment, Coding, InformationRequest

Json = dict[str, Any]
CDEX_TASK_INPUT = "http://hl7.org/fhir/us/davinci-cdex/CodeSystem/cdex-temp"


def _codings(concept: Any) -> list[Coding]:
    if not isinstance(concept, dict):
        return []
    found = []
    for coding in concept.get("coding") or ():
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            found.append(Coding(coding.get("system"), coding["code"], coding.get("display")))
    return found


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) <= 10:  # a date: the end of that day
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _resources(bundle: Json, claim_response: Json) -> dict[str, Json]:
    """Resources a reference may name: Bundle entries (by fullUrl and Type/id) and contained ones (#id)."""
    found: dict[str, Json] = {}
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            if isinstance(entry.get("fullUrl"), str):
                found[entry["fullUrl"]] = resource
            found[f"{resource.get('resourceType')}/{resource.get('id')}"] = resource
    for contained in claim_response.get("contained") or ():
        if isinstance(contained, dict):
            found[f"#{contained.get('id')}"] = contained
    return found


def _from_communication_request(resource: Json) -> InformationRequest:
    codes: list[Coding] = []
    texts: list[str] = []
    for payload in resource.get("payload") or ():
        if not isinstance(payload, dict):
            continue
        if isinstance(payload.get("contentString"), str):
            texts.append(payload["contentString"])
        for extension in payload.get("extension") or ():
            if isinstance(extension, dict):
                codes.extend(_codings(extension.get("valueCodeableConcept")))
        codes.extend(_codings(payload.get("contentCodeableConcept")))
    for reason in resource.get("reasonCode") or ():
        codes.extend(_codings(reason))
    period = resource.get("occurrencePeriod")
    due = _instant(resource.get("occurrenceDateTime")) or _instant(
        period.get("end") if isinstance(period, dict) else None
    )
    return InformationRequest(
        codes=tuple(dict.fromkeys(codes)),
        text="; ".join(texts) or None,
        due_at=due,
        payer_reference=resource.get("id") if isinstance(resource.get("id"), str) else None,
    )


def _from_task(resource: Json) -> InformationRequest | None:
    codes: list[Coding] = []
    questionnaire = None
    for item in resource.get("input") or ():
        if not isinstance(item, dict):
            continue
        kinds = {c.code for c in _codings(item.get("type"))}
        if "attachment-request-code" in kinds or "attachments-needed" in kinds:
            codes.extend(_codings(item.get("valueCodeableConcept")))
        elif "questionnaire" in kinds and isinstance(item.get("valueCanonical"), str):
            questionnaire = item["valueCanonical"]
    if not codes and questionnaire is None:
        return None
    restriction = resource.get("restriction")
    period = restriction.get("period") if isinstance(restriction, dict) else None
    return InformationRequest(
        codes=tuple(dict.fromkeys(codes)),
        text=resource.get("description") if isinstance(resource.get("description"), str) else None,
        due_at=_instant(period.get("end")) if isinstance(period, dict) else None,
        questionnaire=questionnaire,
        payer_reference=resource.get("id") if isinstance(resource.get("id"), str) else None,
    )


def information_request(bundle: Json, claim_response: Json) -> InformationRequest | None:
    """What the payer asks for in this answer (the first CommunicationRequest or Task), or None."""
    resources = _resources(bundle, claim_response)
    for reference in claim_response.get("communicationRequest") or ():
        target = resources.get(reference.get("reference", "")) if isinstance(reference, dict) else None
        if target is not None and target.get("resourceType") == "CommunicationRequest":
            return _from_communication_request(target)
    for resource in resources.values():
        if resource.get("resourceType") == "Task" and (found := _from_task(resource)) is not None:
            return found
    return None


def submit_attachment_parameters(
    tracking_id: str, attachments: tuple[Attachment, ...], *, member_id: str | None, payer_id: str | None
) -> bytes:
    """The CDex `$submit-attachment` Parameters that send `attachments` for the payer's `tracking_id`."""
    parameters: list[Json] = [
        {"name": "TrackingId", "valueIdentifier": {"value": tracking_id}},
        {"name": "AttachTo", "valueCode": "preauthorization"},
    ]
    if payer_id:
        parameters.append({"name": "PayerId", "valueIdentifier": {"value": payer_id}})
    if member_id:
        parameters.append({"name": "MemberId", "valueIdentifier": {"value": member_id}})
    for attachment in attachments:
        content = orjson.loads(attachment.content)
        parameters.append({"name": "Attachment", "part": [{"name": "Content", "resource": content}]})
    return orjson.dumps({"resourceType": "Parameters", "parameter": parameters})
