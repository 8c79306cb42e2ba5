"""Approvals expire when their validity ends (the worker on a moved clock), after an `expiring`
warning; what is not an approval (a pended replacement) never expires. That an expired authorization takes
no cancel and no update is pinned in test_cancel.py and test_updates.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.authorizations import store_reads
from tests.authorizations.states import SANDBOX_ANSWERS
from tests.authorizations.support import (
    Driver,
    assert_recorded,
    detail,
    last_transition,
    request_bundle,
    submit_bundle,
    timeline,
    update_bundle,
)


def _expires_at(shown: dict[str, object]) -> datetime:
    clocks = shown["clocks"]
    assert isinstance(clocks, dict)
    return datetime.fromisoformat(clocks["expires_at"])


@pytest.mark.parametrize("status", ["approved", "partially-approved", "modified"])
async def test_approval_warns_then_expires(
    status: str, client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine
) -> None:
    item, _, _ = SANDBOX_ANSWERS[status]
    answered = await submit_bundle(client, request_bundle(item))
    decided = await detail(client, answered.authorization_id)
    assert decided["status"] == status
    expires_at = _expires_at(decided)

    await driver.run(until=expires_at - timedelta(days=15))
    assert await detail(client, answered.authorization_id) == decided

    await driver.run(until=expires_at - timedelta(days=13))
    warned = await detail(client, answered.authorization_id)
    assert warned["status"] == status
    assert timeline(warned) == [*timeline(decided), "expiring"]

    await driver.run(until=expires_at - timedelta(seconds=1))
    assert (await detail(client, answered.authorization_id))["status"] == status

    await driver.run(until=expires_at)
    expired = await detail(client, answered.authorization_id)
    assert expired["status"] == "expired"
    assert last_transition(expired) == ("expired", status, "expired")
    assert_recorded(warned, expired, "expired")
    published = await store_reads.published(engine, answered.authorization_id)
    assert published[-2:] == ["authorization.expiring", "authorization.expired"]


async def test_a_pended_replacement_of_an_approval_never_expires(client: httpx.AsyncClient, driver: Driver) -> None:
    original = request_bundle("99212")
    approved = await submit_bundle(client, original)
    expires_at = _expires_at(await detail(client, approved.authorization_id))
    replacement = await submit_bundle(client, update_bundle(original, "E0486"))  # held by the sandbox
    assert replacement.actions == {1: "A4"}

    await driver.run(until=expires_at + timedelta(days=1))
    await driver.run(until=expires_at + timedelta(days=400))

    pended = await detail(client, replacement.authorization_id)
    assert pended["status"] == "pended"
    assert pended["clocks"]["expires_at"] is None
    assert "expired" not in timeline(pended)
    assert "overdue" in timeline(pended)  # the clock did move past its decision's due time
    replaced = await detail(client, approved.authorization_id)
    assert replaced["status"] == "approved"
    assert replaced["current"] is False
    assert "expiring" not in timeline(replaced)
    assert "expired" not in timeline(replaced)
