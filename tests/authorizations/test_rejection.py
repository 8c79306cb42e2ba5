"""A payer that rejects a request (4xx with an OperationOutcome): on $submit and on a follow-up."""

from __future__ import annotations

from datetime import timedelta

import httpx
import respx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.codes import ReviewAction
from tests.authorizations import store_reads
from tests.authorizations.support import (
    Driver,
    detail,
    last_transition,
    pas_answer,
    pas_rejection,
    request_bundle,
    submit_bundle,
    timeline,
)
from tests.support.pas import submit

FOLLOW_UP_DUE = 5 * 60 + 1  # seconds: the default follow-up interval has passed


def _issue_texts(outcome: dict[str, object]) -> list[str]:
    assert outcome["resourceType"] == "OperationOutcome"
    issues = outcome["issue"]
    assert isinstance(issues, list)
    return [issue["details"]["text"] for issue in issues]


async def test_rejection_on_submit_is_a_422_with_the_payers_issues(
    client: httpx.AsyncClient, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    payer = acme.post("/Claim/$submit").mock(return_value=pas_rejection("Acme: member not eligible"))
    bundle = request_bundle("99212", acme=True)

    rejected = await submit_bundle(client, bundle, expect=422)

    assert rejected.response.headers["content-type"] == "application/fhir+json"
    assert "Acme: member not eligible" in _issue_texts(rejected.body)
    shown = await detail(client, rejected.authorization_id)
    assert shown["status"] == "error"
    assert timeline(shown) == ["received", "payer-rejected"]
    assert last_transition(shown) == ("payer-rejected", "received", "error")
    assert (await store_reads.published(engine, rejected.authorization_id))[-1] == "authorization.error"
    assert await store_reads.queued_follow_up(engine, rejected.authorization_id) is None
    # the same Bundle again is the same answer, from the store: the payer is not asked twice
    again = await submit(client, bundle)
    assert (again.status_code, again.content) == (422, rejected.response.content)
    assert payer.call_count == 1
    assert await detail(client, rejected.authorization_id) == shown


async def test_rejection_on_a_follow_up_turns_a_pended_request_into_an_error(
    client: httpx.AsyncClient, acme: respx.MockRouter, driver: Driver, engine: AsyncEngine
) -> None:
    acme.post("/Claim/$submit").mock(return_value=pas_answer(ReviewAction.PENDED))
    inquire = acme.post("/Claim/$inquire").mock(return_value=pas_rejection("Acme: request withdrawn"))
    pended = await submit_bundle(client, request_bundle("99212", acme=True))
    assert pended.actions == {1: "A4"}
    before = await detail(client, pended.authorization_id)
    assert before["status"] == "pended"

    await driver.run(timedelta(seconds=FOLLOW_UP_DUE))

    assert inquire.call_count == 1
    shown = await detail(client, pended.authorization_id)
    assert shown["status"] == "error"
    assert last_transition(shown) == ("payer-rejected", "pended", "error")
    assert shown["version"] == before["version"] + 1
    assert shown["etag"] != before["etag"]
    assert (await store_reads.published(engine, pended.authorization_id))[-1] == "authorization.error"
    assert await store_reads.queued_follow_up(engine, pended.authorization_id) is None
    await driver.run(timedelta(seconds=3600))  # nothing asks the payer again
    assert inquire.call_count == 1
