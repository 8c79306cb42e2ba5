"""Running one unit of work for a command, and printing its answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import EpaError
from app.settings import Settings
from app.store.database import create_engine, create_session_factory

T = TypeVar("T")


def stop(message: str) -> NoReturn:
    typer.echo(f"epa: {message}", err=True)
    raise typer.Exit(2)


async def _unit_of_work(settings: Settings, work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session, settings)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def run(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    from app.cli import load_settings  # late: app.cli registers these commands

    settings = load_settings()
    try:
        return asyncio.run(_unit_of_work(settings, work))
    except EpaError as exc:
        stop(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        stop(f"database error ({type(exc).__name__}); is the schema current? try `epa db upgrade`")


def print_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(value, BaseModel):
        typer.echo(value.model_dump_json(indent=2))
    else:
        typer.echo(json.dumps(value, indent=2, default=str))


def table(rows: list[tuple[Any, ...]]) -> None:
    for row in rows:
        typer.echo("\t".join("" if v is None else str(v) for v in row))
