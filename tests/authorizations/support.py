"""Driving one authorization through its life from the outside: PAS Bundles, the operations API,
the worker with a moved clock, and payers that answer as a test scripts them.

Everything here goes through public behaviour (HTTP routes, `Worker.run_once`, payer adapters);
the facts no route shows are read in `tests.authorizations.store_reads`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from app.domain.codes import ReviewAction
from app.domain.model import Coding, ItemDecision, Period
from app.jobs.loop import Worker
from app.payers.contract import PayerAdapter, utc_now
from app.runtime import Runtime
from app.settings import Settings
from app.worker import default_handlers
from tests.support.bundles import make_item, make_pas_bundle
from tests.support.pas import FHIR_JSON, claim_response, review_actions, submit
from tests.support.payer_answers import claim_response_bundle

Json = dict[str, Any]

PAYER = "https://acme-payer.example/fhir"  # the fhir-pas payer the lifecycle tests mock with respx
ACME = "ACME-PAYER"  # its insurer identifier value (the sandbox takes everything else)
ACME_REASONS = "https://acme-payer.example/reasons"  # its own review reason codes (MN maps to X12 886 01)
BOUND = 30.0  # seconds: the most a test waits for an event that should come at once (a loaded CI machine)
CERTIFICATION_TYPE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType"
X12_1322 = "https://codesystem.x12.org/005010/1322"


def lifecycle_settings(database_url: str, tmp_path: Path, *, payers: str | None = None, **overrides: Any) -> Settings:
    """The app's settings for an end-to-end lifecycle test: development mode, no embedded worker (the
    `Driver` runs jobs on a moved clock), the payers file `payers` (default `payers_toml()`) and
    `overrides` (a sync budget, a rules or programs directory, loopback webhooks, ...)."""
    payers_file = tmp_path / "payers.toml"
    payers_file.write_text(payers_toml() if payers is None else payers)
    values: dict[str, Any] = {"payer_sync_budget_seconds": 10.0, **overrides}
    return Settings(
        database_url=database_url,
        development=True,
        data_dir=tmp_path,
        embedded_worker=False,
        payers_file=payers_file,
        _env_file=None,
        **values,
    )


def payers_toml() -> str:
    """The sandbox as the default payer, and `acme` (fhir-pas) for Bundles whose insurer is ACME."""
    return f"""
[[payer]]
id = "sandbox"
adapter = "sandbox"
default = true
approval_validity_days = 90

[payer.settings]
validity_days = 90

[[payer]]
id = "acme"
adapter = "fhir-pas"
match = ["{ACME}"]
approval_validity_days = 90

[payer.settings]
base_url = "{PAYER}"
max_attempts = 1

