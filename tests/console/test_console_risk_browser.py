"""The denial risk in the console, in headless Chromium: an operator opens a pended request and sees each
item's risk with its sample and what would lower it, then the per-payer denial and overturn rates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from playwright.async_api import async_playwright, expect

from app.requirements import risk
from app.runtime import Runtime
from app.security.principal import ADMIN, CLAIM_WRITE
from app.store.models import Authorization
from tests.console.test_console_browser import _log_in, base_url, chromium_path, submit_as
from tests.requirements.risk.history import Batch, add_history
from tests.support.auth import token_for
from tests.support.pas import claim_response

__all__ = ["base_url"]  # the live-server fixture, shared with the console's other browser test

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _pended_request_with_history(app: FastAPI, client: httpx.AsyncClient) -> tuple[str, str]:
    runtime: Runtime = app.state.runtime
    ehr = await token_for(client, app, "ehr-browser", [CLAIM_WRITE])
    authorization_id = str(claim_response((await submit_as(client, ehr)).json())["id"])
    async with runtime.sessions() as session:
        row = await session.get(Authorization, uuid.UUID(authorization_id))
        assert row is not None
        payer = row.payer_id
        history = [
            Batch("ehr-browser", payer, "E0470", 40, 24, appealed_overturned=3),
            Batch("ehr-browser", payer, "E0470", 40, 4, documentation=True),
        ]
        await add_history(session, history, START)
        await risk.train_all(session, runtime.settings, now=START)
        await session.commit()
    return authorization_id, payer


async def test_an_operator_sees_the_risk_of_a_pended_request_and_the_payer_rates(
    app: FastAPI,
    client: httpx.AsyncClient,
    base_url: str,
) -> None:
    executable = chromium_path()
    authorization_id, payer = await _pended_request_with_history(app, client)
    async with app.state.runtime.sessions() as session:
        expected = await risk.request_risk(session, uuid.UUID(authorization_id), None, app.state.runtime.settings)
    assert expected is not None
    [item] = expected.items
    assert item.estimate.probability is not None
    assert item.estimate.probability > 0.4
    admin = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _log_in(page, base_url, admin)
            await page.goto(f"{base_url}/console/authorizations/{authorization_id}")
            await expect(page.get_by_role("heading", name="Denial risk")).to_be_visible()
            row = page.get_by_role("table", name="Denial risk").locator("tbody tr")
            await expect(row).to_have_count(1)
            await expect(row.locator("td.risk")).to_have_text(f"{item.estimate.probability:.0%}")
            await expect(row).to_contain_text(f"{item.estimate.similar} of {item.estimate.sample}")
            await expect(row).to_contain_text("documentation (")

            await page.get_by_role("link", name="Denial rates").click()
            await page.get_by_label("Client").fill("ehr-browser")
            await page.get_by_role("button", name="Show").click()
            rates = page.locator("#payer-rates tbody tr")
            await expect(rates).to_have_count(1)
            # 80 decided items, 28 denied (three overturned on appeal: 3 of 3 appealed)
            for cell, text in enumerate([payer, "80", "28", "35.0%", "3", "3", "100.0%"]):
                await expect(rates.first.locator("td").nth(cell)).to_have_text(text)
        finally:
            await browser.close()
