"""Dates a client sends are bounded: near year 1 or 9999 with an offset, on the worklist filters, the
audit, the prior-auth report and a tampered paging cursor, the answer is 400/422, never a 500."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.security.principal import ADMIN
from tests.support.auth import bearer, token_for
from tests.support.secure import secure_settings_for

EDGES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T01:00:00+00:00", "9999-12-31"]


@pytest.mark.parametrize("value", EDGES)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/authorizations", "updated_since"),
        ("/authorizations", "expiring_before"),
        ("/reports/prior-auth", "from"),
        ("/reports/prior-auth", "to"),
    ],
)
async def test_a_date_near_year_1_or_9999_is_refused_not_500(
    client: httpx.AsyncClient, path: str, name: str, value: str
) -> None:
    response = await client.get(path, params={name: value})
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2025-01-01T00:00:00"])
async def test_a_tampered_cursor_is_400(client: httpx.AsyncClient, when: str) -> None:
    raw = f"{when}|{uuid.uuid4().hex}".encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = await client.get("/authorizations", params={"cursor": cursor})
    assert response.status_code == 400, response.text


@pytest.fixture
async def secure_app(database_url: str, tmp_path: Path, engine: object) -> AsyncIterator[FastAPI]:
    application = create_app(secure_settings_for(database_url, tmp_path))
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize("value", EDGES)
async def test_an_audit_since_near_year_1_or_9999_is_refused_not_500(secure_app: FastAPI, value: str) -> None:
    transport = httpx.ASGITransport(app=secure_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        token = await token_for(http, secure_app, "ops-admin", [ADMIN], admin=True)
        response = await http.get("/audit", params={"since": value}, headers=bearer(token))
    assert response.status_code in (400, 422), response.text
