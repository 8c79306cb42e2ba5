"""The console worklist on call (issue 26, point 2): member id masked, service codes, payer, the last
event and when, the next follow-up or delivery attempt, per-status counts, a "needs attention" view
(payer errors, overdue or due within the hour, failing deliveries, dead jobs), and every time in one
format labelled with its zone. Headless Chromium, as the other console tests."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import func, select, update

from app.jobs.loop import Worker
from app.jobs.repository import enqueue
from app.runtime import Runtime
from app.security.principal import ADMIN, CLAIM_WRITE, WEBHOOKS_WRITE
from app.settings import Settings
from app.store.models import Authorization
from app.worker import default_handlers
from tests.console.conftest import SIGNING_KEY
from tests.console.test_console_browser import _log_in, base_url, chromium_path
from tests.support.auth import bearer, token_for
from tests.support.bundles import pas_request
from tests.support.pas import claim_response
from tests.support.worker import drain

__all__ = ["base_url"]

TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        development=False,
        token_signing_key=SIGNING_KEY,
        data_dir=tmp_path,
        embedded_worker=False,
        rate_limit_per_minute=0,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
        webhook_retry_schedule=[3600],
        _env_file=None,
    )


async def _submit(client: httpx.AsyncClient, token: str, *codes: str, member: str, tag: str) -> uuid.UUID:
    response = await client.post(
        "/fhir/Claim/$submit",
        content=orjson.dumps(pas_request(*codes, member=member, tag=tag)),
        headers={"Content-Type": "application/fhir+json", **bearer(token)},
    )
    assert response.status_code == 200, response.text
    return uuid.UUID(str(claim_response(response.json())["id"]))


async def _row(page: Page, authorization_id: uuid.UUID) -> str:
    link = page.locator(f'a[href="/console/authorizations/{authorization_id}"]')
    return await page.locator("table tbody tr").filter(has=link).inner_text()


async def test_the_worklist_says_for_whom_what_happened_last_what_runs_next_and_what_needs_attention(
    app: FastAPI, client: httpx.AsyncClient, base_url: str, tmp_path: Path
) -> None:
    executable = chromium_path()
    runtime: Runtime = app.state.runtime
    quiet = await token_for(client, app, "ehr-quiet", [CLAIM_WRITE])
    hooked = await token_for(client, app, "ehr-hooked", [CLAIM_WRITE, WEBHOOKS_WRITE])
    admin = await token_for(client, app, "ops-worklist", [ADMIN], admin=True)
    down = "https://127.0.0.1:9/hook"  # nothing listens there: every attempt fails to connect
    registered = await client.post("/webhooks", json={"url": down, "event_types": ["*"]}, headers=bearer(hooked))
    assert registered.status_code == 201, registered.text

    calm = await _submit(client, quiet, "E0470", "G0154", member="MBR-QUIET-7781", tag="calm")
    due_soon = await _submit(client, quiet, "E0470", member="MBR-SOON-4410", tag="soon")
    payer_down = await _submit(client, quiet, "99212", member="SBX-DOWN", tag="down")
    failing = await _submit(client, hooked, "99212", member="MBR-HOOK-5120", tag="hook")
    dead = await _submit(client, quiet, "99212", member="MBR-DEAD-9034", tag="dead")
    await drain(runtime)  # the webhook's first attempt fails; the next one is an hour away
    async with runtime.sessions() as session:
        enqueue(session, "test.sleep", {"seconds": -1}, authorization_id=dead, now=runtime.clock())
        soon = runtime.clock() + timedelta(minutes=30)
        await session.execute(update(Authorization).where(Authorization.id == due_soon).values(due_at=soon))
        await session.commit()
    await Worker(runtime.sessions, {"test.sleep": default_handlers(runtime)["test.sleep"]}).run_once()
    async with runtime.sessions() as session:
        by_status = select(Authorization.status, func.count()).group_by(Authorization.status)
        counts = {status.value: count for status, count in await session.execute(by_status)}

    screenshot = tmp_path / "console-worklist.png"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await _log_in(page, base_url, admin)
            for status, count in counts.items():
                await expect(page.locator(f'[data-count="{status}"]')).to_have_text(str(count))
            await expect(page.locator('[data-count="denied"]')).to_have_text("0")

            content = await page.content()
            assert "MBR-QUIET-7781" not in content  # masked, never whole
            assert "SBX-DOWN" not in content
            calm_row = await _row(page, calm)
            assert "••••7781" in calm_row
            assert "E0470, G0154" in calm_row
            assert "sandbox" in calm_row  # the payer
            assert "authorization.follow_up" in calm_row  # pended: the next inquiry, and when
            down_row = await _row(page, payer_down)
            assert "payer-unreachable" in down_row
            assert "••••" in down_row
            assert "DOWN" not in down_row  # a short id shows nothing of itself
            assert "delivery attempt" in await _row(page, failing)
            assert "1 failing delivery" in await _row(page, failing)
            assert "1 dead job" in await _row(page, dead)
            times = await page.locator("table tbody time, table tbody .muted, table tbody .when").all_inner_texts()
            assert len(times) >= 15
            assert [t for t in times if not TIME.match(t.strip())] == []
            await page.screenshot(path=str(screenshot), full_page=True)

            await page.get_by_role("link", name="Needs attention").click()
            await expect(page.get_by_role("link", name="Needs attention")).to_have_attribute("aria-current", "page")
            shown = {
                uuid.UUID(str(href).rsplit("/", 1)[1])
                for href in await page.locator("table tbody a").evaluate_all("links => links.map(a => a.href)")
            }
            assert shown == {due_soon, payer_down, failing, dead}  # not the calm one
        finally:
            await browser.close()
    print(f"\nconsole screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
