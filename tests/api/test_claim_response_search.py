"""ClaimResponse search as FHIR clients use it: token semantics, `_count` pages, links, total, strict handling."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_submit import _bundle
from tests.support.pas import claim_response, submit

CLAIMS = "http://provider.example.org/claims"


async def _submit(client: httpx.AsyncClient, tag: str, member: str = "MEMBER-123", *, system: bool = True) -> str:
    bundle = _bundle("99212", member=member, tag=tag)
    if not system:
        del bundle["entry"][0]["resource"]["identifier"][0]["system"]
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


async def test_patient_identifier_matches_the_member_id_with_or_without_its_system(client: httpx.AsyncClient) -> None:
    mine = {await _submit(client, f"m{n}", member="MEMBER-777") for n in range(2)}
    await _submit(client, "other", member="MEMBER-888")
    assert set(_ids(await _search(client, patient__identifier="MEMBER-777"))) == mine
    assert set(_ids(await _search(client, patient__identifier="http://payer.example.org/members|MEMBER-777"))) == mine


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
