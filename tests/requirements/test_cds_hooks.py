"""CRD over CDS Hooks 2.0: discovery, each hook's response shape, the CRD invariants, assertion links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.store.models import CoverageAssertion
from tests.support.coverage import HCPCS, authorizations, claim_of, client_with_rules, pas_bundle, post_fhir
from tests.support.pas import claim_response
from tests.support.profiles import check_hook_answer

CRD_INFO = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CARD_TYPES_2_2_1 = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
CARD_TYPES_2_0_1 = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
# The context fields each hook defines (CDS Hooks 2.0 hook pages; order-dispatch also its earlier `order` form).
HOOK_CONTEXT = {
    "order-sign": {"userId", "patientId", "encounterId", "draftOrders"},
    "order-select": {"userId", "patientId", "encounterId", "selections", "draftOrders"},
    "appointment-book": {"userId", "patientId", "encounterId", "appointments"},
    "order-dispatch": {"patientId", "dispatchedOrders", "performer", "fulfillmentTasks", "order", "task"},
    "encounter-start": {"userId", "patientId", "encounterId"},
    "encounter-discharge": {"userId", "patientId", "encounterId"},
}
ORDER_HOOKS = {
    "crd-order-sign": "order-sign",
    "crd-appointment-book": "appointment-book",
    "crd-order-dispatch": "order-dispatch",
}
"""The primary hooks whose Coverage Information annotates each order."""
PRIMARY = {**ORDER_HOOKS, "crd-encounter-discharge": "encounter-discharge"}
ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "enc-1",
    "status": "in-progress",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
    "subject": {"reference": "Patient/pat-1"},
}
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


def hook_request(
    hook: str,
    *resources: dict[str, Any],
    coverage: bool = True,
    dispatch_form: str = "dispatchedOrders",
    version: str | None = "2.2",
) -> dict[str, Any]:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    context: dict[str, Any] = {"userId": "Practitioner/pr-1", "patientId": "pat-1"}
    prefetch: dict[str, Any] = {"coverage": COVERAGE} if coverage else {}
    if hook in ("order-sign", "order-select"):
        context["draftOrders"] = bundle
        if hook == "order-select":
            context["selections"] = [f"{r['resourceType']}/{r['id']}" for r in resources[:1]]
    elif hook == "appointment-book":
        context["appointments"] = bundle
    elif hook == "order-dispatch" and dispatch_form == "dispatchedOrders":
        context["dispatchedOrders"] = [f"{r['resourceType']}/{r['id']}" for r in resources]
        context["performer"] = "Organization/supplier-1"
        prefetch["dispatchedOrders"] = bundle
    elif hook == "order-dispatch":  # the earlier form: one `order`, its `task` and the `performer`
        del context["userId"]
        first = f"{resources[0]['resourceType']}/{resources[0]['id']}" if resources else "DeviceRequest/none"
        context["order"] = first
        context["performer"] = "Organization/supplier-1"
        context["task"] = {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "focus": {"reference": first},
        }
        if resources:
            prefetch["order"] = resources[0]
    elif hook in ("encounter-start", "encounter-discharge"):
        context["encounterId"] = "enc-1"
        prefetch["encounter"] = ENCOUNTER
        if hook == "encounter-discharge":
            prefetch["deviceOrders"] = {**bundle, "type": "searchset"}
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": context,
        "prefetch": prefetch,
        **({"extension": {"davinci-crd.requestedVersion": version}} if version else {}),
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
    assert {s["hook"] for s in services} == set(HOOK_CONTEXT)
    for service in services:
        assert service["id"]
        assert service["description"]
        assert "coverage" in service["prefetch"]


async def test_each_service_declares_the_crd_versions_it_serves_as_major_minor_strings(
    client: httpx.AsyncClient,
) -> None:
    for service in (await client.get("/cds-services")).json()["services"]:
        assert service["extension"]["davinci-crd.version"] == ["2.0", "2.2"]


async def test_each_service_declares_its_configuration_options(client: httpx.AsyncClient) -> None:
    for service in (await client.get("/cds-services")).json()["services"]:
        options = {o["code"]: o for o in service["extension"]["davinci-crd.configuration-options"]}
        assert "coverage-info" in options
        for option in options.values():
            assert option["type"] == "boolean"
            assert option["name"]
            assert option["description"]
            assert option["default"] is True


def with_extension(body: dict[str, Any], **extension: Any) -> dict[str, Any]:
    return {**body, "extension": {**body.get("extension", {}), **extension}}


@pytest.mark.parametrize(("service", "hook"), PRIMARY.items())
async def test_coverage_info_false_returns_no_coverage_information(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    body = with_extension(
        hook_request(hook, order_for(hook, "K0823")),
        **{"davinci-crd.configuration": {"coverage-info": False, "no-such-option": True}},
    )
    response = await call(client, service, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["systemActions"] == []
    assert answer["cards"][0]["source"]["topic"]["code"] == "instructions"


async def test_unknown_configuration_options_are_ignored(client: httpx.AsyncClient) -> None:
    body = with_extension(
        hook_request("order-sign", device_request("K0823")), **{"davinci-crd.configuration": {"no-such-option": False}}
    )
    answer = (await call(client, "crd-order-sign", body)).json()
    assert len(answer["systemActions"]) == 1


@pytest.mark.parametrize("version", ["2.1", "3.0", 2.2, ["2.2"]])
async def test_an_unsupported_requested_version_is_400_naming_the_supported_ones(
    client: httpx.AsyncClient, version: Any
) -> None:
    body = with_extension(
        hook_request("order-sign", device_request("K0823")), **{"davinci-crd.requestedVersion": version}
    )
    response = await call(client, "crd-order-sign", body)
    assert response.status_code == 400
    assert outcome_expressions(response) == ["extension.davinci-crd.requestedVersion"]
    text = response.json()["issue"][0]["details"]["text"]
    assert "2.0, 2.2" in text


@pytest.mark.parametrize(("service", "hook"), PRIMARY.items())
async def test_a_request_naming_no_version_gets_2_0_1_shapes(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    body = hook_request(hook, order_for(hook, "K0823"), version=None)
    assert "extension" not in body
    answer = (await call(client, service, body)).json()
    (action,) = answer["systemActions"]
    assert len(parts(action, "doc-needed")) <= 1
    assert {card["source"]["topic"]["system"] for card in answer["cards"]} == {CARD_TYPES_2_0_1}


async def test_prefetch_tokens_name_only_context_fields_the_hook_defines(client: httpx.AsyncClient) -> None:
    for service in (await client.get("/cds-services")).json()["services"]:
        for template in service["prefetch"].values():
            fields = {token.split(".")[1] for token in re.findall(r"\{\{(context\.[A-Za-z.]+)\}\}", template)}
            assert fields, template
            assert fields <= HOOK_CONTEXT[service["hook"]], (service["hook"], template)


def appointment(code: str, rid: str = "ap-1") -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": rid,
        "status": "proposed",
        "serviceType": [{"coding": [{"system": HCPCS, "code": code}]}],
        "start": "2030-05-10T09:00:00Z",
        "participant": [{"actor": {"reference": "Patient/pat-1"}, "status": "accepted"}],
    }


def order_for(hook: str, code: str, rid: str = "dr-1") -> dict[str, Any]:
    return appointment(code, rid) if hook == "appointment-book" else device_request(code, rid)


@pytest.mark.parametrize("version", ["2.0", "2.2"])
@pytest.mark.parametrize(("service", "hook"), PRIMARY.items())
async def test_primary_hooks_answer_a_coverage_information_system_action(
    client: httpx.AsyncClient, service: str, hook: str, version: str
) -> None:
    resource = order_for(hook, "K0823")
    response = await call(client, service, hook_request(hook, resource, version=version))
    assert response.status_code == 200
    answer = response.json()
    check_cards(answer)
    (action,) = answer["systemActions"]
    assert action["type"] == "update"
    if hook == "encounter-discharge":  # annotates the Encounter the hook is about, asks for no documentation
        assert (action["resource"]["resourceType"], action["resource"]["id"]) == ("Encounter", "enc-1")
        assert action["resource"]["status"] == "in-progress"
    else:
        assert action["resource"]["id"] == resource["id"]
    info = coverage_info(action)
    assert info["coverage"] == {"reference": "Coverage/cov-1"}
    assert (info["covered"], info["pa-needed"]) == ("conditional", "auth-needed")
    assert info["coverage-assertion-id"]
    assert info["date"]
    assert "satisfied-pa-id" not in info
    topics = [card["source"]["topic"]["code"] for card in answer["cards"]]
    assert topics == ["instructions", "external-reference"]
    assert {card["source"]["topic"]["system"] for card in answer["cards"]} == {
        CARD_TYPES_2_0_1 if version == "2.0" else CARD_TYPES_2_2_1
    }
    check_hook_answer(answer, version)
    documentation = ["clinical"] if version == "2.0" else ["clinical", "admin"]
    assert parts(action, "doc-needed") == ([] if hook == "encounter-discharge" else documentation)
    assert answer["cards"][1]["links"][0]["url"].startswith("https://www.cms.gov/")


@pytest.mark.parametrize(("service", "hook"), ORDER_HOOKS.items())
async def test_primary_hooks_answer_one_action_per_order_on_the_same_resource(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    orders = [order_for(hook, "K0823", "o-1"), order_for(hook, "E0193", "o-2")]
    body = hook_request(hook, *orders)
    answer = (await call(client, service, body)).json()
    actions = answer["systemActions"]
    assert [(a["resource"]["resourceType"], a["resource"]["id"]) for a in actions] == [
        (o["resourceType"], o["id"]) for o in orders
    ]
    assert all(coverage_info(a)["coverage"] == {"reference": "Coverage/cov-1"} for a in actions)
    assert len({coverage_info(a)["coverage-assertion-id"] for a in actions}) == 2


def uncoded_order(hook: str, rid: str = "o-nocode") -> dict[str, Any]:
    """The hook's kind of order without any code (a ServiceRequest without `code`, an Appointment without a type)."""
    if hook == "appointment-book":
        resource = appointment("K0823", rid)
        del resource["serviceType"]
        return resource
    return {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/pat-1"},
        "occurrenceDateTime": "2030-05-10",
    }


