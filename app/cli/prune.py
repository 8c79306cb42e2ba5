"""`epa prune`: one retention pass now, batch by batch, printing progress (the worker also runs it)."""

from __future__ import annotations

import asyncio

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.cli.common import fail, load_settings, say_database
from app.jobs.repository import utc_now
from app.maintenance.retention import BATCH, RetentionPolicy, prune
from app.settings import Settings
from app.store.database import create_engine, create_session_factory


async def _prune_all(settings: Settings) -> dict[str, int]:
    policy = RetentionPolicy.of(settings)
    engine = create_engine(settings.effective_database_url)
    totals: dict[str, int] = {}
    try:
        sessions = create_session_factory(engine)
        while True:
            async with sessions() as session, session.begin():
                removed = await prune(session, policy, now=utc_now())
            for kind, count in removed.items():
                totals[kind] = totals.get(kind, 0) + count
            typer.echo("epa: pruned " + ", ".join(f"{n} {kind}" for kind, n in totals.items()) + " so far", err=True)
            if max(removed.values()) < BATCH:
                return totals
    finally:
        await engine.dispose()


def prune_command() -> None:
    """Delete done jobs, delivered notifications and audit rows past their retention periods."""
    settings = load_settings()
    say_database(settings)
    try:
        totals = asyncio.run(_prune_all(settings))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"database error ({type(exc).__name__}); is the schema current? try `epa db upgrade`")
    typer.echo("\n".join(f"{kind}: {count} deleted" for kind, count in totals.items()))
