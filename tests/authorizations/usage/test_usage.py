"""Units and visits used, end to end through HTTP with the sandbox payer: counted against the units
an approval authorized, `exhausting` (80 %) and `exhausted` once each on the timeline and in the
outbox, use beyond the authorization recorded and flagged, refusals that store nothing, and the
concurrent review prefilled from the count that `$submit` takes as an extension."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE, CLAIM_WRITE
from tests.authorizations import store_reads
from tests.authorizations.states import SANDBOX_ANSWERS
from tests.authorizations.support import Item, detail, request_bundle, submit_bundle, timeline
from tests.support.auth import bearer, token_for
from tests.support.pas import FHIR_JSON


async def _use(client: httpx.AsyncClient, authorization_id: object, body: Any, expect: int = 201) -> dict[str, Any]:
    response = await client.post(f"/authorizations/{authorization_id}/usage", json=body)
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_units_count_down_and_exhausting_then_exhausted_fire_once_each(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=10)))
    first = await _use(client, approved.authorization_id, {"units": 5})
    assert first["events"] == ["units-used"]
    assert first["line"] == {
        "item": 1,
        "product_code": "99212",
        "authorized": 10,
        "used": 5,
        "remaining": 5,
        "over": False,
    }

    crossing = await _use(client, approved.authorization_id, {"units": 3, "item": 1})
    assert crossing["events"] == ["units-used", "exhausting"]
    assert (await _use(client, approved.authorization_id, {"units": 1}))["events"] == ["units-used"]
    last = await _use(client, approved.authorization_id, {"units": 1.5})
    assert last["events"] == ["units-used", "exhausted"]
    assert last["line"]["remaining"] == 0
    assert last["line"]["over"] is True

    beyond = await _use(client, approved.authorization_id, {"units": 2})
    assert beyond["events"] == ["units-used"]  # recorded and flagged, no second exhausted
    assert beyond["line"]["used"] == 12.5
    assert beyond["line"]["over"] is True

    shown = await detail(client, approved.authorization_id)
    assert shown["status"] == "approved"
    assert timeline(shown)[-7:] == [
        "units-used",
        "units-used",
        "exhausting",
        "units-used",
        "units-used",
        "exhausted",
        "units-used",
    ]
    assert shown["items"][0]["units_used"] == 12.5
    published = await store_reads.published(engine, approved.authorization_id)
    assert published[-2:] == ["authorization.exhausting", "authorization.exhausted"]
    assert published.count("authorization.exhausting") == published.count("authorization.exhausted") == 1

    summary = (await client.get(f"/authorizations/{approved.authorization_id}/usage")).json()
    assert [r["units"] for r in summary["reports"]] == [5, 3, 1, 1.5, 2]
    assert summary["lines"][0]["used"] == 12.5


async def test_one_report_that_uses_everything_fires_both_events(client: httpx.AsyncClient) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=4)))
    answer = await _use(
        client,
        approved.authorization_id,
        {"units": 4, "date": _authorized_start(await detail(client, approved.authorization_id))},
    )
    assert answer["events"] == ["units-used", "exhausting", "exhausted"]


def _authorized_start(shown: dict[str, Any]) -> str:
    start: str = shown["items"][0]["authorized_period"]["start"]
    return start


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        ({"units": 0}, "body.units"),
        ({"units": -1}, "body.units"),
        ({"units": "many"}, "body.units"),
        ({"units": 10**12}, "body.units"),
        ({"units": 1.0001}, "body.units"),
        ({}, "body.units"),
        ({"units": 1, "item": 0}, "body.item"),
        ({"units": 1, "item": 2**40}, "body.item"),
        ({"units": 1, "date": "yesterday"}, "body.date"),
        ({"units": 1, "visits": 2}, "body.visits"),
        ({"units": 1, "item": 7}, "item"),
        ({"units": 1, "date": "1999-01-01"}, "date"),
    ],
)
async def test_bad_reports_are_422_naming_the_field_and_store_nothing(
    body: dict[str, Any], expression: str, client: httpx.AsyncClient
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=10)))
    before = await detail(client, approved.authorization_id)
    response = await client.post(f"/authorizations/{approved.authorization_id}/usage", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert expression in {issue.get("expression") for issue in response.json()["issues"]}, response.text
    assert await detail(client, approved.authorization_id) == before


async def test_several_items_need_the_item_named(client: httpx.AsyncClient) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=3), Item("99214", quantity=3)))
    assert approved.actions == {1: "A1", 2: "A1"}
    response = await client.post(f"/authorizations/{approved.authorization_id}/usage", json={"units": 1})
    assert response.status_code == 422
    assert response.json()["issues"][0]["expression"] == "item"
    assert (await _use(client, approved.authorization_id, {"units": 1, "item": 2}))["line"]["product_code"] == "99214"


@pytest.mark.parametrize("status", ["denied", "pended", "not-required"])
async def test_usage_on_what_is_not_an_approval_is_409(status: str, client: httpx.AsyncClient) -> None:
    item, _, _ = SANDBOX_ANSWERS[status]
    answered = await submit_bundle(client, request_bundle(item))
    before = await detail(client, answered.authorization_id)
    response = await client.post(f"/authorizations/{answered.authorization_id}/usage", json={"units": 1})
    assert response.status_code == 409, response.text
    assert await detail(client, answered.authorization_id) == before
    extension = await client.get(f"/authorizations/{answered.authorization_id}/extension-request")
    assert extension.status_code == 409


async def test_another_clients_authorization_is_not_found(client: httpx.AsyncClient, app: FastAPI) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=10)))
    token = await token_for(client, app, "ehr-other", [AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE])
    for method, path in (
        ("POST", "usage"),
        ("GET", "usage"),
        ("GET", "extension-request"),
    ):
        response = await client.request(
            method,
            f"/authorizations/{approved.authorization_id}/{path}",
            json={"units": 1} if method == "POST" else None,
            headers=bearer(token),
        )
        assert response.status_code == 404, (path, response.text)
    assert "units-used" not in timeline(await detail(client, approved.authorization_id))


async def test_the_concurrent_review_is_prefilled_from_the_usage_and_submits_as_an_extension(
    client: httpx.AsyncClient,
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=10)))
    await _use(client, approved.authorization_id, {"units": 8})
    response = await client.get(f"/authorizations/{approved.authorization_id}/extension-request")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    claim = bundle["entry"][0]["resource"]
    assert claim["insurance"][0]["preAuthRef"]
    assert claim["item"][0]["quantity"] == {"value": 10}
    assert any("8 of 10 units used, 2 remaining" in info.get("valueString", "") for info in claim["supportingInfo"])

    validated = await client.post("/fhir/Claim/$validate", content=response.content, headers=FHIR_JSON)
    assert validated.status_code == 200, validated.text
    extension = await submit_bundle(client, bundle)
    shown = await detail(client, extension.authorization_id)
    assert shown["kind"] == "concurrent"
    received = shown["timeline"][0]
    assert received["detail"]["extends"] == str(approved.authorization_id)
    assert received["detail"]["units"][0]["used"] in ("8", "8.000", 8)
    original = await detail(client, approved.authorization_id)
    assert timeline(original)[-1] == "extension-requested"

    again = await submit_bundle(client, orjson.loads(response.content))  # the same prepared Bundle: a replay
    assert again.authorization_id == extension.authorization_id


def charge_item(authorization_id: object, code: str = "99214", units: Any = 4, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ChargeItem",
        "status": "billable",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]},
        "subject": {"reference": "Patient/patient-1"},
        "quantity": {"value": units},
        "supportingInformation": [{"reference": f"ClaimResponse/{authorization_id}"}],
    }
    resource.update(extra)
    return resource


async def _charge(client: httpx.AsyncClient, resource: dict[str, Any]) -> httpx.Response:
    return await client.post("/fhir/ChargeItem", content=orjson.dumps(resource), headers=FHIR_JSON)


async def test_a_charge_item_naming_the_claim_response_counts_against_the_item_of_its_code(
    client: httpx.AsyncClient,
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=4), Item("99214", quantity=4)))
    start = (await detail(client, approved.authorization_id))["items"][1]["authorized_period"]["start"]
    response = await _charge(client, charge_item(approved.authorization_id, occurrenceDateTime=start))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["id"].startswith(str(approved.authorization_id))
    assert response.headers["location"].endswith(f"/fhir/ChargeItem/{response.json()['id']}")
    summary = (await client.get(f"/authorizations/{approved.authorization_id}/usage")).json()
    assert [(line["item"], line["used"]) for line in summary["lines"]] == [(1, 0), (2, 4)]
    assert summary["reports"][0]["service_date"] == start
    assert timeline(await detail(client, approved.authorization_id))[-3:] == ["units-used", "exhausting", "exhausted"]


@pytest.mark.parametrize(
    ("change", "status", "expression"),
    [
        ({"status": "planned"}, 400, "ChargeItem.status"),
        ({"supportingInformation": [{"reference": "Claim/1"}]}, 400, "ChargeItem.supportingInformation"),
        ({"quantity": {"value": 0}}, 400, "ChargeItem.quantity.value"),
        ({"quantity": {"value": 10**12}}, 400, "ChargeItem.quantity.value"),
        ({"code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99999"}]}}, 422, "ChargeItem.code"),
        ({"occurrenceDateTime": "1999-01-01"}, 422, "ChargeItem.occurrence"),
        ({"resourceType": "Claim"}, 400, "ChargeItem"),
        ({"subject": None}, 400, "ChargeItem.subject"),
    ],
)
async def test_bad_charge_items_are_refused_naming_the_element_and_store_nothing(
    change: dict[str, Any], status: int, expression: str, client: httpx.AsyncClient
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99214", quantity=4)))
    before = await detail(client, approved.authorization_id)
    resource = {k: v for k, v in {**charge_item(approved.authorization_id), **change}.items() if v is not None}
    response = await _charge(client, resource)
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in {e for issue in outcome["issue"] for e in issue.get("expression", [])}, response.text
    assert await detail(client, approved.authorization_id) == before


async def test_a_charge_item_for_an_unknown_or_another_clients_claim_response_is_404(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99214", quantity=4)))
    unknown = await _charge(client, charge_item("00000000-0000-4000-8000-000000000000"))
    assert unknown.status_code == 404
    token = await token_for(client, app, "ehr-other", [CLAIM_WRITE])
    other = await client.post(
        "/fhir/ChargeItem",
        content=orjson.dumps(charge_item(approved.authorization_id)),
        headers={**FHIR_JSON, **bearer(token)},
    )
    assert other.status_code == 404


async def test_a_report_sent_again_with_its_reference_is_answered_and_not_counted_again(
    client: httpx.AsyncClient,
) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=10)))
    path = f"/authorizations/{approved.authorization_id}/usage"
    first = await client.post(path, json={"units": 8, "reference": "visit-1"})
    assert first.status_code == 201, first.text
    after_first = await detail(client, approved.authorization_id)
    again = await client.post(path, json={"units": 8, "reference": "visit-1"})
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert again.json()["events"] == []
    assert again.json()["report_id"] == first.json()["report_id"]
    assert again.json()["line"]["used"] == 8
    assert await detail(client, approved.authorization_id) == after_first
    different = await client.post(path, json={"units": 1, "reference": "visit-1"})
    assert different.status_code == 409
    too_long = await client.post(path, json={"units": 1, "reference": "v" * 129})
    assert too_long.status_code == 422
    assert too_long.json()["issues"][0]["expression"] == "body.reference"
    other = await client.post(path, json={"units": 1, "reference": "visit-2"})
    assert other.status_code == 201
    assert other.json()["line"]["used"] == 9


async def test_a_charge_item_sent_again_is_counted_once(client: httpx.AsyncClient) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99214", quantity=4)))
    resource = charge_item(
        approved.authorization_id, units=1, identifier=[{"system": "urn:clinic:visits", "value": "V-1"}]
    )
    first = await _charge(client, resource)
    assert first.status_code == 201, first.text
    again = await _charge(client, resource)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    summary = (await client.get(f"/authorizations/{approved.authorization_id}/usage")).json()
    assert summary["lines"][0]["used"] == 1
    assert len(summary["reports"]) == 1


async def test_the_same_report_sent_twice_at_once_is_counted_once_and_never_500(client: httpx.AsyncClient) -> None:
    approved = await submit_bundle(client, request_bundle(Item("99212", quantity=100)))
    path = f"/authorizations/{approved.authorization_id}/usage"
    for n in range(6):
        body = {"units": 1, "reference": f"visit-at-once-{n}"}
        answers = await asyncio.gather(client.post(path, json=body), client.post(path, json=body))
        statuses = sorted(a.status_code for a in answers)
        assert statuses in ([200, 201], [201, 409]), [a.text for a in answers]
    last = await _use(client, approved.authorization_id, {"units": 1, "reference": "visit-after"})
    assert last["line"]["used"] == 7  # each report counted once
