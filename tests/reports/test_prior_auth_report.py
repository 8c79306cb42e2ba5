"""The CMS-0057-F report's figures equal a hand count over a seeded set of authorizations."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority
from app.runtime import Runtime
from app.store.models import Authorization
from tests.support.processes import run_epa
from tests.support.rows import make_authorization

START = datetime(2030, 1, 1, tzinfo=UTC)
END = datetime(2030, 4, 1, tzinfo=UTC)
PAYERS = ("acme", "bluecross")
KINDS = ("prior", "concurrent")
PRIORITIES = ("standard", "expedited")
STATUSES = (
    "approved",
    "modified",
    "expired",
    "partially-approved",
    "denied",
    "pended",
    "received",
    "cancelled",
    "not-required",
    "error",
    "info-requested",
)
APPROVED = {"approved", "modified", "expired"}
DECIDED = APPROVED | {"partially-approved", "denied"}


@dataclass(frozen=True)
class Seeded:
    payer: str
    kind: str
    priority: str
    status: str
    client: str
    received: datetime
    decision_seconds: int | None
    replaced: bool = False
    asked: bool = False  # the payer asked for documents (PAS communicationRequest / CDex Task)


def _seed_rows(rng: random.Random) -> list[Seeded]:
    rows: list[Seeded] = []
    for _ in range(160):
        status = rng.choice(STATUSES)
        decided = status not in {"pended", "received", "info-requested"}
        asked = status == "info-requested" or rng.random() < 0.25
        rows.append(
            Seeded(
                payer=rng.choice(PAYERS),
                kind=rng.choice(KINDS),
                priority=rng.choice(PRIORITIES),
                status=status,
                client="development",
                received=START + timedelta(seconds=rng.randint(0, 89 * 86400)),
                decision_seconds=rng.randint(60, 10 * 86400) if decided else None,
                asked=asked,
            )
        )
    # Outside the population: before `from`, at `to` (exclusive), another client's, replaced by an update.
    edge = {"payer": "acme", "kind": "prior", "priority": "standard", "status": "denied", "decision_seconds": 99}
    rows.append(Seeded(**edge, client="development", received=START - timedelta(seconds=1)))  # type: ignore[arg-type]
    rows.append(Seeded(**edge, client="development", received=END))  # type: ignore[arg-type]
    rows.append(Seeded(**edge, client="other-clinic", received=START + timedelta(days=1)))  # type: ignore[arg-type]
    rows.append(Seeded(**edge, client="development", received=START + timedelta(days=1), replaced=True))  # type: ignore[arg-type]
    # Exactly on the windows: not late (past means strictly after).
    rows.append(Seeded("acme", "prior", "expedited", "approved", "development", START, 72 * 3600))
    rows.append(Seeded("acme", "prior", "standard", "approved", "development", START, 7 * 86400))
    return rows


def _authorization(seed: Seeded) -> Authorization:
    row = make_authorization(seed.client, seed.received)
    row.payer_id, row.kind = seed.payer, AuthorizationKind(seed.kind)
    row.priority, row.status = Priority(seed.priority), AuthorizationStatus(seed.status)
    row.received_at = seed.received
    if seed.decision_seconds is not None:
        row.decided_at = seed.received + timedelta(seconds=seed.decision_seconds)
    if seed.replaced:
        row.replaced_by_id = uuid.uuid4()
    if seed.asked:
        row.info_request = {"codes": [{"system": "http://loinc.org", "code": "11506-3"}]}
    return row


def _nearest_rank(values: list[int], p: float) -> float | None:
    ordered = sorted(values)
    return float(ordered[math.ceil(p * len(ordered)) - 1]) if ordered else None


def hand_count(rows: list[Seeded]) -> dict[str, Any]:
    """The same figures, counted one row at a time (independent of the SQL)."""
    population = [r for r in rows if r.client == "development" and not r.replaced and START <= r.received < END]

    def count(statuses: set[str]) -> int:
        return sum(1 for r in population if r.status in statuses)

    decided = [r for r in population if r.status in DECIDED]
    seconds = [r.decision_seconds for r in decided if r.decision_seconds is not None]
    windows = {"expedited": 72 * 3600, "standard": 7 * 86400}
    approved, partial, denied = count(APPROVED), count({"partially-approved"}), count({"denied"})
    return {
        "requests": len(population),
        "approved": approved,
        "partially_approved": partial,
        "denied": denied,
        "pended": count({"pended", "received"}),
        "cancelled": count({"cancelled"}),
        "not_required": count({"not-required"}),
        "appealed": 0,
        "approved_after_appeal": 0,
        "denied_after_appeal": 0,
        "info_requested": count({"info-requested"}),
        "information_requests": sum(1 for r in population if r.asked),
        "decided": len(decided),
        "approval_rate": round((approved + partial) / len(decided), 4) if decided else None,
        "denial_rate": round(denied / len(decided), 4) if decided else None,
        "median_decision_seconds": _nearest_rank(seconds, 0.5),
        "p90_decision_seconds": _nearest_rank(seconds, 0.9),
        "max_decision_seconds": float(max(seconds)) if seconds else None,
        "late_decisions": sum(1 for r in decided if (r.decision_seconds or 0) > windows[r.priority]),
    }


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"payer", "kind", "priority"}}


@pytest.fixture
async def seeded(app: FastAPI) -> list[Seeded]:
    rows = _seed_rows(random.Random(57))
    runtime: Runtime = app.state.runtime
    async with runtime.sessions() as session:
        session.add_all([_authorization(r) for r in rows])
        await session.commit()
    return rows


PARAMS = {"from": START.isoformat(), "to": END.isoformat()}


async def test_report_figures_equal_a_hand_count_per_group_per_payer_and_in_total(
    client: httpx.AsyncClient, seeded: list[Seeded]
) -> None:
    response = await client.get("/reports/prior-auth", params=PARAMS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert _figures(body["total"]) == hand_count(seeded)
    for payer in body["payers"]:
        assert _figures(payer) == hand_count([r for r in seeded if r.payer == payer["payer"]]), payer["payer"]
    assert {p["payer"] for p in body["payers"]} == set(PAYERS)
    assert len(body["groups"]) == len(PAYERS) * len(KINDS) * len(PRIORITIES)
    for group in body["groups"]:
        mine = [
            r for r in seeded if (r.payer, r.kind, r.priority) == (group["payer"], group["kind"], group["priority"])
        ]
        assert _figures(group) == hand_count(mine), (group["payer"], group["kind"], group["priority"])
    assert body["total"]["late_decisions"] > 0
    assert body["total"]["requests"] > 100


async def test_one_payer_and_csv_give_the_same_figures(client: httpx.AsyncClient, seeded: list[Seeded]) -> None:
    response = await client.get(
        "/reports/prior-auth", params={**PARAMS, "payer": "acme"}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    total = next(line for line in lines if (line["payer"], line["kind"], line["priority"]) == ("*", "*", "*"))
    expected = hand_count([r for r in seeded if r.payer == "acme"])
    assert int(total["requests"]) == expected["requests"]
    assert int(total["denied"]) == expected["denied"]
    assert float(total["median_decision_seconds"]) == expected["median_decision_seconds"]
    assert {line["payer"] for line in lines} == {"acme", "*"}


async def test_an_empty_period_reports_zeros_and_no_rates(client: httpx.AsyncClient, seeded: list[Seeded]) -> None:
    body = (await client.get("/reports/prior-auth", params={"from": "2020-01-01", "to": "2020-02-01"})).json()
    assert body["total"]["requests"] == 0
    assert body["total"]["approval_rate"] is None
    assert body["total"]["median_decision_seconds"] is None
    assert body["groups"] == []
    assert body["payers"] == []


@pytest.mark.parametrize(
    "params",
    [{"from": "2030-02-01", "to": "2030-01-01"}, {"from": "2001-01-01", "to": "2030-01-01"}, {"from": "yesterday"}],
)
async def test_bad_periods_are_refused_with_a_4xx(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/reports/prior-auth", params=params)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_epa_report_prints_the_same_figures_as_csv_and_json(
    seeded: list[Seeded], database_url: str, tmp_path: Path
) -> None:
    env = {"EPA_DATABASE_URL": database_url, "EPA_DATA_DIR": str(tmp_path)}
    period = ("--from", START.isoformat(), "--to", END.isoformat())
    as_csv = await asyncio.to_thread(run_epa, "report", *period, env=env)
    assert as_csv.returncode == 0, as_csv.stderr
    assert "computing the report" in as_csv.stderr
    lines = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    # The CLI acts for operations: every client's requests, so the other clinic's row counts too.
    everyone = [replace(r, client="development") if r.client == "other-clinic" else r for r in seeded]
    total = lines[-1]
    assert (total["payer"], total["kind"], total["priority"]) == ("*", "*", "*")
    assert int(total["requests"]) == hand_count(everyone)["requests"]
    as_json = await asyncio.to_thread(run_epa, "report", *period, "--payer", "bluecross", "--format", "json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    assert _figures(json.loads(as_json.stdout)["total"]) == hand_count([r for r in seeded if r.payer == "bluecross"])


def test_epa_report_refuses_a_backwards_period_with_one_line(tmp_path: Path) -> None:
    result = run_epa("report", "--from", "2030-02-01", "--to", "2030-01-01", env={"EPA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip() == "epa: `from` must be before `to`"
