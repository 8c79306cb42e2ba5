"""`/docs` and `/redoc` load every script and stylesheet from the service (issue 26, point 15): in a
browser that may reach nothing but the service, Swagger UI still renders the API."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Route, async_playwright, expect

from tests.console.test_console_browser import base_url, chromium_path

__all__ = ["base_url"]


async def test_the_docs_pages_name_no_outside_host_and_their_assets_are_served(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assert not re.search(r"""(src|href)=["']?https?://""", html), page
    script = await client.get("/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert (await client.get("/docs/static/swagger-ui.css")).status_code == 200


async def test_swagger_ui_renders_without_any_outside_network(base_url: str) -> None:
    executable = chromium_path()
    outside: list[str] = []

    async def only_the_service(route: Route) -> None:
        if route.request.url.startswith(base_url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.route("**/*", only_the_service)
            await page.goto(f"{base_url}/docs")
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text("ePA hub")
        finally:
            await browser.close()
    assert outside == []
