"""An unhandled error is one 500 answer on a connection that stays usable, and one PHI-free log line.

Served by a real uvicorn on 127.0.0.1 (the keep-alive behaviour is the server's), with a probe
route that raises an error whose message carries PHI, as a database driver's message does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import orjson
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI

from app.main import create_app
from app.settings import Settings
from tests.support.logs import FAMILY, MEMBER_ID, CapturedLogs, captured_logs, phi_in
from tests.support.processes import free_port


def _add_failing_route(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/ops/_fail")
    async def fail() -> None:
        raise RuntimeError(f"invalid input for query argument $3: {MEMBER_ID!r} ({FAMILY})")

    @router.get("/fhir/_fail")
    async def fail_fhir() -> None:
        raise ValueError(MEMBER_ID)

    app.include_router(router)


@pytest.fixture
async def served(settings: Settings, engine: object) -> AsyncIterator[tuple[int, CapturedLogs]]:
    app = create_app(settings)
    _add_failing_route(app)
    port = free_port()
    with captured_logs() as logs:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
        task = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(10):
                while not server.started:
                    await asyncio.sleep(0.02)
            yield port, logs
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 10)
    assert headers.get("connection", "").lower() != "close"
    return int(lines[0].split()[1]), body


@pytest.mark.parametrize("path", ["/ops/_fail", "/fhir/_fail"])
async def test_an_unhandled_error_answers_500_and_the_connection_serves_the_next_request(
    served: tuple[int, CapturedLogs], path: str
) -> None:
    port, logs = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, body = await _exchange(reader, writer, path)
        assert status == 500
        answer = orjson.loads(body)
        if path.startswith("/fhir"):
            assert answer["resourceType"] == "OperationOutcome"
        else:
            assert answer["status"] == 500
        status, _ = await _exchange(reader, writer, "/healthz")  # same connection
        assert status == 200
    finally:
        writer.close()

    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].__dict__["error_type"] in ("RuntimeError", "ValueError")
    assert errors[0].__dict__["status"] == 500
    assert errors[0].__dict__["request_id"]
    assert phi_in(logs.texts) == []
