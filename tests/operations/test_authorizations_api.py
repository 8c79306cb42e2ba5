"""The operations API on authorizations: worklist filters, cursor pages, detail, polling, refresh, cancel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.security import current_principal
from app.payers import PayerReference, PayerUnavailable
from app.runtime import Runtime
from app.security.principal import AUTHORIZATIONS_READ, Principal
from app.store.database import create_session_factory
from app.store.models import Authorization, AuthorizationItem, Job
from tests.support.bundles import pas_request
from tests.support.pas import submit

DEV = "development"
NOW = datetime.now(UTC).replace(microsecond=0)


async def _row(engine: AsyncEngine, *, client_id: str = DEV, items: int = 1, **values: Any) -> uuid.UUID:
    """An authorization written directly, for filters the sandbox cannot produce on demand."""
    ident = uuid.uuid4()
    defaults: dict[str, Any] = {
        "id": ident,
        "client_id": client_id,
        "payer_id": "sandbox",
        "bundle_identifier": f"urn:test|B-{ident.hex}",
        "claim_identifier": f"urn:test|C-{ident.hex}",
        "patient_member_id": "M-1",
        "provider_identifier": "http://hl7.org/fhir/sid/us-npi|1234567893",
        "kind": "prior",
        "priority": "standard",
        "status": "approved",
        "received_at": NOW - timedelta(days=2),
        "due_at": NOW + timedelta(days=5),
        "created_at": NOW - timedelta(days=2),
        "updated_at": NOW - timedelta(hours=1),
        "version": 1,
        "request_hash": "0" * 64,
        "request_document": b"{}",
    }
    authorization = Authorization(**{**defaults, **values})
    authorization.items = [AuthorizationItem(sequence=n, product_code="99212") for n in range(1, items + 1)]
    async with create_session_factory(engine).begin() as session:
        session.add(authorization)
    return ident


async def _ids(client: httpx.AsyncClient, **params: Any) -> set[str]:
    response = await client.get("/authorizations", params=params)
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["authorizations"]}


def _as(app: FastAPI, principal: Principal) -> None:
    async def override() -> Principal:
        return principal

    app.dependency_overrides[current_principal] = override


async def _submitted(client: httpx.AsyncClient, *codes: str, member: str = "MEMBER-123") -> str:
    response = await submit(client, pas_request(*codes, member=member, tag=uuid.uuid4().hex[:8]))
    assert response.status_code == 200, response.text
    claim_response_id: str = response.json()["entry"][0]["resource"]["id"]
    return claim_response_id


async def _follow_up(engine: AsyncEngine, authorization_id: str) -> Job:
    async with create_session_factory(engine)() as session:
        statement = select(Job).where(
            Job.authorization_id == uuid.UUID(authorization_id), Job.kind == "authorization.follow_up"
        )
        return (await session.execute(statement)).scalar_one()


async def test_each_filter_selects_exactly_its_rows(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    plain = await _row(engine)
    pended = await _row(engine, status="pended")
    overdue = await _row(engine, status="pended", due_at=NOW - timedelta(hours=1))
    received_overdue = await _row(engine, status="received", due_at=NOW - timedelta(days=1))
    denied_past_due = await _row(engine, status="denied", due_at=NOW - timedelta(days=1))
    other_payer = await _row(engine, payer_id="acme", kind="retrospective", priority="expedited")
    expiring = await _row(engine, expires_at=NOW + timedelta(days=3))
    later = await _row(engine, expires_at=NOW + timedelta(days=60))
    fresh = await _row(engine, status="modified", updated_at=NOW + timedelta(minutes=5))
    member = await _row(engine, patient_member_id="M-2", provider_identifier="urn:npi|999")
    replaced = await _row(engine, replaced_by_id=plain)
    await _row(engine, client_id="someone-else", payer_id="acme")

    everything = {
        plain,
        pended,
        overdue,
        received_overdue,
        denied_past_due,
        other_payer,
        expiring,
        later,
        fresh,
        member,
    }
    assert await _ids(client) == {str(i) for i in everything}
    assert await _ids(client, status="pended") == {str(pended), str(overdue)}
    assert await _ids(client, status=["pended", "received", "denied"]) == {
        str(i) for i in (pended, overdue, received_overdue, denied_past_due)
    }
    assert await _ids(client, overdue="true") == {str(overdue), str(received_overdue)}
    assert await _ids(client, overdue="true", status="pended") == {str(overdue)}
    assert await _ids(client, overdue="true", status="denied") == set()
    assert str(overdue) not in await _ids(client, overdue="false")
    assert str(denied_past_due) in await _ids(client, overdue="false")
    assert await _ids(client, payer="acme") == {str(other_payer)}
    assert await _ids(client, kind="retrospective") == {str(other_payer)}
    assert await _ids(client, priority="expedited") == {str(other_payer)}
    before = (NOW + timedelta(days=10)).isoformat()
    assert await _ids(client, expiring_before=before) == {str(expiring)}
    assert await _ids(client, updated_since=NOW.isoformat()) == {str(fresh)}
    assert await _ids(client, member_id="M-2") == {str(member)}
    assert await _ids(client, provider="urn:npi|999") == {str(member)}
    assert str(replaced) in await _ids(client, include_replaced="true")
    assert (await client.get("/authorizations", params={"status": "lost"})).status_code == 422


async def test_summaries_carry_clocks_counts_and_links(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    overdue = await _row(engine, status="pended", due_at=NOW - timedelta(hours=1), items=3)
    body = (await client.get("/authorizations")).json()
    [summary] = body["authorizations"]
    assert summary["id"] == str(overdue)
    assert summary["item_count"] == 3
    assert summary["clocks"]["overdue"] is True
    assert summary["links"]["detail"].endswith(f"/authorizations/{overdue}")
    assert summary["links"]["claim_response"].endswith(f"/fhir/ClaimResponse/{overdue}")
    assert "patient_member_id" not in summary
    assert body["next_cursor"] is None


@pytest.mark.parametrize("statuses", [None, ["approved", "pended"]], ids=["all", "two-statuses"])
async def test_cursor_pages_are_stable_without_duplicates_or_gaps(
    client: httpx.AsyncClient, engine: AsyncEngine, statuses: list[str] | None
) -> None:
    tie = NOW - timedelta(minutes=30)
    rows = []
    for n in range(23):
        status = "pended" if n % 3 == 0 else "approved"
        updated = tie if n % 4 == 0 else NOW - timedelta(minutes=n)  # ties are broken by id
        rows.append((updated, await _row(engine, status=status, updated_at=updated)))
    expected = [str(i) for _, i in sorted(rows, key=lambda r: (r[0], r[1].hex), reverse=True)]
    params: dict[str, Any] = {"limit": 5, **({"status": statuses} if statuses else {})}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        response = await client.get("/authorizations", params={**params, **({"cursor": cursor} if cursor else {})})
        page = response.json()
        seen.extend(a["id"] for a in page["authorizations"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        await _row(engine, updated_at=NOW + timedelta(hours=1))  # news arriving meanwhile do not shift pages
    assert seen == expected
    bad = await client.get("/authorizations", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"


async def test_detail_shows_items_decisions_clocks_links_and_timeline(client: httpx.AsyncClient) -> None:
    authorization_id = await _submitted(client, "99212", "A9270")
    response = await client.get(f"/authorizations/{authorization_id}")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "partially-approved"
    assert [(i["sequence"], i["product_code"], i["decision_code"]) for i in detail["items"]] == [
        (1, "99212", "A1"),
        (2, "A9270", "A3"),
    ]
    denied = detail["items"][1]
    assert denied["reason_codes"]
    assert denied["reason_text"]
    assert detail["items"][0]["authorization_number"]
    assert detail["items"][0]["authorized_period"]["end"]
    assert detail["clocks"]["decided_at"]
    assert detail["clocks"]["expires_at"]
    assert detail["links"]["claim_response"].endswith(f"/fhir/ClaimResponse/{authorization_id}")
    timeline = detail["timeline"]
    assert [e["type"] for e in timeline] == ["received", "payer-answered"]
    assert (timeline[1]["from_status"], timeline[1]["to_status"]) == ("received", "partially-approved")
    assert "Retry-After" not in response.headers

    etag = response.headers["etag"]
    again = await client.get(f"/authorizations/{authorization_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""
    stale = await client.get(f"/authorizations/{authorization_id}", headers={"If-None-Match": '"old-1"'})
    assert stale.status_code == 200


async def test_pended_detail_says_when_to_ask_again(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    authorization_id = await _submitted(client, "E0470")
    response = await client.get(f"/authorizations/{authorization_id}")
    assert response.json()["status"] == "pended"
    job = await _follow_up(engine, authorization_id)
    expected = (job.run_at - datetime.now(UTC)).total_seconds()
    assert abs(int(response.headers["retry-after"]) - expected) <= 5
    not_modified = await client.get(
        f"/authorizations/{authorization_id}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert int(not_modified.headers["retry-after"]) > 0


async def test_refresh_moves_the_queued_follow_up_to_now(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    authorization_id = await _submitted(client, "E0470")
    before = await _follow_up(engine, authorization_id)
    assert before.run_at > datetime.now(UTC) + timedelta(seconds=30)
    response = await client.post(f"/authorizations/{authorization_id}/refresh")
    assert response.status_code == 202, response.text
    body = response.json()
    after = await _follow_up(engine, authorization_id)
    assert after.id == before.id == body["follow_up"]["job_id"]
    assert after.run_at <= datetime.now(UTC)
    assert after.payload == before.payload == {"action": "inquire"}
    assert body["authorization"]["status"] == "pended"


async def test_refresh_plans_a_follow_up_when_none_is_queued(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    authorization_id = await _row(engine, status="pended")
    response = await client.post(f"/authorizations/{authorization_id}/refresh")
    assert response.status_code == 202, response.text
    job = await _follow_up(engine, str(authorization_id))
    assert (job.state, job.payload) == ("queued", {"action": "confirm"})  # ask before resending


async def test_refresh_or_cancel_of_a_final_authorization_is_a_conflict(client: httpx.AsyncClient) -> None:
    denied = await _submitted(client, "A9270")
    for action in ("refresh", "cancel"):
        response = await client.post(f"/authorizations/{denied}/{action}")
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
    approved = await _submitted(client, "99212")
    assert (await client.post(f"/authorizations/{approved}/refresh")).status_code == 409


async def test_cancel_tells_the_payer_and_cancels_every_item(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    authorization_id = await _submitted(client, "E0470", "99212")
    response = await client.post(f"/authorizations/{authorization_id}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["payer_notified"] is True
    assert body["follow_up"] is None
    detail = body["authorization"]
    assert detail["status"] == "cancelled"
    assert {i["decision_code"] for i in detail["items"]} == {"C"}
    assert all(i["cancelled"] for i in detail["items"])
    last = detail["timeline"][-1]
    assert (last["type"], last["from_status"], last["to_status"]) == ("cancelled", "pended", "cancelled")
    assert last["detail"] == {"by": "operations", "payer": "notified", "operator": "development"}
    assert (await _follow_up(engine, authorization_id)).state == "done"
    assert (await client.post(f"/authorizations/{authorization_id}/cancel")).status_code == 409
    claim_response = (await client.get(f"/fhir/ClaimResponse/{authorization_id}")).json()
    assert claim_response["id"] == authorization_id


async def test_cancel_takes_an_optional_reason_and_the_timeline_records_who_and_why(client: httpx.AsyncClient) -> None:
    authorization_id = await _submitted(client, "E0470")
    too_long = await client.post(f"/authorizations/{authorization_id}/cancel", json={"reason": "x" * 501})
    assert too_long.status_code == 422
    response = await client.post(
        f"/authorizations/{authorization_id}/cancel", json={"reason": "  duplicate\nof another request "}
    )
    assert response.status_code == 200, response.text
    detail = response.json()["authorization"]["timeline"][-1]["detail"]
    assert (detail["operator"], detail["note"]) == ("development", "duplicate of another request")


async def test_cancel_with_the_payer_down_cancels_here_and_tells_the_payer_later(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    authorization_id = await _submitted(client, "99212", member="SBX-DOWN")
    runtime: Runtime = app.state.runtime

    async def down(reference: PayerReference) -> Any:
        raise PayerUnavailable("sandbox down")

    monkeypatch.setattr(runtime.payers.get("sandbox").adapter, "cancel", down)
    response = await client.post(f"/authorizations/{authorization_id}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["payer_notified"] is False
    assert body["authorization"]["status"] == "cancelled"
    assert body["authorization"]["timeline"][-1]["detail"] == {
        "by": "operations",
        "payer": "unreachable",
        "operator": "development",
    }
    job = await _follow_up(engine, authorization_id)
    assert (job.state, job.payload, job.id) == ("queued", {"action": "cancel"}, body["follow_up"]["job_id"])


async def test_unknown_and_other_clients_authorizations_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    theirs = await _row(engine, client_id="someone-else", status="pended")
    for hidden in (theirs, uuid.uuid4()):
        for method, path in (
            ("GET", f"/authorizations/{hidden}"),
            ("POST", f"/authorizations/{hidden}/refresh"),
            ("POST", f"/authorizations/{hidden}/cancel"),
        ):
            response = await client.request(method, path, headers={"If-None-Match": '"x"'} if method == "GET" else {})
            assert response.status_code == 404, (method, path)
            assert response.headers["content-type"] == "application/problem+json"
    _as(app, Principal(client_id="ops", scopes=frozenset(), admin=True))
    assert (await client.get(f"/authorizations/{theirs}")).status_code == 200
    assert await _ids(client) == {str(theirs)}


async def test_reads_and_writes_need_their_scopes(app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    mine = await _row(engine, status="pended")
    _as(app, Principal(client_id=DEV, scopes=frozenset({AUTHORIZATIONS_READ})))
    assert (await client.get(f"/authorizations/{mine}")).status_code == 200
    assert (await client.post(f"/authorizations/{mine}/refresh")).status_code == 403
    _as(app, Principal(client_id=DEV, scopes=frozenset()))
    assert (await client.get("/authorizations")).status_code == 403
