"""Input that FHIR validation accepts but a column would refuse gets a 400 naming the element, on both backends.

Each case once answered 500 on PostgreSQL (SQLite stores what PostgreSQL refuses): a value
longer than its column, a quantity beyond NUMERIC(12, 3), a NUL byte. Nothing is stored.
Path ids beyond BIGINT and control characters in query parameters get a 4xx too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.database import create_session_factory
from app.store.models import Authorization
from tests.support.bundles import make_pas_bundle
from tests.support.pas import submit

Json = dict[str, Any]
CLAIM = "Bundle.entry[0].resource"


def _resource(bundle: Json, resource_type: str) -> tuple[int, Json]:
    for position, entry in enumerate(bundle["entry"]):
        if entry["resource"]["resourceType"] == resource_type:
            return position, entry["resource"]
    raise AssertionError(resource_type)


def _quantity(bundle: Json) -> str:
    bundle["entry"][0]["resource"]["item"][0]["quantity"] = {"value": 1e40}
    return f"{CLAIM}.item[0].quantity.value"


def _member_id(bundle: Json) -> str:
    position, coverage = _resource(bundle, "Coverage")
    coverage["subscriberId"] = "M" * 300
    return f"Bundle.entry[{position}].resource.subscriberId"


def _nul_member_id(bundle: Json) -> str:
    position, coverage = _resource(bundle, "Coverage")
    coverage["subscriberId"] = "MEMBER\x00123"
    return f"Bundle.entry[{position}].resource.subscriberId"


def _nul_patient_identifier(bundle: Json) -> str:
    position, patient = _resource(bundle, "Patient")
    patient["identifier"][0]["value"] = "MRN\x001"
    return f"Bundle.entry[{position}].resource.identifier[0].value"


def _patient_identifier(bundle: Json) -> str:
    position, patient = _resource(bundle, "Patient")
    patient["identifier"].append({"system": "http://provider.example.org/mrn", "value": "P" * 600})
    return f"Bundle.entry[{position}].resource.identifier[1]"


def _member_system(bundle: Json) -> str:
    position, coverage = _resource(bundle, "Coverage")
    del coverage["subscriberId"]
    mb = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]}
    coverage["identifier"] = [{"type": mb, "system": "urn:" + "s" * 600, "value": "M-1"}]
    return f"Bundle.entry[{position}].resource.identifier[0]"


def _bundle_identifier(bundle: Json) -> str:
    bundle["identifier"]["value"] = "B" * 600
    return "Bundle.identifier"


def _claim_identifier(bundle: Json) -> str:
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "C" * 600
    return f"{CLAIM}.identifier[0]"


def _provider_npi(bundle: Json) -> str:
    reference = bundle["entry"][0]["resource"]["provider"]["reference"]
    for position, entry in enumerate(bundle["entry"]):
        if entry["fullUrl"].endswith(reference):
            entry["resource"]["identifier"][0]["value"] = "1" * 300
            return f"Bundle.entry[{position}].resource.identifier[0]"
    raise AssertionError(reference)


def _product_code(bundle: Json) -> str:
    bundle["entry"][0]["resource"]["item"][1]["productOrService"]["coding"][0]["code"] = "9" * 65
    return f"{CLAIM}.item[1].productOrService.coding[0].code"


def _item_sequence(bundle: Json) -> str:
    bundle["entry"][0]["resource"]["item"][2]["sequence"] = 2**31
    return f"{CLAIM}.item[2].sequence"


CASES: dict[str, Callable[[Json], str]] = {
    "quantity 1e40": _quantity,
    "member id of 300 characters": _member_id,
    "NUL in the member id": _nul_member_id,
    "NUL in patient.identifier": _nul_patient_identifier,
    "Patient identifier of 600": _patient_identifier,
    "member identifier system of 600": _member_system,
    "Bundle identifier of 600": _bundle_identifier,
    "Claim identifier of 600": _claim_identifier,
    "provider NPI of 300": _provider_npi,
    "product code of 65": _product_code,
    "item sequence beyond 32 bits": _item_sequence,
}


async def _stored(engine: AsyncEngine) -> int:
    async with create_session_factory(engine)() as session:
        return int((await session.execute(select(func.count()).select_from(Authorization))).scalar_one())


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_value_that_would_not_fit_its_column_is_a_400_naming_its_element(
    client: httpx.AsyncClient, engine: AsyncEngine, case: str
) -> None:
    bundle = make_pas_bundle()
    expression = CASES[case](bundle)
    response = await submit(client, bundle)
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for issue in outcome["issue"] for e in issue.get("expression", [])]
    assert await _stored(engine) == 0


async def test_the_largest_values_that_fit_are_stored(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    bundle = make_pas_bundle()
    _, coverage = _resource(bundle, "Coverage")
    coverage["subscriberId"] = "M" * 256
    bundle["entry"][0]["resource"]["item"][0]["quantity"] = {"value": 999999999.999}
    system = bundle["identifier"]["system"]
    bundle["identifier"]["value"] = "B" * (512 - len(system) - 1)
    # the longest Patient identifier, in 4-byte characters: its (client, value) index row still fits PostgreSQL's
    _, patient = _resource(bundle, "Patient")
    patient["identifier"].append({"system": "urn:p", "value": "\U0001f600" * (512 - len("urn:p|"))})
    response = await submit(client, bundle)
    assert response.status_code == 200, response.text
    assert await _stored(engine) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/jobs/{id}"),
        ("POST", "/jobs/{id}/retry"),
        ("GET", "/webhooks/deliveries/{id}"),
        ("POST", "/webhooks/deliveries/{id}/redeliver"),
    ],
)
@pytest.mark.parametrize("row_id", [2**63, 10**30, 0, -1])
async def test_a_path_id_outside_bigint_is_refused_not_a_server_error(
    client: httpx.AsyncClient, method: str, path: str, row_id: int
) -> None:
    response = await client.request(method, path.format(id=row_id))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_path_id_within_bigint_that_is_not_there_is_a_404(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/jobs/{2**63 - 1}")).status_code == 404
    assert (await client.get(f"/webhooks/deliveries/{2**63 - 1}")).status_code == 404


async def test_a_jobs_cursor_beyond_bigint_is_a_400(client: httpx.AsyncClient) -> None:
    assert (await client.get("/jobs", params={"cursor": str(10**30)})).status_code == 400


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/fhir/ClaimResponse", {"identifier": "A\x00B"}),
        ("/fhir/ClaimResponse", {"patient.identifier": "M\x00"}),
        ("/authorizations", {"member_id": "M\x00"}),
        ("/authorizations", {"provider": "x|\x00"}),
        ("/authorizations", {"payer": "\x00"}),
        ("/jobs", {"kind": "no\x00op"}),
        ("/audit", {"operation": "\x00"}),
    ],
)
async def test_a_control_character_in_a_query_parameter_is_refused(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params)
    fhir = path.startswith("/fhir")
    assert response.status_code == (400 if fhir else 422), response.text
    body = response.json()
    if fhir:
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["expression"] == [f"query.{next(iter(params))}"]
    else:
        assert body["issues"][0]["expression"] == f"query.{next(iter(params))}"


async def test_a_control_character_in_a_path_parameter_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/ClaimResponse/abc%00def")
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["path.claim_response_id"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.org/a", "description": "hi\x00there"},
        {"url": "https://hooks.example.org/a\x00", "event_types": ["*"]},
        {"url": "https://hooks.example.org/a", "event_types": ["authorization.approved\x00"]},
        {"url": "https://hooks.example.org/" + "a" * 2100},
    ],
)
async def test_a_webhook_body_the_store_would_refuse_is_a_4xx(client: httpx.AsyncClient, body: Json) -> None:
    response = await client.post("/webhooks", json=body)
    assert response.status_code in (400, 422), response.text
    assert (await client.get("/webhooks")).json()["endpoints"] == []


PAYLOAD_CONTENT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content"


def _subscription(**channel: Any) -> Json:
    topic = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "PAS decisions",
        "criteria": topic,
        "channel": {
            "type": "rest-hook",
            "endpoint": "https://hooks.example.org/f",
            "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": "full-resource"}]},  # PAS spec-62
            **channel,
        },
    }


@pytest.mark.parametrize(
    ("resource", "expression"),
    [
        ({**_subscription(), "reason": "why\x00"}, "Subscription.reason"),
        (_subscription(header=["Authorization: x\x00"]), "Subscription.channel.header[0]"),
        (_subscription(endpoint="https://hooks.example.org/" + "e" * 2100), "Subscription.channel.endpoint"),
    ],
)
async def test_a_subscription_the_store_would_refuse_is_a_400_naming_its_element(
    client: httpx.AsyncClient, resource: Json, expression: str
) -> None:
    response = await client.post(
        "/fhir/Subscription", content=orjson.dumps(resource), headers={"content-type": "application/fhir+json"}
    )
    assert response.status_code == 400, response.text
    assert expression in [e for issue in response.json()["issue"] for e in issue.get("expression", [])]


async def test_a_cds_hooks_request_with_a_control_character_is_a_400(client: httpx.AsyncClient) -> None:
    request = {"hook": "order-sign", "hookInstance": "h\x00", "context": {}, "prefetch": {}}
    response = await client.post("/cds-services/epa-order-sign", json=request)
    assert response.status_code == 400, response.text
