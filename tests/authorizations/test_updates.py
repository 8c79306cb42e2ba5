"""A PASClaimUpdate (Claim.related) replaces the version it names, from every status that takes
updates; the final ones refuse it and nothing is stored."""

from __future__ import annotations

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.authorizations import store_reads
from tests.authorizations.states import FINAL, UPDATABLE, reach
from tests.authorizations.support import Driver, detail, last_transition, submit_bundle, timeline, update_bundle
from tests.support.pas import submit


@pytest.mark.parametrize("status", UPDATABLE)
async def test_update_replaces(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    reached = await reach(status, client, app, driver, acme)
    before = await detail(client, reached.authorization_id)

    updated = await submit_bundle(client, update_bundle(reached.bundle, "99211"))

    assert updated.actions == {1: "A1"}
    replacement = await detail(client, updated.authorization_id)
    assert replacement["status"] == "approved"
    assert last_transition(replacement)[1:] == ("received", "approved")
    assert replacement["links"]["replaces"].endswith(str(reached.authorization_id))
    replaced = await detail(client, reached.authorization_id)
    assert replaced["status"] == status
    assert replaced["current"] is False
    assert replaced["links"]["replaced_by"].endswith(str(updated.authorization_id))
    assert timeline(replaced) == [*timeline(before), "replaced"]
    assert await store_reads.queued_follow_up(engine, reached.authorization_id) is None


@pytest.mark.parametrize("status", FINAL)
async def test_update_is_refused_from(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    reached = await reach(status, client, app, driver, acme)
    before = await detail(client, reached.authorization_id)
    stored = await store_reads.authorization_count(engine)

    response = await submit(client, update_bundle(reached.bundle, "99211"))

    assert response.status_code == 422, response.text
    issue = response.json()["issue"][0]
    assert issue["code"] == "business-rule"
    assert status in issue["details"]["text"]
    assert issue["expression"] == ["Bundle.entry[0].resource.related[0].claim"]
    assert await store_reads.authorization_count(engine) == stored
    assert await detail(client, reached.authorization_id) == before
