"""The console in headless Chromium (Debian's `chromium`, driven by playwright; nothing downloads a browser).

Logs in with an admin token, filters the worklist to a pended request the test submitted, opens
it, sees its timeline, cancels it, retries a dead job, and saves a screenshot (its path printed).
Without a chromium binary the test skips locally and FAILS when CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, async_playwright, expect

from app.jobs.loop import Worker
from app.jobs.repository import enqueue
from app.runtime import Runtime
from app.security.principal import ADMIN, CLAIM_WRITE
from app.store.models import Authorization, Job
from app.worker import default_handlers
from tests.support.auth import bearer, token_for
from tests.support.bundles import pas_request
from tests.support.pas import claim_response, review_actions

MEMBER = "MEMBER-BROWSER-7"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def base_url(app: FastAPI) -> AsyncIterator[str]:
    """The test's app on a real loopback port (its lifespan already runs in the `app` fixture)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _pended_request_and_dead_job(app: FastAPI, client: httpx.AsyncClient) -> tuple[str, int]:
    runtime: Runtime = app.state.runtime
    ehr = await token_for(client, app, "ehr-browser", [CLAIM_WRITE])
    response = await submit_as(client, ehr)
    assert review_actions(response.json()) == {1: "A4"}
    async with runtime.sessions() as session:
        job = enqueue(session, "test.sleep", {"seconds": -1}, now=runtime.clock())
        await session.commit()
        dead_id = job.id
    await Worker(runtime.sessions, {"test.sleep": default_handlers(runtime)["test.sleep"]}).run_once()
    return str(claim_response(response.json())["id"]), dead_id


async def submit_as(client: httpx.AsyncClient, token: str) -> httpx.Response:
    response = await client.post(
        "/fhir/Claim/$submit",
        content=orjson.dumps(pas_request("E0470", member=MEMBER, tag="browser")),
        headers={"Content-Type": "application/fhir+json", **bearer(token)},
    )
    assert response.status_code == 200, response.text
    return response


async def _log_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/console/authorizations")
    await expect(page).to_have_url(f"{base_url}/console/login")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Worklist")).to_be_visible()


async def test_an_operator_logs_in_finds_cancels_a_pended_request_and_retries_a_dead_job(
    app: FastAPI, client: httpx.AsyncClient, base_url: str, tmp_path: Path
) -> None:
    executable = chromium_path()
    authorization_id, dead_id = await _pended_request_and_dead_job(app, client)
    admin = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    screenshot = tmp_path / "console-detail.png"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _log_in(page, base_url, admin)

            await page.get_by_label("Status").select_option("pended")
            await page.get_by_label("Member id").fill(MEMBER)
            await page.get_by_role("button", name="Filter").click()
            rows = page.locator("table tbody tr")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text("pended")
            await rows.first.get_by_role("link").click()

            await expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
            await expect(page.locator("#status")).to_have_text("pended")
            assert authorization_id in page.url
            timeline = page.locator("ol.timeline li")
            assert await timeline.count() >= 1
            await expect(timeline.first).to_contain_text("received")

            await page.get_by_label("Reason for cancelling").fill("duplicate of another request")
            await page.get_by_label("Yes, cancel it").check()
            await page.get_by_role("button", name="Cancel this request").click()
            await expect(page.get_by_role("status")).to_contain_text("Cancelled")
            await expect(page.locator("#status")).to_have_text("cancelled")
            await expect(page.get_by_role("button", name="Cancel this request")).to_have_count(0)
            await page.screenshot(path=str(screenshot), full_page=True)

            await page.get_by_role("link", name="Jobs").click()
            await page.get_by_role("button", name=f"Retry job {dead_id}").click()
            await expect(page.get_by_role("status")).to_contain_text(f"Job {dead_id} queued again")
            await expect(page.get_by_role("button", name=f"Retry job {dead_id}")).to_have_count(0)
        finally:
            await browser.close()
    print(f"\nconsole screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    async with app.state.runtime.sessions() as session:
        cancelled = await session.get(Authorization, uuid.UUID(authorization_id))
        retried = await session.get(Job, dead_id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert retried is not None
    assert retried.state == "queued"
