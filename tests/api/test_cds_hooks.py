"""CRD over CDS Hooks 2.0: discovery, each hook's response shape, the CRD invariants, assertion links."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import CoverageAssertion
from tests.coverage.support import HCPCS, authorizations, claim_of, pas_bundle, post_fhir
from tests.support.pas import claim_response

CRD_INFO = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
JSON = {"content-type": "application/json"}
COVERAGE = {
    "resourceType": "Bundle",
    "type": "searchset",
    "entry": [
        {
            "resource": {
                "resourceType": "Coverage",
                "id": "cov-1",
                "status": "active",
                "subscriberId": "MEMBER-123",
                "beneficiary": {"reference": "Patient/pat-1"},
                "payor": [{"reference": "Organization/org-1"}],
            }
        }
    ],
}


def device_request(code: str, rid: str = "dr-1", system: str = HCPCS) -> dict[str, Any]:
    return {
        "resourceType": "DeviceRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "codeCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/pat-1"},
        "occurrenceDateTime": "2030-05-10",
    }


def hook_request(hook: str, *resources: dict[str, Any], coverage: bool = True) -> dict[str, Any]:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    context: dict[str, Any] = {"userId": "Practitioner/pr-1", "patientId": "pat-1"}
    prefetch: dict[str, Any] = {"coverage": COVERAGE} if coverage else {}
    if hook in ("order-sign", "order-select"):
        context["draftOrders"] = bundle
        if hook == "order-select":
            context["selections"] = [f"{r['resourceType']}/{r['id']}" for r in resources[:1]]
    elif hook == "appointment-book":
        context["appointments"] = bundle
    elif hook == "order-dispatch":
        context["dispatchedOrders"] = [f"{r['resourceType']}/{r['id']}" for r in resources]
        context["performer"] = "Organization/supplier-1"
        prefetch["dispatchedOrders"] = bundle
    elif hook == "encounter-start":
        context["encounterId"] = "enc-1"
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": context,
        "prefetch": prefetch,
    }


async def call(client: httpx.AsyncClient, service: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/cds-services/{service}", content=orjson.dumps(body), headers=JSON)


def coverage_info(action: dict[str, Any]) -> dict[str, Any]:
    (extension,) = [e for e in action["resource"]["extension"] if e["url"] == CRD_INFO]
    return {part["url"]: next(v for k, v in part.items() if k.startswith("value")) for part in extension["extension"]}


def check_cards(answer: dict[str, Any]) -> None:
    for card in answer["cards"]:
        assert len(card["summary"]) < 140
        assert card["source"]["label"]
        assert card["source"]["topic"]["code"]
        assert card["indicator"] in ("info", "warning", "critical")


async def test_discovery_lists_every_crd_hook(client: httpx.AsyncClient) -> None:
    services = (await client.get("/cds-services")).json()["services"]
    assert {s["hook"] for s in services} == {
        "order-sign",
        "order-select",
        "appointment-book",
        "order-dispatch",
        "encounter-start",
    }
    for service in services:
        assert service["id"]
        assert service["description"]
        assert "coverage" in service["prefetch"]


def appointment(code: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": "ap-1",
        "status": "proposed",
        "serviceType": [{"coding": [{"system": HCPCS, "code": code}]}],
        "start": "2030-05-10T09:00:00Z",
        "participant": [{"actor": {"reference": "Patient/pat-1"}, "status": "accepted"}],
    }


@pytest.mark.parametrize(
    ("service", "hook", "resource"),
    [
        ("crd-order-sign", "order-sign", device_request("K0823")),
        ("crd-appointment-book", "appointment-book", appointment("K0823")),
        ("crd-order-dispatch", "order-dispatch", device_request("K0823")),
    ],
)
async def test_primary_hooks_answer_a_coverage_information_system_action(
    client: httpx.AsyncClient, service: str, hook: str, resource: dict[str, Any]
) -> None:
    response = await call(client, service, hook_request(hook, resource))
    assert response.status_code == 200
    answer = response.json()
    check_cards(answer)
    (action,) = answer["systemActions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == resource["id"]
    info = coverage_info(action)
    assert info["coverage"] == {"reference": "Coverage/cov-1"}
    assert (info["covered"], info["pa-needed"], info["doc-needed"]) == ("conditional", "auth-needed", "both")
    assert info["coverage-assertion-id"]
    assert info["date"]
    assert "satisfied-pa-id" not in info
    topics = [card["source"]["topic"]["code"] for card in answer["cards"]]
    assert topics == ["instructions", "external-reference"]
    assert answer["cards"][1]["links"][0]["url"].startswith("https://www.cms.gov/")


async def test_order_select_answers_cards_for_the_selected_orders_only(client: httpx.AsyncClient) -> None:
    body = hook_request("order-select", device_request("K0823"), device_request("E0193", "dr-2"))
    answer = (await call(client, "crd-order-select", body)).json()
    check_cards(answer)
    assert "systemActions" not in answer
    assert "K0823" in answer["cards"][0]["detail"]
    assert "E0193" not in answer["cards"][0]["detail"]


async def test_encounter_start_answers_no_cards_when_coverage_is_known(client: httpx.AsyncClient) -> None:
    answer = (await call(client, "crd-encounter-start", hook_request("encounter-start"))).json()
    assert answer == {"cards": []}


@pytest.mark.parametrize("service", ["crd-order-sign", "crd-encounter-start"])
async def test_unknown_coverage_answers_the_coverage_not_found_form(client: httpx.AsyncClient, service: str) -> None:
    hook = service.removeprefix("crd-")
    response = await call(client, service, hook_request(hook, device_request("K0823"), coverage=False))
    assert response.status_code == 200
    answer = response.json()
    check_cards(answer)
    assert answer["systemActions"] == []
    assert answer["cards"][0]["summary"].startswith("Coverage not found")


async def test_no_auth_and_not_covered_orders(client: httpx.AsyncClient) -> None:
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request("A9270")))).json()
    info = coverage_info(answer["systemActions"][0])
    assert info["covered"] == "not-covered"
    assert "pa-needed" not in info
    assert len(answer["cards"]) == 1  # no documentation link for this rule


async def test_an_active_authorization_satisfies_the_order_and_is_named(client: httpx.AsyncClient) -> None:
    submitted = (await post_fhir(client, "/fhir/Claim/$submit", pas_bundle("K0823"))).json()
    reference = claim_response(submitted)["preAuthRef"]
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request("K0823")))).json()
    info = coverage_info(answer["systemActions"][0])
    assert (info["pa-needed"], info["satisfied-pa-id"]) == ("satisfied", reference)


async def test_a_later_submit_carrying_the_assertion_id_is_linked_to_it(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request("K0823")))).json()
    assertion_id = coverage_info(answer["systemActions"][0])["coverage-assertion-id"]
    bundle = pas_bundle("K0823")
    claim_of(bundle)["item"][0]["extension"].append(
        {"url": CRD_INFO, "extension": [{"url": "coverage-assertion-id", "valueString": assertion_id}]}
    )
    assert (await post_fhir(client, "/fhir/Claim/$submit", bundle)).status_code == 200
    (stored,) = await authorizations(engine)
    async with engine.connect() as connection:
        linked = (await connection.execute(select(CoverageAssertion.authorization_id))).scalars().all()
    assert linked == [stored.id]


async def test_a_submit_without_an_assertion_links_nothing(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await call(client, "crd-order-sign", hook_request("order-sign", device_request("K0823")))
    await post_fhir(client, "/fhir/Claim/$submit", pas_bundle("K0823"))
    async with engine.connect() as connection:
        linked = (await connection.execute(select(CoverageAssertion.authorization_id))).scalars().all()
    assert linked == [None]


@pytest.mark.parametrize(
    ("service", "body", "status"),
    [
        ("crd-nothing", hook_request("order-sign"), 404),
        ("crd-order-sign", hook_request("appointment-book"), 400),
        ("crd-order-sign", {"hook": "order-sign"}, 400),
    ],
)
async def test_bad_calls_are_4xx_never_500(
    client: httpx.AsyncClient, service: str, body: dict[str, Any], status: int
) -> None:
    assert (await call(client, service, body)).status_code == status


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/cds-services/crd-order-sign", content=b"{nope", headers=JSON)
    assert response.status_code == 400
