"""`version`, the ETag and the timeline of the operations detail change with each recorded change,
and only then: a plain read or a replayed $submit leaves them as they are."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.codes import ReviewAction
from tests.authorizations.states import stored_but_never_recorded
from tests.authorizations.support import (
    Driver,
    Json,
    assert_recorded,
    detail,
    operations_cancel,
    pas_answer,
    request_bundle,
    submit_bundle,
    timeline,
    update_bundle,
)
from tests.support.pas import submit

FOLLOW_UP_DUE = timedelta(minutes=5, seconds=1)


async def _not_modified(client: httpx.AsyncClient, authorization_id: uuid.UUID, shown: Json) -> bool:
    response = await client.get(f"/authorizations/{authorization_id}", headers={"If-None-Match": shown["etag"]})
    assert response.status_code in (200, 304), response.text
    if response.status_code == 304:
        assert response.headers["etag"] == shown["etag"]
    return response.status_code == 304


async def test_each_recorded_change_of_a_followed_up_request(
    client: httpx.AsyncClient, acme: respx.MockRouter, driver: Driver, engine: AsyncEngine
) -> None:
    submit_route = acme.post("/Claim/$submit").mock(
        side_effect=[pas_answer(ReviewAction.PENDED), pas_answer(ReviewAction.CANCELLED)]
    )
    acme.post("/Claim/$inquire").mock(
        side_effect=[
            pas_answer(ReviewAction.PENDED),
            pas_answer(ReviewAction.PENDED),
            pas_answer(ReviewAction.CERTIFIED),
        ]
    )
    bundle = request_bundle("99212", acme=True)
    submitted = await submit_bundle(client, bundle)
    auth = submitted.authorization_id
    pended = await detail(client, auth)
    assert pended["version"] == 2  # stored (1), then the payer's A4 recorded
    assert timeline(pended) == ["received", "payer-answered"]

    # a plain read, a conditional read and a replayed $submit change nothing
    assert await detail(client, auth) == pended
    assert await _not_modified(client, auth, pended)
    replayed = await submit(client, bundle)
    assert (replayed.status_code, replayed.content) == (200, submitted.response.content)
    assert submit_route.call_count == 1
    assert await detail(client, auth) == pended

    await driver.run(FOLLOW_UP_DUE)  # a follow-up answer (still A4)
    asked_again = await detail(client, auth)
    assert_recorded(pended, asked_again, "payer-answered")
    assert not await _not_modified(client, auth, pended)

    due_at = datetime.fromisoformat(asked_again["clocks"]["due_at"])
    await driver.run(until=due_at - timedelta(minutes=1))  # another A4, just before the due time
    before_due = await detail(client, auth)
    assert_recorded(asked_again, before_due, "payer-answered")
    await driver.run(timedelta(minutes=2))  # only the overdue check falls due
    overdue = await detail(client, auth)
    assert_recorded(before_due, overdue, "overdue")
    assert overdue["timeline"][-1]["detail"] == {"due_at": due_at.isoformat()}

    await driver.run(FOLLOW_UP_DUE)  # the decision
    approved = await detail(client, auth)
    assert_recorded(overdue, approved, "payer-answered")
    assert approved["status"] == "approved"

    assert (await operations_cancel(client, auth)).status_code == 200
    cancelled = await detail(client, auth)
    assert_recorded(approved, cancelled, "cancelled")
    assert await detail(client, auth) == cancelled
    assert await _not_modified(client, auth, cancelled)


async def test_a_stored_request_answered_by_the_worker(client: httpx.AsyncClient, app: FastAPI, driver: Driver) -> None:
    auth = await stored_but_never_recorded(client, app, request_bundle("99212"))
    received = await detail(client, auth)
    assert (received["status"], received["version"]) == ("received", 1)
    assert timeline(received) == ["received"]

    await driver.run(timedelta(minutes=1))  # past the sync budget and its margin: the worker submits

    answered = await detail(client, auth)
    assert answered["status"] == "approved"
    assert_recorded(received, answered, "payer-answered")


async def test_expiry_is_a_recorded_change(client: httpx.AsyncClient, driver: Driver) -> None:
    answered = await submit_bundle(client, request_bundle("99212"))
    approved = await detail(client, answered.authorization_id)
    expires_at = datetime.fromisoformat(approved["clocks"]["expires_at"])
    await driver.run(until=expires_at - timedelta(days=1))
    warned = await detail(client, answered.authorization_id)

    await driver.run(until=expires_at)

    assert_recorded(warned, await detail(client, answered.authorization_id), "expired")


async def test_the_expiring_warning_is_a_recorded_change(client: httpx.AsyncClient, driver: Driver) -> None:
    answered = await submit_bundle(client, request_bundle("99212"))
    approved = await detail(client, answered.authorization_id)
    expires_at = datetime.fromisoformat(approved["clocks"]["expires_at"])

    await driver.run(until=expires_at - timedelta(days=1))

    warned = await detail(client, answered.authorization_id)
    assert timeline(warned) == [*timeline(approved), "expiring"]  # holds today
    assert not await _not_modified(client, answered.authorization_id, approved)  # fails today: 304
    assert_recorded(approved, warned, "expiring")


async def test_replacement_changes_the_etag_and_timeline_of_the_replaced_version(client: httpx.AsyncClient) -> None:
    original = request_bundle("99212")
    answered = await submit_bundle(client, original)
    before = await detail(client, answered.authorization_id)

    await submit_bundle(client, update_bundle(original, "99211"))

    after = await detail(client, answered.authorization_id)
    assert after["current"] is False
    assert after["etag"] != before["etag"]
    assert timeline(after) == [*timeline(before), "replaced"]
    assert not await _not_modified(client, answered.authorization_id, before)


async def test_replacement_bumps_the_version_of_the_replaced_one(client: httpx.AsyncClient) -> None:
    original = request_bundle("99212")
    answered = await submit_bundle(client, original)
    before = await detail(client, answered.authorization_id)

    await submit_bundle(client, update_bundle(original, "99211"))

    assert_recorded(before, await detail(client, answered.authorization_id), "replaced")
