"""Point 1 of issue 26, "the reason travels": why a payer did not decide reaches the timeline (with its
kind), the follow-up job's `last_error`, a WARNING log line and (tests/console) the console."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.authorizations import FOLLOW_UP
from app.store.models import Job
from tests.authorizations.support import Driver, detail, request_bundle, submit_bundle, timeline

FOLLOW_UP_DUE = timedelta(minutes=5, seconds=1)
MEMBER = "MEMBER-REASON-42"


async def _follow_up_error(engine: AsyncEngine, authorization_id: object) -> tuple[str, str | None]:
    statement = select(Job.state, Job.last_error).where(Job.kind == FOLLOW_UP, Job.authorization_id == authorization_id)
    async with engine.connect() as connection:
        state, last_error = (await connection.execute(statement)).one()
    return state, last_error


def _warnings(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == message and r.levelno == logging.WARNING]


async def test_a_payer_answering_garbage_is_named_unreadable_with_its_reason_everywhere(
    client: httpx.AsyncClient,
    acme: respx.MockRouter,
    driver: Driver,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    acme.post("/Claim/$submit").mock(return_value=httpx.Response(200, content=b"<html>maintenance</html>"))
    acme.post("/Claim/$inquire").mock(return_value=httpx.Response(200, content=b"<html>maintenance</html>"))
    caplog.set_level(logging.INFO)

    pended = await submit_bundle(client, request_bundle("99212", acme=True, member=MEMBER))

    shown = await detail(client, pended.authorization_id)
    assert timeline(shown) == ["received", "payer-unreadable"]  # not "payer-unreachable": it answered
    entry = shown["timeline"][-1]["detail"]
    assert entry["kind"] == "unreadable"
    assert entry["error"] == "PayerProtocolError"
    assert entry["reason"]  # the adapter's own words, not only its class name
    submit_warning = _warnings(caplog, "payer call failed")
    assert submit_warning
    assert submit_warning[-1].__dict__["error"] == f"unreadable: {entry['reason']}"

    await driver.run(FOLLOW_UP_DUE)  # the follow-up's inquiry gets the same garbage: retried later

    state, last_error = await _follow_up_error(engine, pended.authorization_id)
    assert state == "queued"
    assert last_error == f"PayerProtocolError: unreadable: {entry['reason']}"
    job_warning = _warnings(caplog, "job failed")
    assert job_warning
    assert job_warning[-1].__dict__["error"] == last_error
    assert all(MEMBER not in record.getMessage() + str(record.__dict__) for record in caplog.records)


async def test_a_payer_that_is_down_is_unreachable_and_says_what_it_answered(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    acme.post("/Claim/$submit").mock(return_value=httpx.Response(502))

    pended = await submit_bundle(client, request_bundle("99212", acme=True))

    shown = await detail(client, pended.authorization_id)
    assert timeline(shown) == ["received", "payer-unreachable"]
    assert shown["timeline"][-1]["detail"] == {
        "kind": "unreachable",
        "error": "PayerUnavailable",
        "reason": "payer answered HTTP 502",
    }


async def test_a_payer_refusing_our_credentials_is_named_refused(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    acme.post("/Claim/$submit").mock(return_value=httpx.Response(401))

    pended = await submit_bundle(client, request_bundle("99212", acme=True))

    shown = await detail(client, pended.authorization_id)
    assert timeline(shown) == ["received", "payer-refused"]
    assert shown["timeline"][-1]["detail"]["reason"] == "payer refused our credentials (HTTP 401)"
