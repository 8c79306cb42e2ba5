"""The service on a real loopback port, in the test's event loop (uvicorn), for clients that bring their own HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings


@asynccontextmanager
async def serving_app(settings: Settings, port: int, *, deadline: float = 20) -> AsyncIterator[FastAPI]:
    """`create_app(settings)` served by uvicorn on 127.0.0.1:`port` (lifespan on) until the block ends."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(deadline):
            while not server.started:
                if task.done():
                    task.result()
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.05)
        yield app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=deadline)
