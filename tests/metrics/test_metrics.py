"""`/metrics` counts what happened: a submit, a pended follow-up, a dead job, a failed webhook delivery."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import and_, or_, select, update

from app.domain.codes import AuthorizationStatus
from app.jobs.loop import Worker
from app.jobs.repository import JobState, enqueue
from app.metrics import Instruments
from app.runtime import Runtime
from app.settings import Settings
from app.store.models import Job
from app.worker import default_handlers
from tests.support.bundles import pas_request
from tests.support.pas import claim_response, review_actions, submit
from tests.support.receiver import Received, running_receiver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        development=True,
        data_dir=tmp_path,
        embedded_worker=False,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
        webhook_retry_schedule=[0.05, 0.05],
        _env_file=None,
    )


def _runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def scrape(client: httpx.AsyncClient) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _due_soon(runtime: Runtime) -> bool:
    now = runtime.clock()
    async with runtime.sessions() as session:
        found = await session.scalar(
            select(Job.id)
            .where(
                or_(
                    Job.state == JobState.RUNNING.value,
                    and_(Job.state == JobState.QUEUED.value, Job.run_at <= now + timedelta(seconds=1)),
                )
            )
            .limit(1)
        )
    return found is not None


async def work(runtime: Runtime, instruments: Instruments) -> None:
    """Run the due jobs (and the quick webhook retries) with a worker that reports to the app's metrics."""
    worker = Worker(runtime.sessions, default_handlers(runtime), observer=instruments.observe_job, batch_size=20)
    async with asyncio.timeout(20):
        while await _due_soon(runtime):
            await worker.run_once()
            await asyncio.sleep(0.05)


async def always_failing(_request: Received) -> tuple[int, dict[str, str]]:
    return 500, {}


async def test_metrics_count_a_submit_a_follow_up_a_dead_job_and_a_failed_delivery(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    runtime = _runtime(app)
    instruments: Instruments = app.state.instruments
    async with running_receiver(always_failing) as receiver:
        hook = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        assert hook.status_code == 201, hook.text
        pended = await submit(client, pas_request("E0470", member="MEMBER-METRICS", tag="metrics"))
        assert pended.status_code == 200, pended.text
        assert review_actions(pended.json()) == {1: "A4"}
        authorization_id = claim_response(pended.json())["id"]
        async with runtime.sessions() as session:
            enqueue(session, "test.sleep", {"seconds": -1}, now=runtime.clock())  # permanent failure: dead at once
            await session.execute(
                update(Job).where(Job.kind == "authorization.follow_up").values(run_at=runtime.clock())
            )
            await session.commit()
        await work(runtime, instruments)
        assert receiver.requests, "the webhook receiver was never called"

    text, samples = await scrape(client)
    assert value(samples, "epa_submit_outcomes_total", payer="sandbox", decision="pended") == 1
    submit_route = {"method": "POST", "route": "/fhir/Claim/$submit", "status": "200"}
    assert value(samples, "epa_http_requests_total", **submit_route) == 1
    assert value(samples, "epa_http_request_duration_seconds_count", method="POST", route="/fhir/Claim/$submit") == 1
    follow_ups = sum(
        value(samples, "epa_jobs_finished_total", kind="authorization.follow_up", outcome=outcome)
        for outcome in ("done", "rescheduled")
    )
    assert follow_ups >= 1
    assert value(samples, "epa_payer_call_duration_seconds_count", payer="sandbox", operation="submit") == 1
    assert value(samples, "epa_payer_call_duration_seconds_count", payer="sandbox", operation="inquire") >= 1
    assert value(samples, "epa_jobs", kind="test.sleep", state="dead") == 1
    assert value(samples, "epa_jobs_finished_total", kind="test.sleep", outcome="dead") == 1
    assert value(samples, "epa_webhook_deliveries", state="failed") >= 1
    assert value(samples, "epa_webhook_attempts", outcome="5xx") >= 3
    assert value(samples, "epa_notification_delivery_delay_seconds_count", channel="webhook") == 0
    assert "epa_worker_last_activity_age_seconds" in text
    # No PHI and no ids in the exposition, whatever happened.
    assert "MEMBER-METRICS" not in text
    assert authorization_id not in text
    assert receiver.url not in text


async def test_routes_are_labelled_by_template_and_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    await client.get("/fhir/ClaimResponse/00000000-0000-0000-0000-000000000001")
    await client.get("/no/such/path/12345")
    _, samples = await scrape(client)
    template = {"method": "GET", "route": "/fhir/ClaimResponse/{claim_response_id}", "status": "404"}
    assert value(samples, "epa_http_requests_total", **template) == 1
    assert value(samples, "epa_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert not [key for key in samples if any("12345" in v or "0001" in v for _, v in key[1])]


async def test_overdue_and_expiring_authorizations_are_counted_per_payer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from tests.support.rows import make_authorization

    runtime = _runtime(app)
    now = runtime.clock()
    overdue = make_authorization("c", now - timedelta(days=9))
    overdue.due_at = now - timedelta(days=2)
    expiring = make_authorization("c", now)
    expiring.status, expiring.expires_at = AuthorizationStatus.APPROVED, now + timedelta(days=3)
    later = make_authorization("c", now)
    later.status, later.expires_at = AuthorizationStatus.APPROVED, now + timedelta(days=60)
    async with runtime.sessions() as session:
        session.add_all([overdue, expiring, later])
        await session.commit()
    _, samples = await scrape(client)
    assert value(samples, "epa_authorizations_overdue", payer="sandbox") == 1
    assert value(samples, "epa_authorizations_expiring_soon", payer="sandbox") == 1
