"""Subscription versions as FHIR clients use them: meta and ETag, a Location that answers, a stale
If-Match refused with 412, and `Prefer: return=` honoured on create and update."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.support.pas import FHIR_JSON
from tests.support.subscriptions import subscription

ENDPOINT = "http://127.0.0.1:9/hook"  # never reached: these tests do not run the worker


async def _create(client: httpx.AsyncClient, prefer: str | None = None) -> httpx.Response:
    headers = {**FHIR_JSON, **({"prefer": prefer} if prefer else {})}
    return await client.post("/fhir/Subscription", content=orjson.dumps(subscription(ENDPOINT)), headers=headers)


async def test_created_subscription_has_meta_an_etag_and_a_location_that_answers(client: httpx.AsyncClient) -> None:
    created = await _create(client)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"]
    assert created.headers["etag"] == 'W/"1"'
    read = await client.get(httpx.URL(created.headers["location"]).path)
    assert read.status_code == 200
    assert read.json()["id"] == body["id"]
    assert read.headers["etag"] == 'W/"1"'


async def test_update_with_a_stale_if_match_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    body = (await _create(client)).json()
    path = f"/fhir/Subscription/{body['id']}"
    fresh = await client.put(
        path, content=orjson.dumps(subscription(ENDPOINT)), headers={**FHIR_JSON, "if-match": 'W/"1"'}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] == 'W/"2"'
    stale = await client.put(
        path, content=orjson.dumps(subscription(ENDPOINT)), headers={**FHIR_JSON, "if-match": 'W/"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert stale.json()["issue"][0]["expression"] == ["Subscription.meta.versionId"]
    assert (await client.get(path)).json()["meta"]["versionId"] == "2"


@pytest.mark.parametrize(
    ("prefer", "expected"),
    [
        ("return=minimal", None),
        ("return=representation", "Subscription"),
        ("return=OperationOutcome", "OperationOutcome"),
    ],
)
async def test_prefer_return_is_honoured_on_create_and_update(
    client: httpx.AsyncClient, prefer: str, expected: str | None
) -> None:
    created = await _create(client, prefer)
    assert created.status_code == 201
    assert created.headers["location"]
    assert (created.json()["resourceType"] if created.content else None) == expected
    subscription_id = httpx.URL(created.headers["location"]).path.rsplit("/", 1)[1]
    updated = await client.put(
        f"/fhir/Subscription/{subscription_id}",
        content=orjson.dumps(subscription(ENDPOINT)),
        headers={**FHIR_JSON, "prefer": prefer},
    )
    assert updated.status_code == 200
    assert (updated.json()["resourceType"] if updated.content else None) == expected
