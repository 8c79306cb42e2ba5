"""Prepared PAS request Bundles the EHR can send as they are: a concurrent review (more units) and a
resubmission to a new payer of an authorization carried over from the patient's previous plan.

Built as plain dicts from what the service stores; both parse and validate as PAS request Bundles
(`app.fhir.submit.parse_submit`, as `$submit` and `$validate` do). Their Bundle and Claim identifiers
are deterministic (system `PREPARED_SYSTEM`), so sending the same prepared Bundle twice is answered
as a replay, not taken as a second request.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.domain.model import Coding, Identifier
from app.fhir import urls

PREPARED_SYSTEM = "urn:epa-hub:prepared"
BASE = "urn:epa-hub:prepared"
X12_1322 = "https://codesystem.x12.org/005010/1322"
X12_1525 = "https://codesystem.x12.org/005010/1525"
CERT_INITIAL = "I"
CERT_EXTENSION = "4"
FREE_FORM = "freeFormMessage"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExtensionLine:
    """One item of a concurrent review: what was authorized and used, and how many units to ask for."""

    sequence: int
    code: str
    authorized: Decimal
    used: Decimal
    requested: Decimal
    next_start: date | None  # the day after the current authorized period

    @property
    def remaining(self) -> Decimal:
        return max(self.authorized - self.used, Decimal(0))


@dataclass(frozen=True, slots=True)
class CarriedService:
    code: Coding
    quantity: Decimal | None


def _concept(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _certification(code: str) -> Json:
    return {"url": urls.EXT_CERTIFICATION_TYPE, "valueCodeableConcept": _concept(X12_1322, code)}


def _set_certification(element: Json, code: str) -> None:
    kept = [e for e in element.get("extension", []) if e.get("url") != urls.EXT_CERTIFICATION_TYPE]
    element["extension"] = [*kept, _certification(code)]


def _note(sequence: int, text: str) -> Json:
    return {"sequence": sequence, "category": _concept(urls.PAS_TEMP_CODES, FREE_FORM), "valueString": text}


def _first_claim(bundle: Json) -> Json:
    claim: Json = bundle["entry"][0]["resource"]
    return claim


def extension_request(
    stored: Json, *, identifier: str, created: datetime, preauth_ref: str | None, lines: Sequence[ExtensionLine]
) -> Json:
    """A concurrent review (certificationType 4, extension) of the stored request `stored`: the same
    patient, coverage and provider; the lines' items asking for `requested` more units from the day
    after the current period; Claim.insurance.preAuthRef naming what it extends; and, per line, a
    free-form supportingInfo saying how many units were used and remain."""
    bundle = copy.deepcopy(stored)
    bundle["identifier"] = {"system": PREPARED_SYSTEM, "value": identifier}
    bundle["timestamp"] = created.isoformat()
    claim = _first_claim(bundle)
    claim["identifier"] = [{"system": PREPARED_SYSTEM, "value": identifier}]
    claim["created"] = created.isoformat()
    claim.pop("related", None)
    wanted = {line.sequence: line for line in lines}
    items = []
    for item in claim.get("item", []):
        line = wanted.get(item.get("sequence"))
        if line is None:
            continue
        _set_certification(item, CERT_EXTENSION)
        item["quantity"] = {"value": _number(line.requested)}
        if line.next_start is not None:
            item.pop("servicedDate", None)
            item["servicedPeriod"] = {"start": line.next_start.isoformat()}
        items.append(item)
    claim["item"] = items
    if any(e.get("url") == urls.EXT_CERTIFICATION_TYPE for e in claim.get("extension", [])):
        _set_certification(claim, CERT_EXTENSION)
    for insurance in claim.get("insurance", []):
        if insurance.get("focal") is True and preauth_ref:
            insurance["preAuthRef"] = [preauth_ref]
    notes = list(claim.get("supportingInfo", []))
    next_sequence = max((n.get("sequence", 0) for n in notes), default=0) + 1
    for offset, line in enumerate(lines):
        text = (
            f"concurrent review of item {line.sequence} ({line.code}): {_number(line.used)} of "
            f"{_number(line.authorized)} units used, {_number(line.remaining)} remaining"
        )
        notes.append(_note(next_sequence + offset, text))
    claim["supportingInfo"] = notes
    return bundle


def resubmission_request(
    *,
    identifier: str,
    created: datetime,
    insurer: Identifier,
    member_id: str,
    provider: Identifier | None,
    services: Sequence[CarriedService],
    period_start: date,
    period_end: date,
    previous_payer: str,
    authorization_number: str,
    honoured_until: date,
) -> Json:
    """A new PAS request to the new payer for the services an earlier plan authorized (an initial
    request, certificationType I). The patient is named by the member id only: the EHR completes the
    demographics it holds before sending. A supportingInfo note names the carried-over authorization."""
    items = []
    for sequence, service in enumerate(services, 1):
        item: Json = {
            "extension": [
                {"url": urls.EXT_SERVICE_ITEM_REQUEST_TYPE, "valueCodeableConcept": _concept(X12_1525, "HS")},
                _certification(CERT_INITIAL),
            ],
            "sequence": sequence,
            "careTeamSequence": [1],
            "productOrService": {"coding": [{"system": service.code.system, "code": service.code.code}]}
            if service.code.system
            else {"coding": [{"code": service.code.code}]},
            "servicedPeriod": {"start": max(period_start, created.date()).isoformat(), "end": period_end.isoformat()},
        }
        if service.quantity is not None:
            item["quantity"] = {"value": _number(service.quantity)}
        items.append(item)
    note = (
        f"continuity of care: carried over from {previous_payer} authorization {authorization_number} "
        f"({period_start.isoformat()} to {period_end.isoformat()}), honoured until {honoured_until.isoformat()}"
    )
    provider_org: Json = {"resourceType": "Organization", "id": "provider-1", "name": "Requesting provider"}
    if provider is not None:
        provider_org["identifier"] = [_identifier(provider)]
    claim: Json = {
        "resourceType": "Claim",
        "id": "claim-1",
        "meta": {"profile": [f"{urls.PAS}/StructureDefinition/profile-claim"]},
        "identifier": [{"system": PREPARED_SYSTEM, "value": identifier}],
        "status": "active",
        "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "preauthorization",
        "patient": {"reference": "Patient/patient-1"},
        "created": created.isoformat(),
        "insurer": {"reference": "Organization/insurer-1"},
        "provider": {"reference": "Organization/provider-1"},
        "priority": _concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "careTeam": [{"sequence": 1, "provider": {"reference": "Organization/provider-1"}}],
        "supportingInfo": [_note(1, note)],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/coverage-1"}}],
        "item": items,
    }
    resources: list[Json] = [
        claim,
        provider_org,
        {"resourceType": "Organization", "id": "insurer-1", "identifier": [_identifier(insurer)]},
        {
            "resourceType": "Coverage",
            "id": "coverage-1",
            "status": "active",
            "subscriberId": member_id,
            "beneficiary": {"reference": "Patient/patient-1"},
            "payor": [{"reference": "Organization/insurer-1"}],
        },
        {"resourceType": "Patient", "id": "patient-1", "identifier": [{"value": member_id}]},
    ]
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [f"{urls.PAS}/StructureDefinition/profile-pas-request-bundle"]},
        "identifier": {"system": PREPARED_SYSTEM, "value": identifier},
        "type": "collection",
        "timestamp": created.isoformat(),
        "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def _identifier(identifier: Identifier) -> Json:
    found: Json = {"value": identifier.value}
    if identifier.system:
        found["system"] = identifier.system
    return found


def window_end(period_end: date, imported: date, window: timedelta) -> date:
    """The last day a carried-over authorization is honoured: its own end, or the transition window's."""
    return min(period_end, imported + window)
