"""Self-description and the versioning FHIR clients rely on: the CapabilityStatement names exactly what
the routes serve, ClaimResponses carry versions and ETags, Locations answer, malformed ids are 404."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.capability import CRD_IG, PAS_IG
from tests.support.bundles import pas_request
from tests.support.pas import FHIR_JSON, claim_response, submit

R4B = pytest.importorskip("fhir.resources.R4B.capabilitystatement")
_NOT_RESOURCES = {"metadata", ".well-known"}
_INTERACTIONS = {
    ("POST", False): "create",
    ("GET", False): "search-type",
    ("GET", True): "read",
    ("PUT", True): "update",
    ("DELETE", True): "delete",
    ("PATCH", True): "patch",
}


def _served(app: FastAPI) -> set[tuple[str, str]]:
    """(resource type, interaction code or `$operation`) for every FHIR route the app serves (its OpenAPI paths)."""
    found: set[tuple[str, str]] = set()
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/fhir/"):
            continue
        parts = path.removeprefix("/fhir/").split("/")
        if parts[0] in _NOT_RESOURCES:
            continue
        for method in (m.upper() for m in operations if m in ("get", "post", "put", "delete", "patch")):
            if len(parts) == 1 and parts[0].startswith("$"):
                found.add(("system", parts[0]))  # a system-level operation (CDex $submit-attachment)
            elif parts[-1].startswith("$"):
                found.add((parts[0], parts[-1]))
            elif len(parts) == 4 and parts[2] == "_history":
                found.add((parts[0], "vread"))
            else:
                found.add((parts[0], _INTERACTIONS[(method, len(parts) == 2)]))
    return found


def _declared(statement: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    found: set[tuple[str, str]] = set()
    for resource in statement["rest"][0]["resource"]:
        found |= {(resource["type"], i["code"]) for i in resource.get("interaction", [])}
        found |= {(resource["type"], f"${o['name']}") for o in resource.get("operation", [])}
    found |= {("system", f"${o['name']}") for o in statement["rest"][0].get("operation", [])}
    return found


async def test_capability_statement_names_exactly_the_interactions_and_operations_served(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    R4B.CapabilityStatement.model_validate(statement)
    assert _declared(statement) == _served(app)
    assert {
        ("Claim", "$submit"),
        ("Claim", "$inquire"),
        ("Claim", "$validate"),
        ("Subscription", "$status"),
        ("system", "$submit-attachment"),
    } <= _served(app)


async def test_capability_statement_names_guides_profiles_security_and_the_fhir_base(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    base = app.state.runtime.settings.base_url
    assert statement["implementation"]["url"] == f"{base}/fhir"
    assert {PAS_IG, CRD_IG} <= set(statement["implementationGuide"])
    assert any("davinci-pas/CapabilityStatement" in c for c in statement["instantiates"])
    assert any("davinci-crd/CapabilityStatement" in c for c in statement["instantiates"])
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for rtype in ("Claim", "ClaimResponse", "Patient", "Coverage", "Organization", "Practitioner", "ServiceRequest"):
        assert "davinci-pas/StructureDefinition/profile-" in by_type[rtype]["profile"]
    security = statement["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    token = security["extension"][0]["extension"][0]
    assert (token["url"], token["valueUri"]) == ("token", f"{base}/auth/token")


async def test_claim_response_carries_its_version_an_etag_and_a_location_that_answers(
    client: httpx.AsyncClient,
) -> None:
    submitted = await submit(client, pas_request("99212", tag="versions"))
    assert submitted.status_code == 200
    resource = claim_response(submitted.json())
    assert resource["meta"]["versionId"]
    assert resource["meta"]["lastUpdated"]
    location = submitted.headers["location"]
    assert "/_history/" not in location
    read = await client.get(httpx.URL(location).path)
    assert read.status_code == 200
    assert read.headers["etag"] == f'W/"{resource["meta"]["versionId"]}"'
    assert read.json()["id"] == resource["id"]
    current = await client.get(f"/fhir/ClaimResponse/{resource['id']}/_history/{resource['meta']['versionId']}")
    assert current.status_code == 200
    assert current.json() == read.json()
    assert (await client.get(f"/fhir/ClaimResponse/{resource['id']}/_history/999")).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/fhir/ClaimResponse/not-a-uuid"),
        ("GET", "/fhir/ClaimResponse/not-a-uuid/_history/1"),
        ("GET", "/fhir/Subscription/not-a-uuid"),
        ("PUT", "/fhir/Subscription/not-a-uuid"),
        ("DELETE", "/fhir/Subscription/not-a-uuid"),
        ("GET", "/fhir/Subscription/not-a-uuid/$status"),
        ("GET", "/fhir/Subscription/00000000-0000-0000-0000-000000000000"),
    ],
)
async def test_a_malformed_or_unknown_id_answers_404_on_every_fhir_route(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, content=b"{}", headers=FHIR_JSON)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert re.search("not", outcome["issue"][0]["details"]["text"])
