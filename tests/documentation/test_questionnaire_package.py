"""`POST /fhir/Questionnaire/$questionnaire-package`: the DTR 2.2.0 payer-server requirements, on both backends.

Each test is one requirement of the Inferno DTR payer-server suite, written as an assertion on this
service (docs/dtr.md lists which are in and which are not).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.requirements.test_cds_hooks import call, coverage_info, device_request, hook_request

PACKAGE = "/fhir/Questionnaire/$questionnaire-package"
FHIR = {"content-type": "application/fhir+json"}
BASE = "https://epa-hub.example.org/fhir/dtr/sandbox"
POWER_MOBILITY = f"{BASE}/Questionnaire/power-mobility|1.0.0"
SUPPORT_SURFACES = f"{BASE}/Questionnaire/support-surfaces|1.0.0"
ASSERTION_ID = "coverage-assertion-id"
COVERAGE = {
    "resourceType": "Coverage",
    "id": "cov-1",
    "status": "active",
    "subscriberId": "MEMBER-123",
    "beneficiary": {"reference": "Patient/pat-1"},
    "payor": [{"reference": "Organization/org-1"}],
}


def params(*parameters: dict[str, Any], coverage: dict[str, Any] | None = COVERAGE) -> dict[str, Any]:
    given = [{"name": "coverage", "resource": coverage}] if coverage is not None else []
    return {"resourceType": "Parameters", "parameter": [*given, *parameters]}


def order(code: str, rid: str = "dr-1") -> dict[str, Any]:
    return {"name": "order", "resource": device_request(code, rid)}


def questionnaire(canonical: str) -> dict[str, Any]:
    return {"name": "questionnaire", "valueCanonical": canonical}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post(PACKAGE, content=orjson.dumps(body), headers=FHIR)


def bundles(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [p["resource"] for p in output.get("parameter", []) if p["name"] == "PackageBundle"]


def questionnaires_of(output: dict[str, Any]) -> list[str]:
    first = [b["entry"][0]["resource"] for b in bundles(output)]
    return [f"{q['url']}|{q['version']}" for q in first]


async def test_an_order_needing_documentation_gets_its_package_in_dtr_order(client: httpx.AsyncClient) -> None:
    response = await post(client, params(order("K0823")))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    (bundle,) = bundles(response.json())
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Questionnaire", "Library", "Library", "ValueSet", "QuestionnaireResponse"]
    assert questionnaires_of(response.json()) == [POWER_MOBILITY]


async def test_every_reference_in_a_package_is_version_specific_and_inside_it(client: httpx.AsyncClient) -> None:
    (bundle,) = bundles((await post(client, params(order("K0823")))).json())
    inside = {f"{e['resource']['url']}|{e['resource']['version']}" for e in bundle["entry"][:-1]}
    text = orjson.dumps(bundle).decode()
    referenced = {c for c in inside if c in text}
    questionnaire_q = bundle["entry"][0]["resource"]
    library_refs = [e["valueCanonical"] for e in questionnaire_q["extension"] if e["url"].endswith("cqf-library")]
    depends = [a["resource"] for e in bundle["entry"][1:3] for a in e["resource"].get("relatedArtifact", [])]
    for canonical in [*library_refs, *depends]:
        assert "|" in canonical
        assert canonical in inside
    assert referenced == inside


async def test_the_package_holds_an_in_progress_response_with_context_and_prefill(client: httpx.AsyncClient) -> None:
    (bundle,) = bundles((await post(client, params(order("K0823")))).json())
    response = bundle["entry"][-1]["resource"]
    assert response["status"] == "in-progress"
    assert response["questionnaire"] == POWER_MOBILITY
    assert response["subject"] == {"reference": "Patient/pat-1"}
    contexts = [e["valueReference"]["reference"] for e in response["extension"] if e["url"].endswith("qr-context")]
    assert contexts == ["Coverage/cov-1", "DeviceRequest/dr-1"]
    (order_group,) = [i for i in response["item"] if i["linkId"] == "order"]
    answers = {i["linkId"]: i["answer"][0] for i in order_group["item"]}
    assert answers["order.code"]["valueCoding"]["code"] == "K0823"
    assert answers["order.member"] == {"valueString": "MEMBER-123"}


async def test_the_union_of_questionnaires_over_all_inputs_each_once(client: httpx.AsyncClient) -> None:
    body = params(order("K0823"), order("E0193", "dr-2"), questionnaire(POWER_MOBILITY), order("K0824", "dr-3"))
    output = (await post(client, body)).json()
    assert questionnaires_of(output) == [POWER_MOBILITY, SUPPORT_SURFACES]


async def test_a_questionnaire_asked_by_bare_url_gets_its_latest_version(client: httpx.AsyncClient) -> None:
    output = (await post(client, params(questionnaire(SUPPORT_SURFACES.partition("|")[0])))).json()
    assert questionnaires_of(output) == [SUPPORT_SURFACES]


async def test_an_unknown_questionnaire_is_a_warning_in_the_outcome(client: httpx.AsyncClient) -> None:
    body = params(questionnaire(f"{BASE}/Questionnaire/nowhere|1.0.0"), order("E0193"))
    response = await post(client, body)
    assert response.status_code == 200
    output = response.json()
    assert questionnaires_of(output) == [SUPPORT_SURFACES]
    (outcome,) = [p["resource"] for p in output["parameter"] if p["name"] == "Outcome"]
    (issue,) = outcome["issue"]
    assert issue["severity"] == "warning"
    assert issue["expression"] == ["Parameters.parameter[1].valueCanonical"]


async def test_the_crd_coverage_assertion_as_context_names_the_questionnaire(client: httpx.AsyncClient) -> None:
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request("K0823")))).json()
    assertion = coverage_info(answer["systemActions"][0])[ASSERTION_ID]
    output = (await post(client, params({"name": "context", "valueString": assertion}))).json()
    assert questionnaires_of(output) == [POWER_MOBILITY]


async def test_an_unknown_context_is_404_naming_the_parameter(client: httpx.AsyncClient) -> None:
    response = await post(client, params({"name": "context", "valueString": "no-such-assertion"}))
    assert response.status_code == 404
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["Parameters.parameter[1].valueString"]


async def test_changedsince_with_nothing_newer_is_an_empty_200(client: httpx.AsyncClient) -> None:
    later = {"name": "changedsince", "valueDateTime": "2026-12-02T00:00:00Z"}
    response = await post(client, params(order("K0823"), later))
    assert response.status_code == 200
    assert "parameter" not in response.json()
    earlier = {"name": "changedsince", "valueDateTime": "2026-11-30T00:00:00Z"}
    assert questionnaires_of((await post(client, params(order("K0823"), earlier))).json()) == [POWER_MOBILITY]


BAD = [
    ("no coverage", params(order("K0823"), coverage=None), "Parameters.parameter"),
    (
        "two coverages",
        params({"name": "coverage", "resource": COVERAGE}, order("K0823")),
        "Parameters.parameter[1].resource",
    ),
    (
        "not R4",
        params(order("K0823"), coverage={**COVERAGE, "beneficiary": "Patient/1"}),
        "Parameters.parameter[0].resource.beneficiary",
    ),
    (
        "inactive",
        params(order("K0823"), coverage={**COVERAGE, "status": "cancelled"}),
        "Parameters.parameter[0].resource.status",
    ),
    (
        "order type",
        params({"name": "order", "resource": {"resourceType": "Patient"}}),
        "Parameters.parameter[1].resource",
    ),
    ("not a canonical", params(questionnaire("power mobility")), "Parameters.parameter[1].valueCanonical"),
    (
        "changedsince",
        params(order("K0823"), {"name": "changedsince", "valueDateTime": "soon"}),
        "Parameters.parameter[2].valueDateTime",
    ),
    ("dtr-1", params(), "Parameters.parameter"),
]


@pytest.mark.parametrize(("why", "body", "expression"), BAD, ids=[b[0] for b in BAD])
async def test_bad_input_is_one_400_outcome_naming_the_parameter(
    client: httpx.AsyncClient, why: str, body: dict[str, Any], expression: str
) -> None:
    response = await post(client, body)
    assert response.status_code == 400, why
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for issue in outcome["issue"] for e in issue.get("expression", [])]


async def test_a_body_that_is_not_parameters_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(PACKAGE, content=b'{"resourceType": "Bundle"}', headers=FHIR)
    assert response.status_code == 400
    assert (await client.post(PACKAGE, content=b"{", headers=FHIR)).status_code == 400


async def test_the_capability_statement_instantiates_the_dtr_payer_service(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    assert "http://hl7.org/fhir/us/davinci-dtr/CapabilityStatement/dtr-payer-service|2.2.0" in statement["instantiates"]
    (resource,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "Questionnaire"]
    assert resource["operation"][0]["name"] == "questionnaire-package"


async def test_an_order_that_is_not_valid_r4_is_400_naming_its_element(client: httpx.AsyncClient) -> None:
    broken = {**device_request("K0823"), "codeCodeableConcept": {"coding": "K0823"}}
    response = await post(client, params({"name": "order", "resource": broken}))
    assert response.status_code == 400
    expressions = [e for issue in response.json()["issue"] for e in issue.get("expression", [])]
    assert any(e.startswith("Parameters.parameter[1].resource.codeCodeableConcept") for e in expressions)