def check_uncoded(action: dict[str, Any]) -> None:
    info = coverage_info(action)
    assert info["coverage"] == {"reference": "Coverage/cov-1"}
    assert (info["covered"], info["pa-needed"]) == ("conditional", "conditional")
    assert parts(action, "info-needed") == ["detail-code"]
    assert parts(action, "doc-needed") == []
    assert info["coverage-assertion-id"]
    assert info["date"]
    assert "satisfied-pa-id" not in info


@pytest.mark.parametrize(("service", "hook"), ORDER_HOOKS.items())
async def test_an_order_without_a_code_gets_its_conditional_coverage_information_action(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    orders = [order_for(hook, "K0823", "o-1"), uncoded_order(hook, "o-2")]
    response = await call(client, service, hook_request(hook, *orders))
    assert response.status_code == 200, response.text
    answer = response.json()
    check_cards(answer)
    actions = answer["systemActions"]
    assert [(a["type"], a["resource"]["resourceType"], a["resource"]["id"]) for a in actions] == [
        ("update", o["resourceType"], o["id"]) for o in orders
    ]
    assert coverage_info(actions[0])["pa-needed"] == "auth-needed"
    check_uncoded(actions[1])
    assert f"{orders[1]['resourceType']}/o-2: no code" in answer["cards"][0]["detail"]


async def test_a_medication_request_without_a_medication_code_gets_coverage_information(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    medication = {
        "resourceType": "MedicationRequest",
        "id": "mr-1",
        "status": "draft",
        "intent": "order",
        "medicationReference": {"display": "a compounded preparation"},
        "subject": {"reference": "Patient/pat-1"},
    }
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", medication))).json()
    (action,) = answer["systemActions"]
    assert (action["resource"]["resourceType"], action["resource"]["id"]) == ("MedicationRequest", "mr-1")
    assert action["resource"]["medicationReference"] == medication["medicationReference"]
    check_uncoded(action)
    async with engine.connect() as connection:
        stored = (await connection.execute(select(CoverageAssertion))).one()
    assert (stored.id, stored.order_reference) == (
        coverage_info(action)["coverage-assertion-id"],
        "MedicationRequest/mr-1",
    )
    assert (stored.covered, stored.pa_needed, stored.product_code) == ("conditional", "conditional", "")


async def test_order_select_names_a_selected_order_without_a_code_on_its_card(client: httpx.AsyncClient) -> None:
    body = hook_request("order-select", uncoded_order("order-select"), device_request("K0823"))
    answer = (await call(client, "crd-order-select", body)).json()
    assert "systemActions" not in answer
    assert "ServiceRequest/o-nocode: no code" in answer["cards"][0]["detail"]
    assert "K0823" not in answer["cards"][0]["detail"]


async def test_order_dispatch_accepts_the_earlier_order_task_performer_form(client: httpx.AsyncClient) -> None:
    body = hook_request("order-dispatch", device_request("K0823"), dispatch_form="order")
    assert "dispatchedOrders" not in body["context"]
    answer = (await call(client, "crd-order-dispatch", body)).json()
    (action,) = answer["systemActions"]
    assert action["resource"]["id"] == "dr-1"
    assert coverage_info(action)["pa-needed"] == "auth-needed"


async def test_discovery_has_prefetch_templates_for_both_order_dispatch_forms(client: httpx.AsyncClient) -> None:
    (service,) = [s for s in (await client.get("/cds-services")).json()["services"] if s["hook"] == "order-dispatch"]
    assert "{{context.dispatchedOrders" in service["prefetch"]["dispatchedOrders"]
    assert service["prefetch"]["order"] == "{{context.order}}"


def parts(action: dict[str, Any], name: str) -> list[Any]:
    (extension,) = [e for e in action["resource"]["extension"] if e["url"] == CRD_INFO]
    return [p["valueCode"] for p in extension["extension"] if p["url"] == name]


@pytest.mark.parametrize(("service", "hook"), ORDER_HOOKS.items())
async def test_conditional_answers_carry_info_needed_and_doc_needed_in_2_2_1_codes(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    answer = (await call(client, service, hook_request(hook, order_for(hook, "K0823")))).json()
    (action,) = answer["systemActions"]
    assert coverage_info(action)["covered"] == "conditional"
    assert parts(action, "info-needed")
    assert set(parts(action, "info-needed")) <= {"performer", "location", "timeframe"}
    assert parts(action, "doc-needed") == ["clinical", "admin"]


@pytest.mark.parametrize(("service", "hook"), PRIMARY.items())
async def test_cards_name_their_type_in_the_cdshooks_card_type_system(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    answer = (await call(client, service, hook_request(hook, order_for(hook, "K0823")))).json()
    assert {card["source"]["topic"]["system"] for card in answer["cards"]} == {CARD_TYPES_2_2_1}


async def test_a_2_0_1_caller_gets_the_2_0_1_card_type_system(client: httpx.AsyncClient) -> None:
    body = hook_request("order-sign", device_request("K0823"), version="2.0")
    answer = (await call(client, "crd-order-sign", body)).json()
    assert {card["source"]["topic"]["system"] for card in answer["cards"]} == {CARD_TYPES_2_0_1}


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


def outcome_expressions(response: httpx.Response) -> list[str]:
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    return [expression for issue in outcome["issue"] for expression in issue["expression"]]


ALL_SERVICES = [*PRIMARY.items(), ("crd-order-select", "order-select"), ("crd-encounter-start", "encounter-start")]


@pytest.mark.parametrize(("service", "hook"), ALL_SERVICES)
async def test_unknown_coverage_is_400_with_an_operation_outcome(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    response = await call(client, service, hook_request(hook, order_for(hook, "K0823"), coverage=False))
    assert response.status_code == 400
    assert outcome_expressions(response) == ["prefetch.coverage"]
    assert "Coverage not found" in response.json()["issue"][0]["details"]["text"]


@pytest.mark.parametrize(("service", "hook"), ALL_SERVICES)
@pytest.mark.parametrize("context", [None, "context", ["a"], 7])
async def test_a_missing_or_non_object_context_is_400_with_an_operation_outcome(
    client: httpx.AsyncClient, service: str, hook: str, context: Any
) -> None:
    body = hook_request(hook, order_for(hook, "K0823"))
    if context is None:
        del body["context"]
    else:
        body["context"] = context
    response = await call(client, service, body)
    assert response.status_code == 400
    assert outcome_expressions(response) == ["context"]


@pytest.mark.parametrize(
    ("service", "hook", "field"),
    [
        ("crd-order-sign", "order-sign", "draftOrders"),
        ("crd-order-select", "order-select", "draftOrders"),
        ("crd-appointment-book", "appointment-book", "appointments"),
    ],
)
@pytest.mark.parametrize("value", [[{"resourceType": "DeviceRequest"}], {"resourceType": "DeviceRequest"}, "x"])
async def test_order_fields_that_are_not_a_bundle_are_400(
    client: httpx.AsyncClient, service: str, hook: str, field: str, value: Any
) -> None:
    body = hook_request(hook, order_for(hook, "K0823"))
    body["context"][field] = value
    response = await call(client, service, body)
    assert response.status_code == 400
    assert f"context.{field}" in outcome_expressions(response)


@pytest.mark.parametrize(("service", "hook"), ALL_SERVICES)
async def test_a_context_without_the_patient_is_400_naming_it(
    client: httpx.AsyncClient, service: str, hook: str
) -> None:
    body = hook_request(hook, order_for(hook, "K0823"))
    del body["context"]["patientId"]
    response = await call(client, service, body)
    assert response.status_code == 400
    assert "context.patientId" in outcome_expressions(response)


async def test_order_dispatch_without_any_order_field_is_400(client: httpx.AsyncClient) -> None:
    body = hook_request("order-dispatch", device_request("K0823"))
    del body["context"]["dispatchedOrders"]
    response = await call(client, "crd-order-dispatch", body)
    assert response.status_code == 400
    assert "context.dispatchedOrders" in outcome_expressions(response)


async def test_encounter_discharge_only_answers_orders_of_its_encounter(client: httpx.AsyncClient) -> None:
    other = {**device_request("E0193", "dr-2"), "encounter": {"reference": "Encounter/enc-9"}}
    mine = {**device_request("K0823"), "encounter": {"reference": "Encounter/enc-1"}}
    answer = (await call(client, "crd-encounter-discharge", hook_request("encounter-discharge", mine, other))).json()
    (action,) = answer["systemActions"]
    assert len(action["resource"]["extension"]) == 1
    assert "K0823" in answer["cards"][0]["detail"]
    assert "E0193" not in answer["cards"][0]["detail"]


@pytest.mark.parametrize("version", ["2.0", "2.2"])
async def test_encounter_discharge_annotates_the_encounter_once_per_order_without_documentation(
    client: httpx.AsyncClient, version: str
) -> None:
    orders = [device_request("K0823", "dr-1"), uncoded_order("encounter-discharge", "sr-2")]
    body = hook_request("encounter-discharge", *orders, version=version)
    answer = (await call(client, "crd-encounter-discharge", body)).json()
    (action,) = answer["systemActions"]
    assert (action["resource"]["resourceType"], action["resource"]["id"]) == ("Encounter", "enc-1")
    extensions = action["resource"]["extension"]
    assert [e["url"] for e in extensions] == [CRD_INFO, CRD_INFO]
    assert all(p["url"] != "doc-needed" for e in extensions for p in e["extension"])
    check_hook_answer(answer, version)
    assert (
        len({p["valueString"] for e in extensions for p in e["extension"] if p["url"] == "coverage-assertion-id"}) == 2
    )
    assert all(a["resource"]["resourceType"] == "Encounter" for a in answer["systemActions"])


async def test_no_auth_and_not_covered_orders(client: httpx.AsyncClient) -> None:
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request("A9270")))).json()
    info = coverage_info(answer["systemActions"][0])
    assert info["covered"] == "not-covered"
    assert "pa-needed" not in info
    assert len(answer["cards"]) == 1  # no documentation link for this rule


RULES_V1 = 'format = 1\nversion = "v1"\npayers = ["sandbox"]\n[[rule]]\nid = "needs"\ncodes = ["E0100"]\n'
RULES_V2 = (
    'format = 1\nversion = "v2"\npayers = ["sandbox"]\n'
    '[[rule]]\nid = "free"\ncodes = ["E0100-E0101"]\nauthorization = "not-required"\n'
)


async def test_after_a_rules_reload_crd_answers_codes_it_answered_before_by_the_new_rules(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    # The rules remember per code which rules can match it (app.coverage.evaluate.PayerRules.candidates):
    # E0100 had one, E0101 none; after the reload both fall under the new range.
    directory = tmp_path / "rules"
    async with client_with_rules(settings, directory, RULES_V1) as client:

        async def pa_needed(code: str) -> str:
            answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request(code)))).json()
            return str(coverage_info(answer["systemActions"][0])["pa-needed"])

        assert (await pa_needed("E0100"), await pa_needed("E0101")) == ("auth-needed", "conditional")
        (directory / "sandbox.toml").write_text(RULES_V2)
        assert (await client.post("/coverage-rules/reload")).status_code == 200
        assert (await pa_needed("E0100"), await pa_needed("E0101")) == ("no-auth", "no-auth")


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
    assert response.json()["resourceType"] == "OperationOutcome"
