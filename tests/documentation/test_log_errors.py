"""`Questionnaire/$log-questionnaire-errors`: 2xx, stored without PHI, visible to operations, pruned by
`epa prune` after their retention (both backends)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from app.store.models import QuestionnaireError
from tests.support.processes import run_epa

LOG = "/fhir/Questionnaire/$log-questionnaire-errors"
FHIR = {"content-type": "application/fhir+json"}
QUESTIONNAIRE = "https://epa-hub.example.org/fhir/dtr/sandbox/Questionnaire/power-mobility|1.0.0"
PHI = "Jane Doe, born 1950-02-03, MRN 4471"


def report(*extra: dict[str, Any]) -> dict[str, Any]:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "processing",
                "details": {"coding": [{"system": "urn:dtr-app", "code": "cql-error"}], "text": PHI},
                "diagnostics": PHI,
                "expression": ["Library.content[1]"],
            }
        ],
    }
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "questionnaire", "valueCanonical": QUESTIONNAIRE},
            {"name": "outcome", "resource": outcome},
            *extra,
        ],
    }


async def test_a_report_is_accepted_and_kept_without_its_free_text(client: httpx.AsyncClient) -> None:
    response = await client.post(LOG, content=orjson.dumps(report()), headers=FHIR)
    assert response.status_code == 200
    assert response.json()["issue"][0]["severity"] == "information"
    reports = (await client.get("/dtr/questionnaire-errors")).json()["reports"]
    (kept,) = reports
    assert kept["questionnaires"] == [QUESTIONNAIRE]
    assert kept["issues"] == [
        {
            "severity": "error",
            "code": "processing",
            "details": ["urn:dtr-app|cql-error"],
            "expression": ["Library.content[1]"],
        }
    ]
    assert "Jane" not in orjson.dumps(reports).decode()


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        (
            {"resourceType": "Parameters", "parameter": [{"name": "questionnaire", "valueCanonical": QUESTIONNAIRE}]},
            "Parameters.parameter",
        ),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "questionnaire", "valueCanonical": "a form"}]},
            "Parameters.parameter[0].valueCanonical",
        ),
        (
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "outcome", "resource": {"resourceType": "OperationOutcome", "issue": "x"}}],
            },
            "Parameters.parameter[0].resource",
        ),
    ],
)
async def test_bad_reports_are_400_and_nothing_is_kept(
    client: httpx.AsyncClient, body: dict[str, Any], expression: str
) -> None:
    response = await client.post(LOG, content=orjson.dumps(body), headers=FHIR)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [expression]
    assert (await client.get("/dtr/questionnaire-errors")).json()["reports"] == []


async def test_epa_prune_removes_logged_errors_past_their_retention(
    client: httpx.AsyncClient, settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    assert (await client.post(LOG, content=orjson.dumps(report()), headers=FHIR)).status_code == 200
    async with engine.begin() as connection:  # one more, logged 400 days ago (past the default 365)
        await connection.execute(
            insert(QuestionnaireError).values(
                client_id="old-client",
                questionnaires=[QUESTIONNAIRE],
                issues=[],
                received_at=datetime.now(UTC) - timedelta(days=400),
            )
        )
    env = {"EPA_DATABASE_URL": settings.effective_database_url, "EPA_DATA_DIR": str(tmp_path)}
    result = await asyncio.to_thread(run_epa, "prune", env=env)
    assert result.returncode == 0, result.stderr
    assert "questionnaire_errors: 1 deleted" in result.stdout
    async with engine.connect() as connection:
        left = (await connection.execute(select(QuestionnaireError.client_id))).scalars().all()
    assert len(left) == 1  # the one logged just now stays
    assert "old-client" not in left
