"""`epa db history|downgrade`: the migration chain, and stepping the schema back."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from alembic.script import ScriptDirectory

from app.operator.common import stop
from app.store import migrate
from app.store.database import create_engine


def history() -> None:
    """Every migration, newest first; the database's current one marked."""
    from app.cli import load_settings, prepare_database

    current = prepare_database(load_settings(), upgrade=False)
    script = ScriptDirectory.from_config(migrate.alembic_config())
    for revision in script.walk_revisions():
        mark = " (current)" if revision.revision == current else ""
        typer.echo(f"{revision.revision}{mark}\t{(revision.doc or '').strip()}")


async def _downgrade(url: str, target: str) -> str | None:
    engine = create_engine(url)
    try:
        await migrate.downgrade(engine, target)
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def downgrade(
    target: Annotated[str, typer.Argument(help="A revision id or base (default: one step back).")] = "-1",
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: a downgrade may drop columns and their data.")] = False,
) -> None:
    """Step the schema back to `target` (run the older release afterwards)."""
    from app.cli import load_settings

    if not yes:
        stop("a downgrade may drop data: repeat with --yes")
    settings = load_settings()
    typer.echo(f"epa: downgrading the database ({settings.database_description}) to {target} ...", err=True)
    try:
        revision = asyncio.run(_downgrade(settings.effective_database_url, target))
    except Exception as exc:  # Alembic raises its own errors for unknown revisions
        stop(f"downgrade failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    typer.echo(f"database is at revision {revision or 'base (empty)'}")
