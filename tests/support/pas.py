"""Helpers for driving the PAS routes in tests."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.support.profiles import check_response_bundle

FHIR_JSON = {"content-type": "application/fhir+json"}
Json = dict[str, Any]


# The public PAS examples, as paths under ../shared/pas-examples: those $submit answers with a response
# Bundle, and the negative ones it refuses with a 4xx OperationOutcome (storing nothing).
ACCEPTED_EXAMPLES = [
    "ig-2.2.1/Bundle-ReferralAuthorizationBundleExample.json",
    "ig-2.2.1/Bundle-HomecareAuthorizationBundleExample.json",
    "ig-2.2.1/Bundle-MedicalServicesAuthorizationBundleExample.json",
    "ig-2.2.1/Bundle-SurgicalRequestBundleExample.json",
    "ig-2.0.1/Bundle-ReferralAuthorizationBundleExample.json",
    "ig-2.0.1/Bundle-HomecareAuthorizationDifferentialBundleExample.json",
    "inferno-fixtures/conformant_pas_bundle_v110_uuid.json",
]
REJECTED_EXAMPLES = [
    "inferno-fixtures/missing_referenced_resource_request_bundle.json",
    "inferno-fixtures/nonconformant_pas_bundle.json",
    "ri-legacy/bundle-prior-auth.json",
    "ri-legacy/bundle-request.json",
    "ri-legacy/DatabaseResources-Claim.json",
    "ri-legacy/DatabaseResources-ClaimUpdate1.json",
]


def load_example(path: Path) -> Json:
    document: Json = orjson.loads(path.read_bytes())
    return document


def with_fresh_identifiers(bundle: Json, *, claim: bool = True) -> Json:
    """A copy with its own Bundle.identifier (and first Claim identifier), so examples do not collide."""
    copied = copy.deepcopy(bundle)
    tag = uuid.uuid4().hex[:12]
    copied["identifier"] = {"system": "urn:test:bundles", "value": f"B-{tag}"}
    first = copied["entry"][0]["resource"]
    if claim and first.get("identifier"):
        first["identifier"][0]["value"] = f"{first['identifier'][0]['value']}-{tag}"
    return copied


def claim_response(bundle: Json) -> Json:
    resource: Json = bundle["entry"][0]["resource"]
    assert resource["resourceType"] == "ClaimResponse"
    return resource


def review_actions(bundle: Json) -> dict[int, str]:
    """item sequence -> X12 306 code, read from the response's reviewAction extensions."""
    found: dict[int, str] = {}
    for item in claim_response(bundle).get("item", []):
        for adjudication in item["adjudication"]:
            for extension in adjudication.get("extension", []):
                if extension["url"].endswith("extension-reviewAction"):
                    for part in extension["extension"]:
                        if part["url"].endswith("extension-reviewActionCode"):
                            found[item["itemSequence"]] = part["valueCodeableConcept"]["coding"][0]["code"]
    return found


async def submit(client: httpx.AsyncClient, bundle: Json | bytes) -> httpx.Response:
    body = bundle if isinstance(bundle, bytes) else orjson.dumps(bundle)
    response = await client.post("/fhir/Claim/$submit", content=body, headers=FHIR_JSON)
    if response.status_code == 200 and response.headers.get("content-type", "").startswith(FHIR_JSON["content-type"]):
        answer = response.json()
        if answer.get("resourceType") == "Bundle":
            check_response_bundle(answer)  # the PAS profiles' cardinalities and required bindings, every answer
    return response
