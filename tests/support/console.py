"""The console's login form from a test: the CSRF field of a page, and logging in with a token."""

from __future__ import annotations

import re

import httpx


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


async def log_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await client.get("/console/login")
    return await client.post("/console/login", data={"token": token, "csrf": csrf_of(form.text)})
