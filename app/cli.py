"""The `epa` command: serve, worker, db upgrade, db current, db reencrypt-secrets, --version."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Annotated, NoReturn

import httpx
import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app import __version__
from app.coverage.cli import rules_cli
from app.maintenance.cli import prune_command
from app.operator import db as operator_db
from app.operator.authorizations import authorizations_cli
from app.operator.carry_over import carry_over_cli
from app.operator.jobs import jobs_cli
from app.operator.payers import payers_cli
from app.operator.webhooks import webhooks_cli
from app.reports.cli import report as report_command
from app.security import cli_changes as _client_changes  # noqa: F401 (registers update/rotate-keys/remove)
from app.security.cli import clients_cli
from app.security.token_cli import token
from app.settings import Settings, unknown_settings
from app.store import migrate
from app.store.database import create_engine

cli = typer.Typer(name="epa", help="Electronic prior authorization hub.", no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(clients_cli, name="clients")
cli.add_typer(rules_cli, name="rules")
cli.command("token")(token)
cli.command("report")(report_command)
cli.command("prune")(prune_command)
cli.add_typer(authorizations_cli, name="authorizations")
cli.add_typer(jobs_cli, name="jobs")
cli.add_typer(webhooks_cli, name="webhooks")
cli.add_typer(payers_cli, name="payers")
cli.add_typer(carry_over_cli, name="carried-over")
db_cli.command("history")(operator_db.history)
db_cli.command("downgrade")(operator_db.downgrade)

log = logging.getLogger("app.cli")


def fail(message: str, code: int = 2) -> NoReturn:
    """Stop with one clear line on stderr (no traceback)."""
    typer.echo(f"epa: {message}", err=True)
    raise typer.Exit(code)


def load_settings(**overrides: object) -> Settings:
    unknown = unknown_settings(os.environ)
    if unknown:
        fail(f"configuration error: unknown setting {', '.join(unknown)}")
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            (f"EPA_{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        fail(f"configuration error: {problems}")


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _database_error(settings: Settings, exc: BaseException) -> NoReturn:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    fail(f"cannot use the database at {_safe_url(settings.effective_database_url)}: {type(exc).__name__}: {detail}")


async def _prepare_database(settings: Settings, *, upgrade: bool) -> str | None:
    if settings.is_sqlite and not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url)
    try:
        if upgrade:
            await migrate.upgrade(engine, settings=settings)
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def prepare_database(settings: Settings, *, upgrade: bool) -> str | None:
    try:
        return asyncio.run(_prepare_database(settings, upgrade=upgrade))
    except Exception as exc:  # one line for the operator, whatever the driver raised
        _database_error(settings, exc)


def require_current_schema(settings: Settings, *, upgrade: bool) -> None:
    current = prepare_database(settings, upgrade=upgrade)
    head = migrate.head_revision()
    if current != head:
        fail(
            f"database schema is at {current or 'no revision (empty database)'}, this version needs {head}: "
            "run `epa db upgrade` first"
        )


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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"epa {__version__}")
        raise typer.Exit()


@cli.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Electronic prior authorization hub (Da Vinci PAS / CRD)."""


@cli.command()
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
        fail("configuration error: EPA_TOKEN_SIGNING_KEY (32+ bytes) is required outside development mode")
    check_payers(settings)
    log.info("database: %s", settings.database_description)
    if settings.development:
        log.warning(
            "DEVELOPMENT MODE: client authentication is OFF; bound to %s only. Never use this mode with real data.",
            settings.host,
        )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)


@cli.command()
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


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = load_settings()
    typer.echo(f"epa: upgrading the database ({settings.database_description}) ...", err=True)
    revision = prepare_database(settings, upgrade=True)
    typer.echo(f"database at {_safe_url(settings.effective_database_url)} is at revision {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Show the database's revision and the one this version needs."""
    settings = load_settings()
    revision = prepare_database(settings, upgrade=False)
    typer.echo(f"current: {revision or 'none'}\nhead:    {migrate.head_revision()}")


async def _reencrypt(settings: Settings) -> int:
    from app.notifications.endpoints import reencrypt_secrets
    from app.notifications.secret_box import SecretBox
    from app.store.database import create_session_factory

    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine).begin() as session:
            return await reencrypt_secrets(session, SecretBox(settings))
    finally:
        await engine.dispose()


@db_cli.command("reencrypt-secrets")
def db_reencrypt_secrets() -> None:
    """Re-encrypt every webhook signing secret with the first of EPA_WEBHOOK_SECRET_KEYS (after a key rotation)."""
    settings = load_settings()
    require_current_schema(settings, upgrade=False)
    try:
        count = asyncio.run(_reencrypt(settings))
    except Exception as exc:
        _database_error(settings, exc)
    typer.echo(f"re-encrypted the signing secrets of {count} webhook endpoints")


def main() -> None:
    cli()
