"""`Claim/$inquire`: any service, matching by authorization number, Claim identifier, service code and
date window; the inquiry profiles on what it returns; and what approvals and denials carry."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
import pytest

from app.fhir import urls
from tests.support.bundles import pas_request
from tests.support.pas import FHIR_JSON, claim_response, review_actions, submit
from tests.support.profiles import check_response_bundle

R4B = pytest.importorskip("fhir.resources.R4B.bundle")
Json = dict[str, Any]
ANY_SERVICE = {"coding": [{"system": urls.DATA_ABSENT_REASON, "code": "not-applicable"}]}


def _inquiry(request: Json, tag: str, *, codes: list[Json] | None = None, dates: list[str] | None = None) -> Json:
    """An inquiry with the request's patient, provider and payer; items with `codes` (and service `dates`)."""
    inquiry = copy.deepcopy(request)
    inquiry["identifier"] = {"system": "urn:test:inquiries", "value": f"INQ-{tag}"}
    claim = inquiry["entry"][0]["resource"]
    claim["meta"] = {"profile": [urls.PROFILE_CLAIM_INQUIRY]}
    claim["identifier"] = [{"system": "urn:test:inquiries", "value": f"TRACE-{tag}"}]  # its own, not a Claim's
    template = claim["item"][0]
    claim["item"] = []
    for n, code in enumerate(codes or [ANY_SERVICE], 1):
        item = {**copy.deepcopy(template), "sequence": n, "productOrService": code}
        item.pop("servicedDate", None)
        if dates:
            item["servicedDate"] = dates[min(n, len(dates)) - 1]
        claim["item"].append(item)
    return inquiry


