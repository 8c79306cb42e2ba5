"""ClaimResponse search as FHIR clients use it: token semantics, `_count` pages, links, total, strict handling."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.bundles import pas_request
from tests.support.pas import claim_response, submit

CLAIMS = "http://provider.example.org/claims"


MRN = "http://provider.example.org/mrn"
MEMBERS = "http://payer.example.org/members"
Json = dict[str, Any]


def _resource(bundle: Json, resource_type: str) -> Json:
    resource: Json = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type)
    return resource


async def _submit(
    client: httpx.AsyncClient,
    tag: str,
    member: str = "MEMBER-123",
    *,
    system: bool = True,
    patient: list[Json] | None = None,
    member_system: str | None = None,
) -> str:
    bundle = pas_request("99212", member=member, tag=tag)
    if not system:
        del bundle["entry"][0]["resource"]["identifier"][0]["system"]
    if patient is not None:
        _resource(bundle, "Patient")["identifier"] = patient
    if member_system is not None:  # the member id as a Coverage identifier typed MB, with its system
        coverage = _resource(bundle, "Coverage")
        del coverage["subscriberId"]
        mb = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]}
        coverage["identifier"] = [{"type": mb, "system": member_system, "value": member}]
    response = await submit(client, bundle)
    assert response.status_code == 200, response.text
    return str(claim_response(response.json())["id"])


async def _search(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    query = {k.replace("__", "."): v for k, v in params.items()}
    response = await client.get("/fhir/ClaimResponse", params=query)
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    assert bundle["type"] == "searchset"
    return bundle


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


@pytest.mark.parametrize(
    ("token", "found"),
    [
        ("CLAIM-t1", True),  # any system
        (f"{CLAIMS}|CLAIM-t1", True),  # that system
        ("http://other.example.org|CLAIM-t1", False),
        ("|CLAIM-t1", False),  # no system: this Claim identifier has one
    ],
)
async def test_identifier_tokens_match_by_system(client: httpx.AsyncClient, token: str, found: bool) -> None:
    response_id = await _submit(client, "t1")
    bundle = await _search(client, identifier=token)
    assert _ids(bundle) == ([response_id] if found else [])
    assert bundle["total"] == (1 if found else 0)


@pytest.mark.parametrize(("token", "found"), [("CLAIM-t2", True), ("|CLAIM-t2", True), (f"{CLAIMS}|CLAIM-t2", False)])
async def test_an_identifier_without_system_matches_bare_and_bar_tokens(
    client: httpx.AsyncClient, token: str, found: bool
) -> None:
    response_id = await _submit(client, "t2", system=False)
    assert _ids(await _search(client, identifier=token)) == ([response_id] if found else [])


async def test_the_claim_responses_own_identifier_matches(client: httpx.AsyncClient) -> None:
    response_id = await _submit(client, "t3")
    assert _ids(await _search(client, identifier=response_id)) == [response_id]
    assert _ids(await _search(client, identifier=f"urn:ietf:rfc:3986|{response_id}")) == [response_id]
    assert _ids(await _search(client, identifier=f"urn:ietf:rfc:3986|urn:uuid:{response_id}")) == [response_id]
    assert _ids(await _search(client, identifier=f"{CLAIMS}|{response_id}")) == []


async def test_patient_identifier_matches_any_of_the_patients_identifiers(client: httpx.AsyncClient) -> None:
    identifiers = [{"system": MRN, "value": "MRN-A1"}, {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "S-71"}]
    mine = {await _submit(client, f"pa{n}", member=f"MEMBER-A{n}", patient=identifiers) for n in range(2)}
    await _submit(client, "pa-other", member="MEMBER-A9", patient=[{"system": MRN, "value": "MRN-A2"}])
    for token in ("MRN-A1", f"{MRN}|MRN-A1", "S-71", "urn:oid:2.16.840.1.113883.4.1|S-71"):
        bundle = await _search(client, patient__identifier=token)
        assert set(_ids(bundle)) == mine, token
        assert bundle["total"] == 2


@pytest.mark.parametrize(
    ("token", "found"),
    [
        ("MRN-T1", True),  # any system
        (f"{MRN}|MRN-T1", True),  # that system
        ("http://other.example.org/mrn|MRN-T1", False),
        ("|MRN-T1", False),  # no system: this identifier has one
        ("MRN-T", False),  # the whole value, not a prefix
    ],
)
async def test_patient_identifier_tokens_match_by_system(client: httpx.AsyncClient, token: str, found: bool) -> None:
    response_id = await _submit(client, "pt1", patient=[{"system": MRN, "value": "MRN-T1"}])
    bundle = await _search(client, patient__identifier=token)
    assert _ids(bundle) == ([response_id] if found else [])
    assert bundle["total"] == (1 if found else 0)


@pytest.mark.parametrize(("token", "found"), [("MRN-T2", True), ("|MRN-T2", True), (f"{MRN}|MRN-T2", False)])
async def test_a_patient_identifier_without_system_matches_bare_and_bar_tokens(
    client: httpx.AsyncClient, token: str, found: bool
) -> None:
    response_id = await _submit(client, "pt2", patient=[{"value": "MRN-T2"}])
    assert _ids(await _search(client, patient__identifier=token)) == ([response_id] if found else [])


@pytest.mark.parametrize(
    ("token", "found"), [("MEMBER-777", True), ("|MEMBER-777", True), (f"{MEMBERS}|MEMBER-777", False)]
)
async def test_patient_identifier_matches_a_subscriber_id_which_has_no_system(
    client: httpx.AsyncClient, token: str, found: bool
) -> None:
    mine = {await _submit(client, f"m{n}", member="MEMBER-777") for n in range(2)}
    await _submit(client, "other", member="MEMBER-888")
    assert set(_ids(await _search(client, patient__identifier=token))) == (mine if found else set())


@pytest.mark.parametrize(
    ("token", "found"),
    [
        ("MEMBER-MB", True),
        (f"{MEMBERS}|MEMBER-MB", True),
        ("http://other.example.org/members|MEMBER-MB", False),
        ("|MEMBER-MB", False),
    ],
)
async def test_patient_identifier_matches_the_member_identifier_with_its_system(
    client: httpx.AsyncClient, token: str, found: bool
) -> None:
    response_id = await _submit(client, "mb1", member="MEMBER-MB", member_system=MEMBERS)
    assert _ids(await _search(client, patient__identifier=token)) == ([response_id] if found else [])


async def test_identifier_and_patient_identifier_must_both_hold(client: httpx.AsyncClient) -> None:
    first = await _submit(client, "both1", patient=[{"system": MRN, "value": "MRN-B"}])
    await _submit(client, "both2", patient=[{"system": MRN, "value": "MRN-B"}])
    assert _ids(await _search(client, identifier="CLAIM-both1", patient__identifier="MRN-B")) == [first]
    assert _ids(await _search(client, identifier="CLAIM-both1", patient__identifier="MRN-OTHER")) == []


async def test_an_update_is_found_by_the_patient_identifiers_it_carries(client: httpx.AsyncClient) -> None:
    original = pas_request("99212", tag="up1")
    _resource(original, "Patient")["identifier"] = [{"system": MRN, "value": "MRN-UP"}]
    assert (await submit(client, original)).status_code == 200
    update = pas_request("99212", "99213", tag="up1-update")
    _resource(update, "Patient")["identifier"] = [{"system": MRN, "value": "MRN-UP"}]
    update["entry"][0]["resource"]["identifier"][0]["value"] = "CLAIM-up1-update"
    update["entry"][0]["resource"]["related"] = [{"claim": {"identifier": {"system": CLAIMS, "value": "CLAIM-up1"}}}]
    response = await submit(client, update)
    assert response.status_code == 200, response.text
    # only the current version is a search result: the update, with the same patient
    assert _ids(await _search(client, patient__identifier=f"{MRN}|MRN-UP")) == [claim_response(response.json())["id"]]


async def test_count_pages_are_chained_by_next_links_with_an_exact_total(client: httpx.AsyncClient) -> None:
    submitted = {await _submit(client, f"p{n}", member="MEMBER-PAGE") for n in range(5)}
    page = await _search(client, patient__identifier="MEMBER-PAGE", _count="2")
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        assert page["total"] == 5
        assert len(page.get("entry", [])) <= 2
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert links["self"].startswith("http://127.0.0.1:8000/fhir/ClaimResponse?")
        seen += _ids(page)
        if "next" not in links:
            break
        response = await client.get(links["next"].removeprefix("http://127.0.0.1:8000"))
        assert response.status_code == 200
        page = response.json()
    assert pages == 3
    assert sorted(seen) == sorted(submitted)


async def test_count_zero_answers_the_total_only(client: httpx.AsyncClient) -> None:
    await _submit(client, "z1", member="MEMBER-ZERO")
    bundle = await _search(client, patient__identifier="MEMBER-ZERO", _count="0")
    assert bundle["total"] == 1
    assert "entry" not in bundle


async def test_unknown_parameters_are_ignored_by_default(client: httpx.AsyncClient) -> None:
    response_id = await _submit(client, "u1")
    assert _ids(await _search(client, identifier="CLAIM-u1", status="active", _sort="-created")) == [response_id]


async def test_unknown_parameters_are_400_under_strict_handling(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/fhir/ClaimResponse",
        params={"identifier": "CLAIM-s1", "status": "active"},
        headers={"prefer": "handling=strict"},
    )
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [issue["expression"] for issue in outcome["issue"]] == [["status"]]


@pytest.mark.parametrize("count", ["abc", "-1", "1.5"])
async def test_a_bad_count_is_400(client: httpx.AsyncClient, count: str) -> None:
    response = await client.get("/fhir/ClaimResponse", params={"_count": count})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_count"]
