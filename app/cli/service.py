"""`epa serve` and `epa worker`: start the API or the job runner, after checking what would stop them.

Both refuse to start on a stale schema (`serve` migrates the SQLite default itself) and build the
payer registry once, so a broken adapter or payers file stops start-up with one line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import httpx
import typer

from app.cli.common import fail, load_settings, require_current_schema
from app.settings import Settings

log = logging.getLogger("app.cli")  # the logger name start-up lines have always carried


async def _check_payers(settings: Settings) -> None:
    from app.coverage.program_loader import check_routing_payers, load_programs
    from app.payers import build_registry

    programs = load_programs(settings.programs_dir)  # RulesError: a broken registry file
    async with httpx.AsyncClient() as http:
        registry = build_registry(settings.payers_file, http)
        await registry.aclose()
    check_routing_payers(programs, [entry.id for entry in registry.entries])


def check_payers(settings: Settings) -> None:
    """Build the payer registry once so a broken adapter or payers file stops start-up with one line."""
    from app.coverage.loader import RulesError
    from app.payers import PayerConfigError

    registry_log = logging.getLogger("app.payers.registry")
    level = registry_log.level
    registry_log.setLevel(logging.WARNING)  # the service builds it again and says so: once is enough
    try:
        asyncio.run(_check_payers(settings))
    except PayerConfigError as exc:
        fail(f"payer configuration: {exc}")
    except RulesError as exc:
        fail(f"exemptions and program routing registry: {exc}")
    finally:
        registry_log.setLevel(level)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (EPA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (EPA_PORT).")] = None,
) -> None:
    """Start the API. On the SQLite default the schema is migrated automatically."""
    import uvicorn

    from app.logging import configure_logging
    from app.main import create_app

    settings = load_settings(host=host, port=port)
    configure_logging(settings.log_level)
    require_current_schema(settings, upgrade=settings.is_sqlite)
    if not settings.development and settings.token_signing_key is None:
        fail("configuration error: EPA_TOKEN_SIGNING_KEY: not set (32+ bytes are required outside development mode)")
    check_payers(settings)
    log.info("database: %s", settings.database_description)
    if settings.development:
        log.warning(
            "DEVELOPMENT MODE: client authentication is OFF; bound to %s only. Never use this mode with real data.",
            settings.host,
        )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)


def worker() -> None:
    """Run background jobs until SIGTERM/SIGINT. Any number may run side by side on PostgreSQL."""
    from app.logging import configure_logging
    from app.worker import run_worker_process

    settings = load_settings()
    configure_logging(settings.log_level)
    require_current_schema(settings, upgrade=False)
    check_payers(settings)
    log.info("database: %s", settings.database_description)
    asyncio.run(run_worker_process(settings))
