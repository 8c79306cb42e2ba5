"""What a running service holds: built once in the lifespan, torn down on exit, no globals.

The shared http client logs each outbound call itself (logger `app.outbound`: method, host,
status, milliseconds to the answer's headers), never its path or query: a webhook's `?token=`
or a member id an adapter puts in a path stays out of the logs (httpx's own logger, which writes
whole URLs, is silenced in `app.logging`).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.coverage.book import RulesHolder
from app.coverage.program_loader import check_routing_payers, load_programs
from app.coverage.programs import ProgramRegistry
from app.documentation import Catalog, CatalogHolder
from app.payers import PayerRegistry, build_registry
from app.payers.contract import Clock, utc_now
from app.settings import Settings
from app.store.database import create_engine, create_session_factory

outbound_log = logging.getLogger("app.outbound")
_STARTED = "epa.started"


async def _outbound_started(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.perf_counter()


async def _outbound_answered(response: httpx.Response) -> None:
    request = response.request
    started = request.extensions.get(_STARTED)
    elapsed = round((time.perf_counter() - started) * 1000, 2) if isinstance(started, float) else None
    outbound_log.info(
        "outbound call",
        extra={
            "method": request.method,
            "host": request.headers.get("host") or request.url.host,
            "status": response.status_code,
            "duration_ms": elapsed,
        },
    )


def outbound_client() -> httpx.AsyncClient:
    """The process's http client for payers, receivers and JWKS: no redirects, each call logged without its URL."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=False,
        event_hooks={"request": [_outbound_started], "response": [_outbound_answered]},
    )


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    payers: PayerRegistry
    coverage: RulesHolder  # coverage rules in force (swapped on reload)
    clock: Clock = utc_now
    programs: ProgramRegistry = field(default_factory=ProgramRegistry)  # exemptions and program routing in force
    questionnaires: CatalogHolder = field(default_factory=lambda: CatalogHolder(None, Catalog()))  # DTR data in force


@asynccontextmanager
async def build_runtime(
    settings: Settings,
    *,
    payers: PayerRegistry | None = None,
    clock: Clock = utc_now,
    coverage: RulesHolder | None = None,
) -> AsyncIterator[Runtime]:
    """Engine, sessions, the shared http client, the payer registry and coverage rules (unless given)."""
    rules = coverage or RulesHolder.load(settings.coverage_rules_dir)  # RulesError before anything opens
    programs = load_programs(settings.programs_dir)  # RulesError before anything opens
    questionnaires = CatalogHolder.load(settings.coverage_rules_dir, rules.current)  # likewise (docs/dtr.md)
    engine = create_engine(settings.effective_database_url, pool_size=settings.effective_database_pool_size)
    http = outbound_client()
    registry: PayerRegistry | None = None
    try:
        registry = payers or build_registry(settings.payers_file, http, clock=clock)
        check_routing_payers(programs, [entry.id for entry in registry.entries])
        yield Runtime(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            http=http,
            payers=registry,
            coverage=rules,
            clock=clock,
            programs=programs,
            questionnaires=questionnaires,
        )
    finally:
        if registry is not None and payers is None:
            await registry.aclose()
        await http.aclose()
        await engine.dispose()


@contextmanager
def startup_heap_frozen() -> Iterator[None]:
    """While the block runs, what the process built to start (modules, models, settings, compiled rules and
    statements) is out of the cyclic garbage collector's view.

    Those objects live as long as the process, yet every full collection walked all of them: about
    190,000 objects, 60-140 ms with the process stopped, which showed as a worker's rare late delivery
    and a request's tail. Frozen (`gc.freeze`, the standard library's remedy for exactly this), a full
    collection walks only what was made since. Entered by `epa serve`'s lifespan and by `epa worker`
    once start-up is done; leaving it gives the objects back to the collector (a process, such as a
    test run, that starts the service many times keeps nothing frozen past each run).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
