"""Continuity of care, end to end through HTTP with the sandbox payer: an authorization from the
patient's previous plan imported (operations API and `epa carried-over import`), approved for the
transition window, warned about and expired on a moved clock, and its prepared resubmission to the
new payer a PAS request that `$validate` and `$submit` take as it is."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE
from app.settings import Settings
from tests.authorizations import store_reads
from tests.authorizations.support import Driver, Item, detail, request_bundle, submit_bundle, timeline
from tests.support.auth import bearer, token_for
from tests.support.pas import FHIR_JSON, submit
from tests.support.processes import run_epa

CPT = "http://www.ama-assn.org/go/cpt"


def _today() -> date:
    return datetime.now(UTC).date()


def carried(*, start: int = -30, end: int = 200, number: str | None = None, **extra: Any) -> dict[str, Any]:
    """An import body: days from today for the old plan's period."""
    today = _today()
    body: dict[str, Any] = {
        "payer": "sandbox",
        "previous_payer": "Previous Health Plan",
        "member": "NEW-MEMBER-1",
        "authorization_number": number or f"OLD-{uuid.uuid4().hex[:8]}",
        "period": {
            "start": (today + timedelta(days=start)).isoformat(),
            "end": (today + timedelta(days=end)).isoformat(),
        },
        "services": [{"system": CPT, "code": "97110", "quantity": 12}],
        "provider": "http://hl7.org/fhir/sid/us-npi|1234567893",
    }
    body.update(extra)
    return body


