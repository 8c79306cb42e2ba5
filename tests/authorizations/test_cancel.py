"""Cancels, from every status that allows one, and the refusals of the final ones.

Operations cancel (`POST /authorizations/{id}/cancel`) and the PAS cancel of a whole request
(`$submit` with certificationType 3) each pin every allowed transition to `cancelled` and every
refusal: a test here fails if the lifecycle forbade what it allows, or allowed what it refuses.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.authorizations import store_reads
from tests.authorizations.states import FINAL, UPDATABLE, reach
from tests.authorizations.support import (
    Driver,
    cancel_all_bundle,
    detail,
    last_transition,
    operations_cancel,
    outcome_of,
    submit_bundle,
    timeline,
)
from tests.support.pas import submit


@pytest.mark.parametrize("status", UPDATABLE)
async def test_operations_cancel_from(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    reached = await reach(status, client, app, driver, acme)
    before = await detail(client, reached.authorization_id)

    response = await operations_cancel(client, reached.authorization_id)

    assert response.status_code == 200, response.text
    assert response.json()["payer_notified"] is True
    after = await detail(client, reached.authorization_id)
    assert after["status"] == "cancelled"
    assert all(item["cancelled"] for item in after["items"])
    assert last_transition(after) == ("cancelled", status, "cancelled")
    assert after["version"] == before["version"] + 1
    assert after["etag"] != before["etag"]
    assert timeline(after) == [*timeline(before), "cancelled"]
    assert (await store_reads.published(engine, reached.authorization_id))[-1] == "authorization.cancelled"
    assert await store_reads.queued_follow_up(engine, reached.authorization_id) is None


@pytest.mark.parametrize("status", FINAL)
async def test_operations_cancel_is_refused_from(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter
) -> None:
    reached = await reach(status, client, app, driver, acme)
    before = await detail(client, reached.authorization_id)

    response = await operations_cancel(client, reached.authorization_id)

    assert response.status_code == 409, response.text
    assert status in response.json()["detail"]
    assert await detail(client, reached.authorization_id) == before


@pytest.mark.parametrize("status", UPDATABLE)
async def test_pas_cancel_all_from(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    reached = await reach(status, client, app, driver, acme)

    cancel = await submit_bundle(client, cancel_all_bundle(reached.bundle))

    assert outcome_of(cancel.body) == "complete"
    replacement = await detail(client, cancel.authorization_id)
    assert replacement["status"] == "cancelled"
    assert replacement["items"]
    assert all(item["cancelled"] for item in replacement["items"])
    assert last_transition(replacement)[1:] == ("received", "cancelled")
    assert replacement["links"]["replaces"].endswith(str(reached.authorization_id))
    original = await detail(client, reached.authorization_id)
    assert original["current"] is False
    assert original["status"] == status
    assert timeline(original)[-1] == "replaced"
    assert await store_reads.queued_follow_up(engine, reached.authorization_id) is None
    assert await store_reads.queued_follow_up(engine, cancel.authorization_id) is None


@pytest.mark.parametrize("status", FINAL)
async def test_pas_cancel_all_is_refused_from(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    reached = await reach(status, client, app, driver, acme)
    before = await detail(client, reached.authorization_id)
    stored = await store_reads.authorization_count(engine)

    response = await submit(client, cancel_all_bundle(reached.bundle))

    assert response.status_code == 422, response.text
    assert "location" not in response.headers
    issue = response.json()["issue"][0]
    assert issue["code"] == "business-rule"
    assert status in issue["details"]["text"]
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier[0]"]
    assert await store_reads.authorization_count(engine) == stored
    assert await detail(client, reached.authorization_id) == before
