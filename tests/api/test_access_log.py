"""The access log names the calling client and the route template; JSON log lines carry no ANSI colours."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.logging import configure_logging
from app.security.principal import JOBS_READ
from tests.support.auth import bearer, token_for


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The production JSON handler, writing to a buffer instead of stderr."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("info")
    buffer = io.StringIO()
    assert isinstance(root.handlers[0], logging.StreamHandler)
    root.handlers[0].setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def _records(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


async def test_access_log_carries_the_client_id_and_route_template(
    app: FastAPI, client: httpx.AsyncClient, json_lines: io.StringIO
) -> None:
    token = await token_for(client, app, "ops-console", [JOBS_READ])
    response = await client.get("/jobs/12345", headers=bearer(token))
    assert response.status_code == 404
    access = [r for r in _records(json_lines) if r["logger"] == "app.access" and r["path"] == "/jobs/12345"]
    assert len(access) == 1
    assert access[0]["client_id"] == "ops-console"
    assert access[0]["route"] == "/jobs/{job_id}"
    assert access[0]["status"] == 404


async def test_requests_without_a_principal_log_no_client(client: httpx.AsyncClient, json_lines: io.StringIO) -> None:
    await client.get("/healthz")
    access = [r for r in _records(json_lines) if r["logger"] == "app.access"]
    assert access[-1]["client_id"] is None


def test_json_lines_drop_uvicorns_coloured_copy_of_the_message(json_lines: io.StringIO) -> None:
    logging.getLogger("app.tests.startup").info(
        "Started server process [%d]", 42, extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}
    )
    text = json_lines.getvalue()
    assert "\x1b[" not in text
    assert "\\u001b" not in text
    assert _records(json_lines)[-1]["message"] == "Started server process [42]"
