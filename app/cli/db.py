"""`epa db`: the schema (Alembic): upgrade, current, history, downgrade, and re-encrypting stored secrets."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from alembic.script import ScriptDirectory

from app.cli.common import (
    database_error,
    fail,
    load_settings,
    prepare_database,
    require_current_schema,
    safe_url,
    say_database,
)
from app.settings import Settings
from app.store import migrate
from app.store.database import create_engine

db_cli = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)


@db_cli.command("history")
def history() -> None:
    """Every migration, newest first; the database's current one marked."""
    settings = load_settings()
    say_database(settings)
    current = prepare_database(settings, upgrade=False)
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(script.walk_revisions())
    for revision in revisions:
        mark = " (current)" if revision.revision == current else ""
        typer.echo(f"{revision.revision}{mark}\t{(revision.doc or '').strip()}")
    numbers = sorted(int(r.revision) for r in revisions if r.revision.isdigit())
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers)) if numbers else []
    if missing:
        skipped = ", ".join(f"{n:04d}" for n in missing)
        typer.echo(f"epa: no migration {skipped}: ids are labels, never reused (the chain is down_revision)", err=True)


async def _downgrade(url: str, target: str) -> str | None:
    engine = create_engine(url)
    try:
        await migrate.downgrade(engine, target)
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


@db_cli.command("downgrade")
def downgrade(
    target: Annotated[str, typer.Argument(help="A revision id or base (default: one step back).")] = "-1",
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: a downgrade may drop columns and their data.")] = False,
) -> None:
    """Step the schema back to `target` (run the older release afterwards)."""
    if not yes:
        fail("a downgrade may drop data: repeat with --yes")
    settings = load_settings()
    typer.echo(f"epa: downgrading the database ({settings.database_description}) to {target} ...", err=True)
    try:
        revision = asyncio.run(_downgrade(settings.effective_database_url, target))
    except Exception as exc:  # Alembic raises its own errors for unknown revisions
        fail(f"downgrade failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    typer.echo(f"database is at revision {revision or 'base (empty)'}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = load_settings()
    typer.echo(f"epa: upgrading the database ({settings.database_description}) ...", err=True)
    revision = prepare_database(settings, upgrade=True)
    typer.echo(f"database at {safe_url(settings.effective_database_url)} is at revision {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Show the database's revision and the one this version needs."""
    settings = load_settings()
    say_database(settings)
    revision = prepare_database(settings, upgrade=False)
    typer.echo(f"current: {revision or 'none'}\nhead:    {migrate.head_revision()}")


async def _reencrypt(settings: Settings) -> tuple[int, int]:
    from app.notifications.endpoints import reencrypt_secrets
    from app.notifications.secret_box import SecretBox
    from app.notifications.subscriptions import reencrypt_headers
    from app.store.database import create_session_factory

    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine).begin() as session:
            box = SecretBox(settings)
            return await reencrypt_secrets(session, box), await reencrypt_headers(session, box)
    finally:
        await engine.dispose()


@db_cli.command("reencrypt-secrets")
def db_reencrypt_secrets() -> None:
    """Re-encrypt every webhook signing secret and Subscription channel header with the first of
    EPA_WEBHOOK_SECRET_KEYS (after a key rotation; also seals headers stored before encryption)."""
    settings = load_settings()
    say_database(settings)
    require_current_schema(settings, upgrade=False)
    try:
        endpoints, subscriptions = asyncio.run(_reencrypt(settings))
    except Exception as exc:
        database_error(settings, exc)
    typer.echo(
        f"re-encrypted the signing secrets of {endpoints} webhook endpoints "
        f"and the channel headers of {subscriptions} Subscriptions"
    )
