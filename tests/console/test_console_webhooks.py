"""Webhook endpoints in the console (issue 26, point 3): a receiver that fails shows "failing" (last
success, failures in a row, pending) instead of a green "enabled"; deliveries and jobs show their
next attempt, a state filter and a link to the authorization. Headless Chromium, as the other tests."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from playwright.async_api import async_playwright, expect

from app.runtime import Runtime
from app.security.principal import ADMIN, CLAIM_WRITE, WEBHOOKS_WRITE
from app.settings import Settings
from tests.console.conftest import SIGNING_KEY
from tests.console.test_console_browser import _log_in, base_url, chromium_path
from tests.support.auth import bearer, token_for
from tests.support.bundles import pas_request
from tests.support.pas import claim_response
from tests.support.worker import drain

__all__ = ["base_url"]


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


async def test_a_failing_receiver_shows_failing_with_its_pending_deliveries_and_their_next_attempt(
    app: FastAPI, client: httpx.AsyncClient, base_url: str, tmp_path: Path
) -> None:
    executable = chromium_path()
    runtime: Runtime = app.state.runtime

    ehr = await token_for(client, app, "ehr-hooks", [CLAIM_WRITE, WEBHOOKS_WRITE])
    admin = await token_for(client, app, "ops-hooks", [ADMIN], admin=True)
    screenshot = tmp_path / "console-webhooks.png"
    down = "https://127.0.0.1:9/hook"  # nothing listens there: every attempt fails to connect
    registered = await client.post("/webhooks", json={"url": down, "event_types": ["*"]}, headers=bearer(ehr))
    assert registered.status_code == 201, registered.text
    submitted = await client.post(
        "/fhir/Claim/$submit",
        content=orjson.dumps(pas_request("E0470", tag="hooks")),
        headers={"Content-Type": "application/fhir+json", **bearer(ehr)},
    )
    authorization_id = str(claim_response(submitted.json())["id"])
    await drain(runtime)  # the first attempt fails; the next one is an hour away

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _log_in(page, base_url, admin)
            await page.goto(f"{base_url}/console/webhooks")
            row = page.locator("table tbody tr").first
            await expect(row).to_contain_text("failing")
            await expect(row).to_contain_text("never")  # no success yet
            await page.screenshot(path=str(screenshot), full_page=True)

            await row.get_by_role("link").click()
            await page.get_by_label("State").select_option("pending")
            await page.get_by_role("button", name="Show").click()
            rows = page.locator("table tbody tr")
            await expect(rows.first).to_contain_text("pending")
            failed = rows.filter(has_text=re.compile(r"Error|timeout"))  # the one attempted (others wait behind it)
            await expect(failed).to_have_count(1)
            next_attempt = failed.locator("td").nth(6)
            await expect(next_attempt).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"))
            await failed.get_by_role("link").click()
            await expect(page.locator("#status")).to_have_text("pended")
            assert authorization_id in page.url
        finally:
            await browser.close()
    print(f"\nconsole screenshot: {screenshot}")
    assert screenshot.stat().st_size > 5_000