async def _import(client: httpx.AsyncClient, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = await client.post("/authorizations/carried-over", json=body)
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _expires(shown: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(shown["clocks"]["expires_at"])


async def test_an_imported_authorization_is_approved_until_the_window_ends(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    imported = await _import(client, carried(end=200))
    assert imported["status"] == "approved"
    assert imported["kind"] == "carried-over"
    assert imported["payer_id"] == "sandbox"
    assert timeline(imported) == ["received", "carried-over"]
    event = imported["timeline"][-1]
    assert event["to_status"] == "approved"
    assert event["detail"]["previous_payer"] == "Previous Health Plan"
    window_end = _today() + timedelta(days=90)
    assert event["detail"]["honoured_until"] == window_end.isoformat()
    assert _expires(imported).date() == window_end
    item = imported["items"][0]
    assert item["decision_code"] == "A1"
    assert item["authorization_number"] == imported["preauth_ref"]
    assert item["authorized_quantity"] == 12
    assert item["authorized_period"]["end"] == window_end.isoformat()
    shown = await detail(client, uuid.UUID(imported["id"]))
    assert {k: v for k, v in shown.items() if k != "etag"} == imported
    published = await store_reads.published(engine, uuid.UUID(imported["id"]))
    assert published == ["authorization.received", "authorization.approved"]
    listed = (await client.get("/authorizations", params={"kind": "carried-over"})).json()
    assert [a["id"] for a in listed["authorizations"]] == [imported["id"]]


async def test_an_old_authorization_ending_inside_the_window_keeps_its_own_end(client: httpx.AsyncClient) -> None:
    imported = await _import(client, carried(end=20))
    assert _expires(imported).date() == _today() + timedelta(days=20)


async def test_the_window_warns_before_it_ends_then_expires(client: httpx.AsyncClient, driver: Driver) -> None:
    imported = await _import(client, carried(end=400))
    authorization_id = uuid.UUID(imported["id"])
    expires_at = _expires(imported)

    await driver.run(until=expires_at - timedelta(days=15))
    assert timeline(await detail(client, authorization_id)) == ["received", "carried-over"]

    await driver.run(until=expires_at - timedelta(days=13))  # carry_over_warning_days = 14
    warned = await detail(client, authorization_id)
    assert warned["status"] == "approved"
    assert timeline(warned) == ["received", "carried-over", "expiring"]

    await driver.run(until=expires_at)
    expired = await detail(client, authorization_id)
    assert expired["status"] == "expired"
    assert timeline(expired)[-1] == "expired"


async def test_the_prepared_resubmission_validates_and_submits_to_the_new_payer(client: httpx.AsyncClient) -> None:
    imported = await _import(client, carried())
    response = await client.get(f"/authorizations/{imported['id']}/resubmission")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    claim = bundle["entry"][0]["resource"]
    assert claim["item"][0]["productOrService"]["coding"][0] == {"system": CPT, "code": "97110"}
    assert claim["item"][0]["quantity"] == {"value": 12}
    note = claim["supportingInfo"][0]["valueString"]
    assert imported["preauth_ref"] in note
    assert "Previous Health Plan" in note

    validated = await client.post("/fhir/Claim/$validate", content=response.content, headers=FHIR_JSON)
    assert validated.status_code == 200, validated.text
    submitted = await submit(client, response.content)
    assert submitted.status_code == 200, submitted.text
    new_id = uuid.UUID(submitted.headers["location"].rsplit("/", 1)[-1])
    assert new_id != uuid.UUID(imported["id"])
    shown = await detail(client, new_id)
    assert shown["payer_id"] == "sandbox"
    assert shown["kind"] == "prior"
    assert shown["status"] == "partially-approved"  # the sandbox's rules certify part of 97110


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"payer": "nobody"}, "payer"),
        ({"services": []}, "body.services"),
        ({"services": [{"code": "97110", "quantity": 0}]}, "body.services.0.quantity"),
        ({"services": [{"code": " 97110"}]}, "body.services.0.code"),
        ({"member": "M\u0000"}, "body.member"),
        ({"member": "x" * 300}, "body.member"),
        ({"authorization_number": ""}, "body.authorization_number"),
        ({"period": {"start": "2026-01-01"}}, "body.period.end"),
        ({"unknown": 1}, "body.unknown"),
    ],
)
async def test_bad_imports_are_422_naming_the_field_and_store_nothing(
    change: dict[str, Any], expression: str, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await client.post("/authorizations/carried-over", json=carried(**change))
    assert response.status_code == 422, response.text
    assert expression in {issue.get("expression") for issue in response.json()["issues"]}, response.text
    assert await store_reads.authorization_count(engine) == 0


async def test_a_period_that_ended_or_runs_backwards_is_refused(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ended = await client.post("/authorizations/carried-over", json=carried(start=-100, end=-1))
    assert ended.status_code == 422
    assert ended.json()["issues"][0]["expression"] == "period.end"
    backwards = await client.post("/authorizations/carried-over", json=carried(start=10, end=5))
    assert backwards.status_code == 422
    assert await store_reads.authorization_count(engine) == 0


async def test_the_same_authorization_is_imported_once(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await _import(client, carried(number="OLD-ONCE"))
    again = await client.post("/authorizations/carried-over", json=carried(number="OLD-ONCE"))
    assert again.status_code == 409
    assert await store_reads.authorization_count(engine) == 1


async def test_another_clients_import_is_not_found_and_other_kinds_have_no_resubmission(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    imported = await _import(client, carried())
    token = await token_for(client, app, "ehr-other", [AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE])
    hidden = await client.get(f"/authorizations/{imported['id']}/resubmission", headers=bearer(token))
    assert hidden.status_code == 404
    ordinary = await submit_bundle(client, request_bundle(Item("99212")))
    refused = await client.get(f"/authorizations/{ordinary.authorization_id}/resubmission")
    assert refused.status_code == 409


async def test_the_cli_imports_for_a_client(client: httpx.AsyncClient, settings: Settings, tmp_path: Path) -> None:
    assert settings.payers_file is not None
    env = {
        "EPA_DATABASE_URL": settings.effective_database_url,
        "EPA_DATA_DIR": str(tmp_path),
        "EPA_PAYERS_FILE": str(settings.payers_file),
    }
    today = _today()
    args = [
        "carried-over",
        "import",
        "--client",
        "development",
        "--payer",
        "sandbox",
        "--previous-payer",
        "Previous Health Plan",
        "--member",
        "NEW-MEMBER-2",
        "--number",
        "OLD-CLI-1",
        "--start",
        (today - timedelta(days=10)).isoformat(),
        "--end",
        (today + timedelta(days=30)).isoformat(),
        "--service",
        f"{CPT}|97110=6",
        "--service",
        "97530",
    ]
    result = await asyncio.to_thread(run_epa, *args, env=env)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["kind"] == "carried-over"
    assert [i["product_code"] for i in printed["items"]] == ["97110", "97530"]
    shown = await detail(client, uuid.UUID(printed["id"]))  # the development client owns it
    assert shown["status"] == "approved"
    assert _expires(shown).date() == today + timedelta(days=30)

    again = await asyncio.to_thread(run_epa, *args, env=env)
    assert again.returncode == 2
    assert again.stderr.startswith("epa: ")
    unknown = await asyncio.to_thread(run_epa, *[a if a != "sandbox" else "nobody" for a in args], env=env)
    assert unknown.returncode == 2
    assert "nobody" in unknown.stderr


async def test_concurrent_identical_imports_store_one_and_answer_409_to_the_other(client: httpx.AsyncClient) -> None:
    for _ in range(8):
        body = carried()
        answers = await asyncio.gather(*(client.post("/authorizations/carried-over", json=body) for _ in range(2)))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 409)
        assert refused.headers["content-type"].startswith("application/problem+json")
