"""The report form's prefilled "to" includes today (it is exclusive), and the chart shows sub-hour
decision times in minutes or seconds, not "0.1 h" (issue 26, point 13)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.console.chart import duration_label
from app.domain.codes import AuthorizationStatus
from app.security.principal import ADMIN
from tests.support.auth import token_for
from tests.support.console import log_in
from tests.support.rows import make_authorization


async def test_the_report_form_includes_today_and_short_decision_times_read_in_minutes_or_seconds(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    runtime = app.state.runtime
    now = runtime.clock()
    rows = []
    for payer, decided_after in (("quick", timedelta(seconds=40)), ("minutes", timedelta(minutes=12))):
        row = make_authorization("ehr-a", now - timedelta(hours=2))
        row.payer_id, row.status = payer, AuthorizationStatus.APPROVED
        row.decided_at = row.received_at + decided_after
        rows.append(row)
    async with runtime.sessions() as session:
        session.add_all(rows)
        await session.commit()
    await log_in(client, await token_for(client, app, "ops-admin", [ADMIN], admin=True))

    page = (await client.get("/console/report")).text

    tomorrow = (now + timedelta(days=1)).date().isoformat()
    assert f'name="to" value="{tomorrow}"' in page  # "to" is exclusive: today's requests are in the report
    assert "median 40 s" in page
    assert "median 12 min" in page
    assert " 0.0 h" not in page


def test_duration_labels() -> None:
    assert [duration_label(s) for s in (0, 59, 60, 3599, 3600, 90000)] == [
        "0 s",
        "59 s",
        "1 min",
        "60 min",
        "1.0 h",
        "25.0 h",
    ]
