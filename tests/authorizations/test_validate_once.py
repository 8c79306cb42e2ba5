"""Validate once: follow-ups and cancels load the stored typed request; no FHIR validation runs again."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

import app.fhir.submit
from app.operations import cancel
from app.runtime import Runtime
from app.store.models import Authorization, Job
from tests.support.bundles import pas_request
from tests.support.clock import MovableClock
from tests.support.pas import review_actions
from tests.support.use_cases import run_due, submit_directly


def _forbid_validation(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    calls: list[bytes] = []

    def refuse(body: bytes, *_args: object) -> object:
        calls.append(body)
        raise AssertionError("FHIR validation ran again on a stored request")

    monkeypatch.setattr(app.fhir.submit, "load_bundle", refuse)
    return calls


async def test_a_follow_up_decides_without_validating_the_stored_request_again(
    runtime: Runtime, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert review_actions(await submit_directly(runtime, pas_request("E0470"))) == {1: "A4"}
    calls = _forbid_validation(monkeypatch)
    for _ in range(3):
        async with runtime.sessions() as session:
            run_at = await session.scalar(
                select(Job.run_at).where(Job.kind == "authorization.follow_up", Job.state == "queued")
            )
        if run_at is None:
            break
        clock.advance(max(run_at - clock.now, timedelta(0)))
        await run_due(runtime, clock)
    async with runtime.sessions() as session:
        authorization = (await session.execute(select(Authorization))).scalar_one()
    assert authorization.status == "approved"
    assert authorization.request_form is not None
    assert calls == []


async def test_an_operations_cancel_does_not_validate_again(
    runtime: Runtime, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await submit_directly(runtime, pas_request("E0486"))
    calls = _forbid_validation(monkeypatch)
    result = await cancel(runtime, uuid.UUID(body["entry"][0]["resource"]["id"]), client_id=None)
    assert result.authorization.status == "cancelled"
    assert calls == []
