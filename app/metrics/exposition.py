"""One scrape: this process's families (or every process's, in multi-process mode) and the database's."""

from __future__ import annotations

import os
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.metrics.database import Snapshot, read_figures
from app.metrics.instruments import Instruments

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _in_process(instruments: Instruments) -> bytes:
    """With PROMETHEUS_MULTIPROC_DIR set (several uvicorn workers on one host), sum every process's files."""
    directory = os.environ.get(MULTIPROCESS_ENV)
    if directory:
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
    return generate_latest(instruments.registry)


async def scrape(instruments: Instruments, sessions: async_sessionmaker[AsyncSession], now: datetime) -> bytes:
    async with sessions() as session:
        families = await read_figures(session, now)
    database = CollectorRegistry(auto_describe=False)
    database.register(Snapshot(families))
    return _in_process(instruments) + generate_latest(database)
