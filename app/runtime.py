"""What a running service holds: built once in the lifespan, torn down on exit, no globals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
    engine = create_engine(settings.effective_database_url)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)
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