async def _returned(client: httpx.AsyncClient, inquiry: Json) -> list[Json]:
    response = await client.post("/fhir/Claim/$inquire", content=orjson.dumps(inquiry), headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    returned = [p["resource"] for p in response.json().get("parameter", []) if p["name"] == "return"]
    for bundle in returned:
        check_response_bundle(bundle)  # the PAS profiles' cardinalities and required bindings
    return returned


def _ids(bundles: list[Json]) -> set[str]:
    return {claim_response(b)["id"] for b in bundles}


async def _three(client: httpx.AsyncClient) -> tuple[Json, list[Json]]:
    """Three requests of one member, provider and payer: approved 99212, approved 99215 later, denied A9270."""
    sent = [pas_request("99212", tag="a"), pas_request("99215", tag="b"), pas_request("A9270", tag="c")]
    sent[1]["entry"][0]["resource"]["item"][0]["servicedDate"] = "2030-09-01"
    answers = []
    for bundle in sent:
        response = await submit(client, bundle)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return sent[0], answers


async def test_any_service_returns_every_current_authorization_of_member_provider_and_payer(
    client: httpx.AsyncClient,
) -> None:
    request, answers = await _three(client)
    returned = await _returned(client, _inquiry(request, "any"))
    assert _ids(returned) == _ids(answers)
    for bundle in returned:
        R4B.Bundle.model_validate(bundle)
        assert bundle["meta"]["profile"] == [urls.PROFILE_INQUIRY_RESPONSE_BUNDLE]
        resource = claim_response(bundle)
        assert resource["meta"]["profile"] == [urls.PROFILE_CLAIM_INQUIRY_RESPONSE]
        assert resource["request"]["reference"] in {e["fullUrl"] for e in bundle["entry"]}
    other_member = copy.deepcopy(request)
    other_member["entry"][3]["resource"]["subscriberId"] = "SOMEONE-ELSE"
    assert await _returned(client, _inquiry(other_member, "other")) == []


async def test_inquiry_matches_by_service_code_and_date_window(client: httpx.AsyncClient) -> None:
    request, answers = await _three(client)
    by_code = await _returned(client, _inquiry(request, "code", codes=[_code("99215")]))
    assert _ids(by_code) == {claim_response(answers[1])["id"]}
    in_may = await _returned(client, _inquiry(request, "may", codes=[ANY_SERVICE], dates=["2030-05-10"]))
    assert claim_response(answers[1])["id"] not in _ids(in_may)
    assert claim_response(answers[0])["id"] in _ids(in_may)
    in_september = await _returned(client, _inquiry(request, "sep", codes=[ANY_SERVICE], dates=["2030-09-01"]))
    assert _ids(in_september) == {claim_response(answers[1])["id"]}


async def test_inquiry_matches_by_claim_identifier_and_by_authorization_number(client: httpx.AsyncClient) -> None:
    request, answers = await _three(client)
    by_claim = _inquiry(request, "claim", codes=[_code("99212"), _code("99215"), _code("A9270")])
    by_claim["entry"][0]["resource"]["identifier"] = [
        {"system": "http://provider.example.org/claims", "value": "CLAIM-b"}
    ]
    assert _ids(await _returned(client, by_claim)) == {claim_response(answers[1])["id"]}

    number = claim_response(answers[0])["preAuthRef"]
    by_number = _inquiry(request, "number")
    by_number["entry"][0]["resource"]["insurance"][0]["preAuthRef"] = [number]
    assert _ids(await _returned(client, by_number)) == {claim_response(answers[0])["id"]}


async def test_approvals_carry_preauthref_and_denials_a_reason_in_item_and_process_note(
    client: httpx.AsyncClient,
) -> None:
    _, answers = await _three(client)
    approved, denied = claim_response(answers[0]), claim_response(answers[2])
    assert approved["preAuthRef"]
    assert "preAuthRef" not in denied
    assert review_actions(answers[2]) == {1: "A3"}
    item = denied["item"][0]
    review = item["adjudication"][0]["extension"][0]["extension"]
    assert any(part["url"] == "reasonCode" for part in review)
    notes = {note["number"]: note["text"] for note in denied["processNote"]}
    assert item["noteNumber"]
    assert all("not covered" in notes[n].lower() or notes[n] for n in item["noteNumber"])


async def test_identifiers_under_the_uri_system_are_uris(client: httpx.AsyncClient) -> None:
    _, answers = await _three(client)
    for answer in answers:
        for identifier in [answer["identifier"], *claim_response(answer)["identifier"]]:
            assert identifier["system"] == "urn:ietf:rfc:3986"
            assert identifier["value"].startswith("urn:uuid:")


def _code(code: str) -> Json:
    system = (
        "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
        if code[0].isalpha()
        else "http://www.ama-assn.org/go/cpt"
    )
    return {"coding": [{"system": system, "code": code}]}


def _update_of(claim_value: str, code: str, tag: str) -> Json:
    """A PASClaimUpdate (Claim.related) of the Claim `claim_value`."""
    update = pas_request(code, tag=tag)
    update["entry"][0]["resource"]["related"] = [
        {"claim": {"identifier": {"system": "http://provider.example.org/claims", "value": claim_value}}}
    ]
    return update


@pytest.mark.parametrize("where", ["preAuthRef", "item"])
async def test_an_inquiry_by_a_replaced_authorization_number_answers_the_current_authorization(
    client: httpx.AsyncClient, where: str
) -> None:
    request = pas_request("99212", tag="a")
    first = claim_response((await submit(client, request)).json())
    second = (await submit(client, _update_of("CLAIM-a", "99213", "b"))).json()
    assert claim_response(second)["id"] != first["id"]
    third = claim_response((await submit(client, _update_of("CLAIM-b", "99214", "c"))).json())
    assert third["preAuthRef"] != first["preAuthRef"]
    inquiry = _inquiry(request, "replaced")
    claim = inquiry["entry"][0]["resource"]
    if where == "preAuthRef":
        claim["insurance"][0]["preAuthRef"] = [first["preAuthRef"]]
    else:
        claim["item"][0]["extension"] = [{"url": urls.EXT_AUTHORIZATION_NUMBER, "valueString": first["preAuthRef"]}]
    (returned,) = await _returned(client, inquiry)
    assert claim_response(returned)["id"] == third["id"]
    assert claim_response(returned)["preAuthRef"] == third["preAuthRef"]
