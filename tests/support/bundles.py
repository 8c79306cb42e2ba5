"""Typed factories of PAS request Bundles (plain dicts) for tests across the project.

`make_pas_bundle(items=3)` builds a minimal valid PAS 2.2 request Bundle (about 12 KB with
three items): Claim, requesting Organization, insurer Organization, Coverage, Patient and a
PractitionerRole + Practitioner in the care team. Keyword overrides replace top-level Bundle
keys; `claim_overrides` replaces Claim keys. Every call returns fresh objects.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
BASE = "http://provider.example.org/fhir"
NPI = "http://hl7.org/fhir/sid/us-npi"

Json = dict[str, Any]


def _cc(system: str, code: str, display: str | None = None) -> Json:
    coding: Json = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def make_item(sequence: int, code: str = "99212", *, certification: str = "I", request_type: str = "HS") -> Json:
    """One PAS Claim.item with request type, certification type, category, date and place of service."""
    return {
        "extension": [
            {
                "url": f"{PAS}/extension-serviceItemRequestType",
                "valueCodeableConcept": _cc("https://codesystem.x12.org/005010/1525", request_type),
            },
            {
                "url": f"{PAS}/extension-certificationType",
                "valueCodeableConcept": _cc("https://codesystem.x12.org/005010/1322", certification),
            },
            {
                "url": f"{PAS}/extension-itemTraceNumber",
                "valueIdentifier": {"system": "http://provider.example.org/trace", "value": f"T{sequence:04d}"},
            },
        ],
        "sequence": sequence,
        "careTeamSequence": [1],
        "diagnosisSequence": [1],
        "category": _cc("https://codesystem.x12.org/005010/1365", "1", "Medical Care"),
        "productOrService": _cc("http://www.ama-assn.org/go/cpt", code, "Office visit"),
        "quantity": {"value": 1},
        "servicedDate": "2030-05-10",
        "locationCodeableConcept": _cc(
            "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set", "11"
        ),
    }


def make_claim(items: int = 3) -> Json:
    """A PAS Claim (profile-claim) referencing the other entries of `make_pas_bundle` by relative reference."""
    return {
        "resourceType": "Claim",
        "id": "claim-1",
        "meta": {"profile": [f"{PAS}/profile-claim"]},
        "extension": [
            {
                "url": f"{PAS}/extension-levelOfServiceCode",
                "valueCodeableConcept": _cc("https://codesystem.x12.org/005010/1338", "E", "Elective"),
            }
        ],
        "identifier": [{"system": "http://provider.example.org/claims", "value": "CLAIM-0001"}],
        "status": "active",
        "type": _cc("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "preauthorization",
        "patient": {"reference": "Patient/patient-1"},
        "created": "2030-05-02T11:01:00+00:00",
        "insurer": {"reference": "Organization/insurer-1"},
        "provider": {"reference": "Organization/provider-1"},
        "priority": _cc("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "careTeam": [{"sequence": 1, "provider": {"reference": "PractitionerRole/role-1"}}],
        "supportingInfo": [
            {
                "sequence": 1,
                "category": _cc("http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes", "freeFormMessage"),
                "valueString": "see attached notes",
            }
        ],
        "diagnosis": [
            {"sequence": 1, "diagnosisCodeableConcept": _cc("http://hl7.org/fhir/sid/icd-10-cm", "G89.4")},
            {"sequence": 2, "diagnosisCodeableConcept": _cc("http://hl7.org/fhir/sid/icd-10-cm", "M54.50")},
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/coverage-1"}}],
        "item": [make_item(n, code=f"9921{n % 10}") for n in range(1, items + 1)],
    }


def _others() -> list[Json]:
    return [
        {
            "resourceType": "Organization",
            "id": "provider-1",
            "identifier": [
                {"system": "http://provider.example.org/tax", "value": "TX-1"},
                {"system": NPI, "value": "1234567893"},
            ],
            "name": "Example Clinic",
        },
        {
            "resourceType": "Organization",
            "id": "insurer-1",
            "identifier": [{"system": NPI, "value": "1987654320"}],
            "name": "Example Health Plan",
        },
        {
            "resourceType": "Coverage",
            "id": "coverage-1",
            "status": "active",
            "subscriberId": "MEMBER-123",
            "beneficiary": {"reference": "Patient/patient-1"},
            "payor": [{"reference": "Organization/insurer-1"}],
        },
        {
            "resourceType": "Patient",
            "id": "patient-1",
            "identifier": [{"system": "http://provider.example.org/mrn", "value": "MRN-1"}],
            "name": [{"family": "Doe", "given": ["Test"]}],
            "gender": "female",
            "birthDate": "1970-01-01",
        },
        {
            "resourceType": "PractitionerRole",
            "id": "role-1",
            "practitioner": {"reference": "Practitioner/practitioner-1"},
        },
        {
            "resourceType": "Practitioner",
            "id": "practitioner-1",
            "identifier": [{"system": NPI, "value": "1111111112"}],
            "name": [{"family": "Smith"}],
        },
    ]


def make_pas_bundle(items: int = 3, *, claim_overrides: Json | None = None, **overrides: Any) -> Json:
    """A minimal valid PAS request Bundle with `items` Claim items (Claim first, then what it references)."""
    claim = make_claim(items)
    claim.update(copy.deepcopy(claim_overrides or {}))
    resources = [claim, *_others()]
    bundle: Json = {
        "resourceType": "Bundle",
        "meta": {"profile": [f"{PAS}/profile-pas-request-bundle"]},
        "identifier": {"system": "http://provider.example.org/bundles", "value": "BUNDLE-0001"},
        "type": "collection",
        "timestamp": "2030-05-02T11:01:00+00:00",
        "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
    bundle.update(copy.deepcopy(overrides))
    return bundle


def pas_request(*codes: str, member: str = "MEMBER-123", tag: str = "1") -> Json:
    """A PAS request Bundle with one item per code in `codes`, for the member `member`, identified as
    CLAIM-`tag` (Claim) and BUNDLE-`tag` (Bundle): the same tag twice is the same request again."""
    bundle = make_pas_bundle(
        items=len(codes),
        claim_overrides={"identifier": [{"system": "http://provider.example.org/claims", "value": f"CLAIM-{tag}"}]},
        identifier={"system": "http://provider.example.org/bundles", "value": f"BUNDLE-{tag}"},
    )
    claim = bundle["entry"][0]["resource"]
    claim["item"] = [make_item(n, code=code) for n, code in enumerate(codes, 1)]
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Coverage":
            entry["resource"]["subscriberId"] = member
    return bundle


def inquiry_for(bundle: Json) -> Json:
    """An inquiry for the request `bundle`: the same Claim (member, provider, insurer), use preauthorization;
    its Bundle identifier gets "-inquiry" appended."""
    inquiry: Json = orjson.loads(orjson.dumps(bundle))
    inquiry["identifier"]["value"] += "-inquiry"
    return inquiry


def as_parameters(bundle: Json) -> Json:
    """`bundle` wrapped as the `resource` parameter of a Parameters (the other accepted $submit form)."""
    return {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": bundle}]}


def to_bytes(document: Json) -> bytes:
    """The JSON bytes of a document (orjson)."""
    return orjson.dumps(document)
