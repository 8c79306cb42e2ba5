"""The console on call (issue 26): why a payer did not decide shows in the timeline; a cancel asks
for a confirmation and a reason and the timeline records who and why; a queued job runs now.

Headless Chromium as in test_console_browser (Debian's chromium; the same fixtures)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from fastapi import FastAPI
from playwright.async_api import async_playwright, expect
from sqlalchemy import select

from app.jobs.repository import enqueue
from app.runtime import Runtime
from app.security.principal import ADMIN, AUTHORIZATIONS_WRITE, CLAIM_WRITE
from app.store.models import AuditRecord, Job
from tests.console.test_console_browser import _log_in, base_url, chromium_path
from tests.support.auth import bearer, token_for
from tests.support.bundles import pas_request
from tests.support.pas import claim_response

__all__ = ["base_url"]


async def _payer_down_request(app: FastAPI, client: httpx.AsyncClient) -> str:
    ehr = await token_for(client, app, "ehr-on-call", [CLAIM_WRITE])
    response = await client.post(
        "/fhir/Claim/$submit",
        content=orjson.dumps(pas_request("99212", member="SBX-DOWN", tag="on-call")),
        headers={"Content-Type": "application/fhir+json", **bearer(ehr)},
    )
    assert response.status_code == 200, response.text
    return str(claim_response(response.json())["id"])


async def test_on_call_sees_why_cancels_with_a_reason_and_runs_a_job_now(
    app: FastAPI, client: httpx.AsyncClient, base_url: str, tmp_path: Path
) -> None:
    executable = chromium_path()
    runtime: Runtime = app.state.runtime
    authorization_id = await _payer_down_request(app, client)
    async with runtime.sessions() as session:
        job = enqueue(session, "test.sleep", {"seconds": 0}, run_at=runtime.clock() + timedelta(days=1))
        await session.commit()
    admin = await token_for(client, app, "ops-on-call", [ADMIN], admin=True)
    screenshot = tmp_path / "console-on-call.png"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _log_in(page, base_url, admin)
            await page.goto(f"{base_url}/console/authorizations/{authorization_id}")

            timeline = page.locator("ol.timeline li")
            await expect(timeline.nth(1)).to_contain_text("payer-unreachable")
            await expect(timeline.nth(1)).to_contain_text("unreachable: sandbox payer simulates an outage")

            await page.get_by_role("button", name="Cancel this request").click()  # no reason, no confirmation
            await expect(page.locator("#status")).to_have_text("pended")  # the browser refused to post
            await page.get_by_label("Reason for cancelling").fill("patient moved to another plan")
            await page.get_by_role("button", name="Cancel this request").click()  # still not confirmed
            await expect(page.locator("#status")).to_have_text("pended")
            await page.get_by_label("Yes, cancel it").check()
            await page.get_by_role("button", name="Cancel this request").click()
            await expect(page.locator("#status")).to_have_text("cancelled")
            await expect(timeline.last).to_contain_text("by ops-on-call")
            await expect(timeline.last).to_contain_text("patient moved to another plan")
            await page.screenshot(path=str(screenshot), full_page=True)

            await page.goto(f"{base_url}/console/jobs?state=queued")
            await page.get_by_role("button", name=f"Run job {job.id} now").click()
            await expect(page.get_by_role("status")).to_contain_text(f"Job {job.id} runs now")
        finally:
            await browser.close()
    print(f"\nconsole screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    async with runtime.sessions() as session:
        moved = await session.get(Job, job.id)
        audit = (await session.execute(select(AuditRecord).where(AuditRecord.client_id == "ops-on-call"))).scalars()
        operations = {(row.operation, tuple(row.resource_ids)) for row in audit}
    assert moved is not None
    assert moved.run_at <= runtime.clock()
    assert ("authorization.cancel", (str(uuid.UUID(authorization_id)),)) in operations
    assert ("job.run-now", (str(job.id),)) in operations


async def test_the_detail_page_shows_what_the_payer_asked_for(
    app: FastAPI, client: httpx.AsyncClient, base_url: str
) -> None:
    executable = chromium_path()
    ehr = await token_for(client, app, "ehr-info", [CLAIM_WRITE])
    request = pas_request("99212", member="SBX-INFO", tag="info")
    fhir_json = {"Content-Type": "application/fhir+json", **bearer(ehr)}
    response = await client.post("/fhir/Claim/$submit", content=orjson.dumps(request), headers=fhir_json)
    authorization_id = str(claim_response(response.json())["id"])
    tracking = request["entry"][0]["resource"]["identifier"][0]
    note = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
        "content": [{"attachment": {"contentType": "text/plain", "data": "UHJvZ3Jlc3Mgbm90ZQ=="}}],
    }
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "TrackingId", "valueIdentifier": tracking},
            {"name": "AttachTo", "valueCode": "preauthorization"},
            {"name": "PayerId", "valueIdentifier": {"value": "SANDBOX"}},
            {"name": "Attachment", "part": [{"name": "Content", "resource": note}]},
        ],
    }
    admin = await token_for(client, app, "ops-info", [ADMIN], admin=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await _log_in(page, base_url, admin)
            await page.goto(f"{base_url}/console/authorizations/{authorization_id}")
            panel = page.get_by_role("definition").filter(has_text="11506-3")
            await expect(page.get_by_role("heading", name="Information requested")).to_be_visible()
            await expect(panel).to_have_count(1)
            await expect(page.locator("#information-request + dl")).to_contain_text("open")

            sent = await client.post("/fhir/$submit-attachment", content=orjson.dumps(parameters), headers=fhir_json)
            assert sent.status_code < 300, sent.text
            await page.reload()
            await expect(page.locator("#information-request + dl")).to_contain_text("answered")
            documents = page.get_by_role("table", name="Documents sent").locator("tbody tr")
            await expect(documents).to_have_count(1)
            await expect(documents.first.locator("td").nth(1)).to_have_text("1")
        finally:
            await browser.close()


async def test_the_detail_page_shows_where_a_carried_over_authorization_came_from(
    app: FastAPI, client: httpx.AsyncClient, base_url: str
) -> None:
    executable = chromium_path()
    writer = await token_for(client, app, "ehr-carry", [AUTHORIZATIONS_WRITE])
    today = datetime.now(UTC).date()
    body = {
        "payer": "sandbox",
        "previous_payer": "Previous Health Plan",
        "member": "NEW-MEMBER-9",
        "authorization_number": "OLD-4711",
        "period": {"start": (today - timedelta(days=30)).isoformat(), "end": (today + timedelta(days=200)).isoformat()},
        "services": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97110", "quantity": 12}],
        "provider": "http://hl7.org/fhir/sid/us-npi|1234567893",
    }
    imported = await client.post("/authorizations/carried-over", json=body, headers=bearer(writer))
    assert imported.status_code == 201, imported.text
    admin = await token_for(client, app, "ops-carry", [ADMIN], admin=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await _log_in(page, base_url, admin)
            await page.goto(f"{base_url}/console/authorizations/{imported.json()['id']}")
            await expect(page.get_by_role("heading", name="Carried over from a previous plan")).to_be_visible()
            origin = page.locator("#carried-over + dl")
            await expect(origin).to_contain_text("Previous Health Plan")
            await expect(origin).to_contain_text("OLD-4711")
        finally:
            await browser.close()
