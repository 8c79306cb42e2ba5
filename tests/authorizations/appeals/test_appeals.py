"""Appeals end to end through HTTP: the operations call and the PAS update (certificationType 1/2), the
sandbox deciding them (at once, or after a review the worker follows up), a payer whose appeals go by
another channel (its outcome recorded by operations), the appeal deadline on a moved clock, peer-to-peer
reviews, webhooks delivered to a real receiver, and the refusals."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import httpx
import orjson
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from app.domain.codes import ReviewAction
from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE
from app.settings import Settings
from tests.authorizations import store_reads
from tests.authorizations.states import SANDBOX_ANSWERS
from tests.authorizations.support import (
    ACME,
    CERTIFICATION_TYPE,
    X12_1322,
    Driver,
    Json,
    actions_of,
    claim_response_of,
    detail,
    lifecycle_settings,
    pas_answer,
    request_bundle,
    submit_bundle,
    timeline,
    update_bundle,
)
from tests.support.auth import bearer, token_for
from tests.support.pas import FHIR_JSON, submit
from tests.support.receiver import running_receiver
from tests.support.subscriptions import subscription

# Appended to the sandbox's published rules: an appeal whose reason says "second look" is reviewed, the
# payer asks for a peer-to-peer review, and it is approved at the first follow-up.
REVIEWED_APPEALS = """
[[appeal]]
reason_contains = "second look"
outcome = "pend"
after_seconds = 0
then = "approve"
peer_to_peer = "requested"
"""
PDF = b"%PDF-1.4 letter of medical necessity"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sync_budget: float) -> Settings:
    rules = tmp_path / "sandbox-rules.toml"
    rules.write_text(
        resources.files("app.payers.sandbox").joinpath("default_rules.toml").read_text() + REVIEWED_APPEALS
    )
    payers = f"""
[[payer]]
id = "sandbox"
adapter = "sandbox"
default = true
appeal_standard_window_days = 30
appeal_expedited_window_hours = 72

[payer.settings]
rules_file = "{rules}"

[[payer]]
id = "acme"
adapter = "fhir-pas"
match = ["{ACME}"]
appeal_expedited_window_hours = 48

