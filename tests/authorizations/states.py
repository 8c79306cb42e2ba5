"""Bring a fresh authorization into any status, through the routes, the payers and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson
import respx
from fastapi import FastAPI

from app.domain.codes import ReviewAction
from tests.authorizations.support import (
    BOUND,
    CERTIFICATION_TYPE,
    Driver,
    Gate,
    Item,
    Json,
    detail,
    operations_cancel,
    pas_answer,
    pas_rejection,
    request_bundle,
    sandbox,
    submit_bundle,
)

# The sandbox's published rules (app/payers/sandbox/default_rules.toml) decide these at once.
SANDBOX_ANSWERS: dict[str, tuple[Item, str, str]] = {
    "approved": (Item("99212"), "A1", "approved"),
    "denied": (Item("A9270"), "A3", "denied"),
    "partially-approved": (Item("97110", quantity=7), "A2", "partially-approved"),
    "modified": (Item("E0260"), "A6", "modified"),
    "not-required": (Item("99213"), "NA", "not-required"),
    "pended": (Item("E0486"), "A4", "pended"),  # held until an operator releases it
}

UPDATABLE = ("received", "pended", "error", "approved", "partially-approved", "modified", "not-required")
FINAL = ("denied", "cancelled", "expired")


@dataclass(frozen=True, slots=True)
class Reached:
    authorization_id: uuid.UUID
    bundle: Json  # the request Bundle it was submitted with


async def stored_but_never_recorded(client: httpx.AsyncClient, app: FastAPI, bundle: Json) -> uuid.UUID:
    """The crash between $submit's two transactions: stored, the payer called, the answer never recorded.

    The $submit runs as a task against a sandbox that holds the call (and so is treated as a remote
    payer: the request is committed before the call); once the payer was called the task is
    cancelled, as a dying process would stop it.
    """
    adapter = sandbox(app)
    gate = Gate()
    setattr(adapter, "submit", gate.wrap(adapter.submit))  # noqa: B010 (patching one instance's method)
    in_process = getattr(adapter, "answers_in_process", False)
    setattr(adapter, "answers_in_process", False)  # noqa: B010 (a payer that holds the call is a remote one)
    try:
        call = asyncio.create_task(submit_bundle(client, bundle))
        await asyncio.wait_for(gate.entered.wait(), timeout=BOUND)
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
    finally:
        delattr(adapter, "submit")
        setattr(adapter, "answers_in_process", in_process)  # noqa: B010
    listed = (await client.get("/authorizations", params={"status": "received"})).json()["authorizations"]
    assert len(listed) == 1, listed
    return uuid.UUID(listed[0]["id"])


def _cancels(request: httpx.Request) -> bool:
    """Whether a PAS request Bundle cancels (certificationType 3 on the Claim or on every item)."""
    claim = orjson.loads(request.content)["entry"][0]["resource"]

    def cancel_code(holder: Json) -> bool:
        return any(
            extension["url"] == CERTIFICATION_TYPE and extension["valueCodeableConcept"]["coding"][0]["code"] == "3"
            for extension in holder.get("extension", [])
        )

    items = claim.get("item", [])
    return cancel_code(claim) or (bool(items) and all(cancel_code(item) for item in items))


def acme_rejects_then_decides(acme: respx.MockRouter) -> respx.Route:
    """acme rejects the first $submit; later it confirms cancels (C) and approves the rest (A1)."""
    first = iter([pas_rejection()])

    def answer(request: httpx.Request) -> httpx.Response:
        count = len(orjson.loads(request.content)["entry"][0]["resource"].get("item", [])) or 1
        action = ReviewAction.CANCELLED if _cancels(request) else ReviewAction.CERTIFIED
        return next(first, None) or pas_answer(*[action] * count)

    return acme.post("/Claim/$submit").mock(side_effect=answer)


async def reach(
    status: str, client: httpx.AsyncClient, app: FastAPI, driver: Driver, acme: respx.MockRouter
) -> Reached:
    """A new authorization in `status`; asserts it got there."""
    if status in SANDBOX_ANSWERS:
        item, action, _ = SANDBOX_ANSWERS[status]
        bundle = request_bundle(item)
        submitted = await submit_bundle(client, bundle)
        assert submitted.actions == {1: action}
        reached = Reached(submitted.authorization_id, bundle)
    elif status == "received":
        bundle = request_bundle("99212")
        reached = Reached(await stored_but_never_recorded(client, app, bundle), bundle)
    elif status == "error":
        acme_rejects_then_decides(acme)
        bundle = request_bundle("99212", acme=True)
        reached = Reached((await submit_bundle(client, bundle, expect=422)).authorization_id, bundle)
    elif status == "cancelled":
        reached = await reach("approved", client, app, driver, acme)
        assert (await operations_cancel(client, reached.authorization_id)).status_code == 200
    elif status == "expired":
        reached = await reach("approved", client, app, driver, acme)
        expires_at = datetime.fromisoformat((await detail(client, reached.authorization_id))["clocks"]["expires_at"])
        await driver.run(until=expires_at - timedelta(days=1))  # the `expiring` warning first
        await driver.run(until=expires_at + timedelta(hours=1))
    else:
        raise AssertionError(f"no way to reach {status!r}")
    shown = await detail(client, reached.authorization_id)
    assert shown["status"] == status, shown
    return reached