[payer.settings.reason_codes]
"{ACME_REASONS}|MN" = "01"
"""


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    quantity: int = 1


def request_bundle(
    *items: str | Item, member: str = "MEMBER-123", acme: bool = False, claim: str | None = None
) -> Json:
    """A PAS request Bundle with its own Bundle and Claim identifiers (or the Claim identifier `claim`)."""
    tag = uuid.uuid4().hex[:12]
    bundle = make_pas_bundle(
        items=1,
        claim_overrides={
            "identifier": [{"system": "http://provider.example.org/claims", "value": claim or f"CLAIM-{tag}"}]
        },
        identifier={"system": "http://provider.example.org/bundles", "value": f"BUNDLE-{tag}"},
    )
    resource = bundle["entry"][0]["resource"]
    resource["item"] = []
    for sequence, item in enumerate(items or ("99212",), 1):
        spec = item if isinstance(item, Item) else Item(item)
        built = make_item(sequence, code=spec.code)
        built["quantity"] = {"value": spec.quantity}
        resource["item"].append(built)
    for entry in bundle["entry"]:
        found = entry["resource"]
        if found["resourceType"] == "Coverage":
            found["subscriberId"] = member
        if acme and found["resourceType"] == "Organization" and found["id"] == "insurer-1":
            found["identifier"] = [{"system": "urn:test:payers", "value": ACME}]
    return bundle


def claim_value(bundle: Json) -> str:
    value: str = bundle["entry"][0]["resource"]["identifier"][0]["value"]
    return value


def cancel_all_bundle(original: Json) -> Json:
    """A PAS cancel of the whole request `original` (its Claim identifier, no items, certificationType 3)."""
    bundle = request_bundle(claim=claim_value(original), acme=_is_acme(original))
    resource = bundle["entry"][0]["resource"]
    resource.pop("item")
    resource["extension"].append(
        {"url": CERTIFICATION_TYPE, "valueCodeableConcept": {"coding": [{"system": X12_1322, "code": "3"}]}}
    )
    return bundle


def update_bundle(original: Json, *items: str | Item) -> Json:
    """A PASClaimUpdate of `original`: its own identifiers, Claim.related naming the original Claim."""
    bundle = request_bundle(*items, acme=_is_acme(original))
    bundle["entry"][0]["resource"]["related"] = [
        {"claim": {"identifier": {"system": "http://provider.example.org/claims", "value": claim_value(original)}}}
    ]
    return bundle


def _is_acme(bundle: Json) -> bool:
    return any(
        identifier.get("value") == ACME
        for entry in bundle["entry"]
        for identifier in entry["resource"].get("identifier", [])
        if entry["resource"]["resourceType"] == "Organization"
    )


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submitted:
    """What the client got back from $submit."""

    response: httpx.Response
    authorization_id: uuid.UUID

    @property
    def body(self) -> Json:
        body: Json = self.response.json()
        return body

    @property
    def actions(self) -> dict[int, str]:
        return review_actions(self.body)


async def submit_bundle(client: httpx.AsyncClient, bundle: Json, *, expect: int = 200) -> Submitted:
    response = await submit(client, bundle)
    assert response.status_code == expect, response.text
    return Submitted(response, uuid.UUID(response.headers["location"].rsplit("/", 1)[-1]))


async def detail(client: httpx.AsyncClient, authorization_id: uuid.UUID) -> Json:
    response = await client.get(f"/authorizations/{authorization_id}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    body["etag"] = response.headers["etag"]
    return body


async def status_of(client: httpx.AsyncClient, authorization_id: uuid.UUID) -> str:
    status: str = (await detail(client, authorization_id))["status"]
    return status


def timeline(shown: Json) -> list[str]:
    return [event["type"] for event in shown["timeline"]]


def last_transition(shown: Json) -> tuple[str, str | None, str | None]:
    """(type, from, to) of the newest timeline event that changed the status."""
    event = next(e for e in reversed(shown["timeline"]) if e["to_status"] is not None)
    return event["type"], event["from_status"], event["to_status"]


async def claim_response_of(client: httpx.AsyncClient, authorization_id: uuid.UUID) -> Json:
    """The FHIR read of the authorization's ClaimResponse."""
    response = await client.get(f"/fhir/ClaimResponse/{authorization_id}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def operations_cancel(client: httpx.AsyncClient, authorization_id: uuid.UUID) -> httpx.Response:
    return await client.post(f"/authorizations/{authorization_id}/cancel")


# --- the fhir-pas payer's answers (respx) -----------------------------------------------------


def pas_answer(*actions: ReviewAction | ItemDecision, reference: str = "ACME-REF-1") -> httpx.Response:
    """A 200 PAS response deciding item 1, 2, ... with `actions` (A6 authorizes E0250, A2 two units)."""
    decisions = tuple(
        action if isinstance(action, ItemDecision) else decision(sequence, action)
        for sequence, action in enumerate(actions, 1)
    )
    preauth = "ACME-AUTH-1" if any(d.action is not ReviewAction.PENDED for d in decisions) else None
    return httpx.Response(
        200, content=claim_response_bundle(decisions, identifier=reference, preauth_ref=preauth), headers=FHIR_JSON
    )


def decision(sequence: int, action: ReviewAction) -> ItemDecision:
    period = Period(date(2030, 5, 10), date(2030, 8, 7))
    certifies = action in (ReviewAction.CERTIFIED, ReviewAction.PARTIAL, ReviewAction.MODIFIED)
    return ItemDecision(
        sequence,
        action,
        authorization_number="ACME-AUTH-1" if certifies else None,
        authorized_period=period if certifies else None,
        authorized_quantity=Decimal(2) if action is ReviewAction.PARTIAL else None,
        authorized_service=Coding("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "E0250")
        if action is ReviewAction.MODIFIED
        else None,
    )


def pas_rejection(text: str = "Acme: member not eligible on the date of service", status: int = 400) -> httpx.Response:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "business-rule",
                "details": {"text": text},
                "expression": ["Bundle.entry[0].resource.insurer"],
            }
        ],
    }
    return httpx.Response(status, content=orjson.dumps(outcome), headers=FHIR_JSON)


# --- the worker, with a clock the test moves ---------------------------------------------------


class Driver:
    """Runs the app's job handlers on a clock moved by hand (never slept), never behind the real one.

    The app itself records on the real clock; the worker's clock jumps ahead of it, so jobs planned
    "in five minutes" or "at the end of the approval" fall due at once.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def run(self, after: timedelta = timedelta(0), *, until: datetime | None = None) -> int:
        """Move the clock (by `after`, or to `until`), then run every job that falls due; how many ran."""
        self.now = max(self.now, utc_now())  # the app records on the real clock: never run behind it
        if until is not None:
            self.now = max(self.now, until)
        self.now += after
        worker = Worker(self.runtime.sessions, default_handlers(self.runtime), clock=self, concurrency=1)
        ran = 0
        for _ in range(20):  # bounded: a job that reschedules itself at "now" must not spin forever
            claimed = await worker.run_once()
            if not claimed:
                return ran
            ran += claimed
        return ran


# --- in-process payers that misbehave ----------------------------------------------------------


def sandbox(app: FastAPI) -> PayerAdapter:
    runtime: Runtime = app.state.runtime
    return runtime.payers.get("sandbox").adapter


class Gate:
    """Holds an adapter call until released: `entered` is set once the payer was called."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    def wrap(self, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def held(*args: Any) -> Any:
            self.calls += 1
            self.entered.set()
            await asyncio.wait_for(self.release.wait(), timeout=BOUND)  # bounded: a broken test cannot hang
            return await call(*args)

        return held


def actions_of(body: Json) -> dict[int, str]:
    return review_actions(body)


def outcome_of(body: Json) -> str:
    outcome: str = claim_response(body)["outcome"]
    return outcome


def assert_recorded(before: Json, after: Json, *events: str) -> None:
    """`after` shows exactly one recorded change more than `before`: version +1, a new ETag, `events` added."""
    assert after["version"] == before["version"] + 1, (before["version"], after["version"])
    assert after["etag"] != before["etag"]
    assert timeline(after) == [*timeline(before), *events]