[payer.settings]
base_url = "https://acme-payer.example/fhir"
max_attempts = 1
"""
    return lifecycle_settings(
        database_url,
        tmp_path,
        payers=payers,
        payer_sync_budget_seconds=sync_budget,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
    )


async def _denied(client: httpx.AsyncClient, status: str = "denied") -> tuple[Json, Json]:
    item, _action, _status = SANDBOX_ANSWERS[status]
    bundle = request_bundle(item)
    answered = await submit_bundle(client, bundle)
    shown = await detail(client, answered.authorization_id)
    assert shown["status"] == status
    return bundle, shown


async def _appeal(client: httpx.AsyncClient, shown: Json, expect: int = 201, **body: object) -> Json:
    payload = {"reason": "Failed six weeks of conservative therapy", **body}
    response = await client.post(f"/authorizations/{shown['id']}/appeal", json=payload)
    assert response.status_code == expect, response.text
    result: Json = response.json()
    return result


def _appeal_bundle(original: Json, code: str) -> Json:
    bundle = update_bundle(original, "A9270")
    bundle["entry"][0]["resource"]["extension"].append(
        {"url": CERTIFICATION_TYPE, "valueCodeableConcept": {"coding": [{"system": X12_1322, "code": code}]}}
    )
    return bundle


async def test_an_appealed_denial_is_approved_by_the_sandbox_and_each_change_is_delivered(
    client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine
) -> None:
    async with running_receiver() as receiver, running_receiver() as fhir_receiver:
        registered = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        assert registered.status_code == 201, registered.text
        secret = registered.json()["secret"]
        created = await client.post(
            "/fhir/Subscription", content=orjson.dumps(subscription(fhir_receiver.url)), headers=FHIR_JSON
        )
        assert created.status_code == 201, created.text
        await driver.run()  # the handshake
        _bundle, denied = await _denied(client)
        document = {"content_type": "application/pdf", "title": "Letter", "data": base64.b64encode(PDF).decode()}
        result = await _appeal(client, denied, documents=[document])

        appeal, shown = result["appeal"], result["authorization"]
        assert shown["status"] == "appeal-approved"
        assert timeline(shown) == [*timeline(denied), "appeal-submitted", "appeal-approved"]
        assert shown["timeline"][-2]["from_status"] == "denied"
        assert shown["timeline"][-1]["to_status"] == "appeal-approved"
        assert appeal["outcome"] == "approved"
        assert appeal["channel"] == "operations"
        assert appeal["appealed_status"] == "denied"
        assert appeal["documents"] == [
            {
                "id": appeal["documents"][0]["id"],
                "content_type": "application/pdf",
                "title": "Letter",
                "size": len(PDF),
                "sha256": hashlib.sha256(PDF).hexdigest(),
            }
        ]
        submitted = datetime.fromisoformat(appeal["submitted_at"])
        assert datetime.fromisoformat(appeal["due_at"]) - submitted == timedelta(days=30)
        assert [item["decision_code"] for item in shown["items"]] == ["A1"]
        assert shown["clocks"]["expires_at"] is not None
        read = await claim_response_of(client, denied["id"])
        assert actions_of({"entry": [{"resource": read}]}) == {1: "A1"}
        assert (await detail(client, denied["id"]))["appeals"] == [appeal]

        await driver.run()
        await receiver.wait_for(4)
        await fhir_receiver.wait_for(5)
        types = [Webhook(secret).verify(r.body, r.headers)["type"] for r in receiver.requests]
        notified = [orjson.loads(r.body) for r in fhir_receiver.requests[1:]]
    assert len(notified) == 4  # received, denied, appeal-submitted, appeal-approved: one history Bundle each
    assert actions_of(notified[-1]["entry"][1]["resource"]) == {1: "A1"}  # the full PAS response after the appeal
    assert types == [
        "authorization.received",
        "authorization.denied",
        "authorization.appeal-submitted",
        "authorization.appeal-approved",
    ]
    assert await store_reads.published(engine, uuid.UUID(denied["id"])) == types


async def test_an_appeal_whose_reason_says_upheld_is_denied(client: httpx.AsyncClient) -> None:
    _bundle, partial = await _denied(client, "partially-approved")
    result = await _appeal(client, partial, reason="Please reconsider; we expect it upheld", expedited=True)
    shown = result["authorization"]
    assert shown["status"] == "appeal-denied"
    assert shown["timeline"][-1]["detail"]["payer_reason"] == "Sandbox: the denial is upheld on appeal"
    assert [item["decision_code"] for item in shown["items"]] == ["A2"]  # upheld: the decision stands
    appeal = result["appeal"]
    assert datetime.fromisoformat(appeal["due_at"]) - datetime.fromisoformat(appeal["submitted_at"]) == timedelta(
        hours=72
    )
    again = await _appeal(client, shown, expect=409)
    assert "appeal-denied" in again["detail"]


async def test_a_reviewed_appeal_asks_for_a_peer_to_peer_and_the_worker_brings_its_approval(
    client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine
) -> None:
    _bundle, denied = await _denied(client)
    result = await _appeal(client, denied, reason="Asking for a second look")
    shown = result["authorization"]
    assert shown["status"] == "appeal-submitted"
    assert timeline(shown) == [*timeline(denied), "appeal-submitted", "peer-to-peer-requested"]
    assert result["appeal"]["peer_to_peer"] == "requested"
    assert result["appeal"]["outcome"] is None

    twice = await _appeal(client, shown, expect=409)
    assert "already under appeal" in twice["detail"]
    held = await client.post(f"/authorizations/{denied['id']}/peer-to-peer", json={"state": "held"})
    assert held.status_code == 200, held.text
    assert held.json()["appeal"]["peer_to_peer"] == "held"

    await driver.run(after=timedelta(minutes=1))
    decided = await detail(client, denied["id"])
    assert decided["status"] == "appeal-approved"
    assert timeline(decided)[-3:] == ["peer-to-peer-requested", "peer-to-peer-held", "appeal-approved"]
    assert decided["appeals"][0]["payer_reference"].startswith("sbxa-")
    published = await store_reads.published(engine, uuid.UUID(denied["id"]))
    assert published[-4:] == [
        "authorization.appeal-submitted",
        "authorization.peer-to-peer-requested",
        "authorization.peer-to-peer-held",
        "authorization.appeal-approved",
    ]


async def test_an_appeal_by_another_channel_goes_overdue_at_the_payer_deadline_then_operations_record_it(
    client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine, acme: respx.MockRouter
) -> None:
    acme.post("/Claim/$submit").mock(return_value=pas_answer(ReviewAction.NOT_CERTIFIED))
    answered = await submit_bundle(client, request_bundle("E0100", acme=True))
    denied = await detail(client, answered.authorization_id)
    assert denied["status"] == "denied"
    result = await _appeal(client, denied, expedited=True)
    shown, appeal = result["authorization"], result["appeal"]
    assert shown["status"] == "appeal-submitted"
    assert shown["timeline"][-1]["detail"]["payer"] == "another channel"
    due = datetime.fromisoformat(appeal["due_at"])
    assert due - datetime.fromisoformat(appeal["submitted_at"]) == timedelta(hours=48)  # acme's own deadline

    await driver.run(until=due - timedelta(seconds=1))
    assert "appeal-overdue" not in timeline(await detail(client, denied["id"]))
    await driver.run(until=due)
    overdue = await detail(client, denied["id"])
    assert timeline(overdue).count("appeal-overdue") == 1
    assert overdue["status"] == "appeal-submitted"
    assert "authorization.appeal-overdue" in await store_reads.published(engine, uuid.UUID(denied["id"]))

    recorded = await client.post(
        f"/authorizations/{denied['id']}/appeal/decision", json={"outcome": "approved", "note": "Letter of 3 May"}
    )
    assert recorded.status_code == 200, recorded.text
    decided = recorded.json()["authorization"]
    assert decided["status"] == "appeal-approved"
    assert decided["timeline"][-1]["detail"]["by"] == "operations"
    assert [item["decision_code"] for item in decided["items"]] == ["A1"]
    assert recorded.json()["appeal"]["outcome"] == "approved"
    twice = await client.post(f"/authorizations/{denied['id']}/appeal/decision", json={"outcome": "denied"})
    assert twice.status_code == 409
    assert "no appeal to decide" in twice.json()["detail"]


async def test_an_appeal_by_pas_update_links_to_the_denied_authorization_and_a_replay_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    original, denied = await _denied(client)
    appeal = _appeal_bundle(original, "1")
    answered = await submit_bundle(client, appeal)
    assert answered.authorization_id == denied["id"] or str(answered.authorization_id) == denied["id"]
    assert answered.actions == {1: "A1"}
    shown = await detail(client, answered.authorization_id)
    assert shown["status"] == "appeal-approved"
    assert [(a["channel"], a["expedited"]) for a in shown["appeals"]] == [("pas-update", True)]

    again = await submit_bundle(client, appeal)
    assert again.body == answered.body
    assert len((await detail(client, answered.authorization_id))["appeals"]) == 1


async def test_a_pas_appeal_of_an_approval_is_refused_with_an_operation_outcome(client: httpx.AsyncClient) -> None:
    original, approved = await _denied(client, "approved")
    refused = await submit(client, _appeal_bundle(original, "2"))
    assert refused.status_code == 422, refused.text
    (issue,) = refused.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[0].resource.related[0].claim"]
    assert "only a denied, partially approved or modified" in orjson.dumps(issue).decode()
    assert (await detail(client, approved["id"]))["appeals"] == []


@pytest.mark.parametrize(
    ("status", "message"),
    [("approved", "only a denied, partially approved or modified"), ("pended", "has not decided it yet")],
)
async def test_what_is_not_a_decision_against_the_practice_cannot_be_appealed(
    client: httpx.AsyncClient, status: str, message: str
) -> None:
    _bundle, shown = await _denied(client, status)
    refused = await _appeal(client, shown, expect=409)
    assert message in refused["detail"]
    after = await detail(client, shown["id"])
    assert after["status"] == status
    assert after["appeals"] == []
    assert after["version"] == shown["version"]


async def test_an_appeal_is_checked_before_anything_is_stored(client: httpx.AsyncClient) -> None:
    _bundle, denied = await _denied(client)
    too_big = base64.b64encode(b"x" * 1_000_001).decode()
    for body in (
        {"reason": ""},
        {"reason": "nul \x00 inside"},
        {"reason": "ok", "documents": [{"content_type": "application/pdf", "data": "not base64!"}]},
        {"reason": "ok", "documents": [{"content_type": "application/pdf", "data": too_big}]},
        {"reason": "ok", "documents": [{"content_type": "pdf", "data": "AAAA"}]},
    ):
        response = await client.post(f"/authorizations/{denied['id']}/appeal", json=body)
        assert response.status_code == 422, (body.get("reason"), response.text)
    assert (await detail(client, denied["id"]))["status"] == "denied"


async def test_another_clients_authorization_cannot_be_appealed(client: httpx.AsyncClient, app: FastAPI) -> None:
    _bundle, denied = await _denied(client)
    other = await token_for(client, app, "ehr-other", [AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE])
    for path, body in (
        ("appeal", {"reason": "mine now"}),
        ("appeal/decision", {"outcome": "approved"}),
        ("peer-to-peer", {"state": "requested"}),
    ):
        response = await client.post(f"/authorizations/{denied['id']}/{path}", json=body, headers=bearer(other))
        assert response.status_code == 404, response.text
    assert (await detail(client, denied["id"]))["status"] == "denied"
    assert orjson.loads(orjson.dumps((await detail(client, denied["id"]))["appeals"])) == []


async def test_the_report_counts_appeals_by_their_first_decision_and_their_outcome(client: httpx.AsyncClient) -> None:
    _bundle, overturned = await _denied(client)
    await _appeal(client, overturned)
    _bundle, upheld = await _denied(client, "partially-approved")
    await _appeal(client, upheld, reason="upheld, we expect")
    _bundle, open_appeal = await _denied(client)
    await _appeal(client, open_appeal, reason="a second look please")
    await _denied(client)  # a denial nobody appealed

    response = await client.get("/reports/prior-auth")
    assert response.status_code == 200, response.text
    total = response.json()["total"]
    figures = {k: total[k] for k in ("requests", "denied", "partially_approved", "decided")}
    assert figures == {"requests": 4, "denied": 3, "partially_approved": 1, "decided": 4}
    appeals = {k: total[k] for k in ("appealed", "approved_after_appeal", "denied_after_appeal")}
    assert appeals == {"appealed": 3, "approved_after_appeal": 1, "denied_after_appeal": 1}
    csv = await client.get("/reports/prior-auth", headers={"accept": "text/csv"})
    header = csv.text.splitlines()[0].split(",")
    assert header[header.index("appealed") : header.index("appealed") + 3] == [
        "appealed",
        "approved_after_appeal",
        "denied_after_appeal",
    ]


@pytest.mark.parametrize("status", ["denied", "partially-approved", "modified"])
async def test_every_decision_against_the_practice_can_be_appealed(client: httpx.AsyncClient, status: str) -> None:
    _bundle, shown = await _denied(client, status)
    result = await _appeal(client, shown)
    after = result["authorization"]
    assert [e["type"] for e in after["timeline"]][-2:] == ["appeal-submitted", "appeal-approved"]
    assert (after["timeline"][-2]["from_status"], after["status"]) == (status, "appeal-approved")
    assert result["appeal"]["appealed_status"] == status
    assert {item["decision_code"] for item in after["items"]} == {"A1"}


async def test_an_approval_won_on_appeal_warns_then_expires_and_can_be_cancelled_before(
    client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine
) -> None:
    _bundle, denied = await _denied(client)
    won = (await _appeal(client, denied))["authorization"]
    expires_at = datetime.fromisoformat(won["clocks"]["expires_at"])
    await driver.run(until=expires_at - timedelta(days=13))
    assert timeline(await detail(client, denied["id"]))[-1] == "expiring"
    await driver.run(until=expires_at)
    expired = await detail(client, denied["id"])
    assert (expired["status"], expired["timeline"][-1]["from_status"]) == ("expired", "appeal-approved")
    assert (await store_reads.published(engine, uuid.UUID(denied["id"])))[-2:] == [
        "authorization.expiring",
        "authorization.expired",
    ]

    _bundle, other = await _denied(client)
    await _appeal(client, other)
    cancelled = await client.post(f"/authorizations/{other['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["authorization"]["status"] == "cancelled"
    assert cancelled.json()["authorization"]["timeline"][-1]["from_status"] == "appeal-approved"


async def test_an_appeal_the_payer_could_not_take_is_sent_again_by_the_worker(
    client: httpx.AsyncClient, driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    rules = tmp_path / "sandbox-rules.toml"
    published = rules.read_text()
    rules.write_text(published + '\n[[appeal]]\nreason_contains = "outage"\noutcome = "unavailable"\n')
    _bundle, denied = await _denied(client)
    result = await _appeal(client, denied, reason="during the outage")
    shown = result["authorization"]
    assert shown["status"] == "appeal-submitted"  # stored, and the payer is told later
    assert result["appeal"]["payer_reference"] is None

    rules.write_text(published)  # the payer is back
    await driver.run(after=timedelta(seconds=settings.payer_sync_budget_seconds + 31))
    decided = await detail(client, denied["id"])
    assert decided["status"] == "appeal-approved"
    assert decided["timeline"][-1]["detail"]["by"] == "payer"
    assert decided["appeals"][0]["payer_reference"].startswith("sbxa-")


async def test_the_console_shows_the_appeals_and_offers_no_cancel_while_one_is_reviewed(
    client: httpx.AsyncClient,
) -> None:
    _bundle, denied = await _denied(client)
    await _appeal(client, denied, reason="a second look please", expedited=True)
    page = await client.get(f"/console/authorizations/{denied['id']}")
    assert page.status_code == 200, page.text
    assert '<h2 id="appeals">Appeals</h2>' in page.text
    assert "operations (expedited)" in page.text
    assert "under review" in page.text
    assert 'class="badge appeal-submitted"' in page.text
    assert "Cancel this request" not in page.text
    report = await client.get("/console/report")
    assert "Approved after appeal" in report.text
