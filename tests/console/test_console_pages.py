"""Console pages render what the services hold: the report's chart and table, webhook deliveries, pages."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.domain.codes import AuthorizationStatus
from app.security.principal import ADMIN
from app.store.models import WebhookDelivery, WebhookEndpoint
from tests.support.auth import token_for
from tests.support.console import log_in
from tests.support.rows import make_authorization


async def _admin(app: FastAPI, client: httpx.AsyncClient) -> None:
    await log_in(client, await token_for(client, app, "ops-admin", [ADMIN], admin=True))


async def test_the_report_page_charts_decision_times_per_payer(app: FastAPI, client: httpx.AsyncClient) -> None:
    runtime = app.state.runtime
    now = runtime.clock()
    rows = []
    for payer, hours in (("acme", 10), ("acme", 30), ("bluecross", 100)):
        row = make_authorization("ehr-a", now - timedelta(days=2))
        row.payer_id, row.status = payer, AuthorizationStatus.APPROVED
        row.decided_at = row.received_at + timedelta(hours=hours)
        rows.append(row)
    async with runtime.sessions() as session:
        session.add_all(rows)
        await session.commit()
    await _admin(app, client)
    page = await client.get("/console/report")
    assert page.status_code == 200
    assert '<svg role="img"' in page.text
    assert "median 10.0 h" in page.text  # acme: nearest-rank median of 10 h and 30 h
    assert "p90 100.0 h" in page.text
    widths = [float(w) for w in re.findall(r'width="([0-9.]+)" height="14" class="p90"', page.text)]
    assert max(widths) == 420.0  # the longest p90 fills the plot
    assert re.search(r"<th scope=\"row\">All payers</th>\s*<td>3</td>", page.text)


async def test_the_webhooks_pages_list_endpoints_and_their_deliveries(app: FastAPI, client: httpx.AsyncClient) -> None:
    runtime = app.state.runtime
    now = runtime.clock()
    endpoint = WebhookEndpoint(
        client_id="ehr-a",
        url="https://ehr.example/hook",
        event_types=["*"],
        secret="whsec_x",
        created_at=now,
        updated_at=now,
    )
    async with runtime.sessions() as session:
        session.add(endpoint)
        await session.flush()
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                client_id="ehr-a",
                message_id="msg_1",
                event_type="authorization.approved",
                payload={},
                occurred_at=now,
                state="failed",
                attempts=3,
                last_status_code=500,
                created_at=now,
            )
        )
        await session.commit()
    await _admin(app, client)
    listing = await client.get("/console/webhooks")
    assert "https://ehr.example/hook" in listing.text
    deliveries = await client.get(f"/console/webhooks/{endpoint.id}")
    assert deliveries.status_code == 200
    assert "authorization.approved" in deliveries.text
    assert 'aria-label="Redeliver delivery' in deliveries.text


async def test_an_unknown_authorization_is_a_404_page_not_a_5xx(app: FastAPI, client: httpx.AsyncClient) -> None:
    await _admin(app, client)
    response = await client.get("/console/authorizations/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
