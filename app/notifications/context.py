"""What the notification job handlers are given (they never import `app.runtime`): the settings, the
shared HTTP client for deliveries, sessions and the clock for sending a handshake at once. The
`Runtime` satisfies it structurally."""

from __future__ import annotations

from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.repository import Clock
from app.settings import Settings


class OutboundDeps(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def http(self) -> httpx.AsyncClient: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def clock(self) -> Clock: ...
