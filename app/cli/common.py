"""What the `epa` commands share: the settings, the database, one unit of work, plain output.

Every command that reads the database first says which one on stderr (`epa: database: ...`).
A command stops with one `epa: ...` line on stderr and exit code 2 on any error it expects (bad
configuration, an unusable database, a refused change), never a traceback. Commands that read or
change rows run as operations (every client's rows), one transaction per command, and print ids,
codes and states only (never PHI).

Command modules import this module, never the package face (`app.cli`), which imports them all.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import EpaError
from app.security.audit import AuditRecorder, stage_audit
from app.settings import Settings, json_setting_problems, unknown_settings
from app.store import migrate
from app.store.database import create_engine, create_session_factory

T = TypeVar("T")


def fail(message: str, code: int = 2) -> NoReturn:
    """Stop with one clear line on stderr (no traceback)."""
    typer.echo(f"epa: {message}", err=True)
    raise typer.Exit(code)


def load_settings(**overrides: object) -> Settings:
    """The settings, or one `configuration error:` line listing every problem found (exit 2)."""
    problems = [f"unknown setting {name}" for name in unknown_settings(os.environ)]
    not_json = json_setting_problems(os.environ)
    problems += [f"EPA_{name.upper()}: {problem}" for name, problem in not_json.items()]
    # a variable that is not JSON stops pydantic-settings at once: set it aside to check the rest
    aside = {k: os.environ.pop(k) for k in list(os.environ) if k.upper().removeprefix("EPA_").lower() in not_json}
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems += [
            (f"EPA_{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        ]
    except SettingsError as exc:  # a JSON value the check above did not foresee (e.g. in .env)
        problems.append(str(exc).splitlines()[0])
    finally:
        os.environ.update(aside)
    if problems:
        fail(f"configuration error: {'; '.join(problems)}")
    return settings


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def database_error(settings: Settings, exc: BaseException) -> NoReturn:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    fail(f"cannot use the database at {safe_url(settings.effective_database_url)}: {type(exc).__name__}: {detail}")


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
        database_error(settings, exc)


def require_current_schema(settings: Settings, *, upgrade: bool) -> None:
    current = prepare_database(settings, upgrade=upgrade)
    head = migrate.head_revision()
    if current != head:
        fail(
            f"database schema is at {current or 'no revision (empty database)'}, this version needs {head}: "
            "run `epa db upgrade` first"
        )


async def _unit_of_work(settings: Settings, work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session, settings)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def say_database(settings: Settings) -> None:
    """One stderr line naming the database a command reads (the same default as `epa serve`)."""
    typer.echo(f"epa: database: {settings.database_description}", err=True)


def run(
    work: Callable[[AsyncSession, Settings], Awaitable[T]],
    *,
    refused: tuple[type[Exception], ...] = (EpaError,),
) -> T:
    """Run `work` in one transaction on the configured database; an error of `refused` stops with its message.

    Says which database first; on SQLite the schema is migrated first, as `epa serve` does (so
    `epa clients add` works on a fresh clone before the first `serve`)."""
    settings = load_settings()
    say_database(settings)
    if settings.is_sqlite:
        require_current_schema(settings, upgrade=True)
    try:
        return asyncio.run(_unit_of_work(settings, work))
    except refused as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"database error ({type(exc).__name__}); is the schema current? try `epa db upgrade`")


def operator_name() -> str:
    """Who runs the command, for the audit trail: `cli:<login name>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's anonymous uid)
        user = f"uid-{os.getuid()}"
    return f"cli:{user}"[:128]


def audit(session: AsyncSession, operation: str, resource_type: str, ids: list[object]) -> None:
    """An audit row for an operator's action from the CLI, in the command's own transaction."""
    recorder = AuditRecorder(client_id=operator_name())
    recorder.record(operation, resource_type, ids)
    stage_audit(session, recorder.entries, 200, None)


def print_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(value, BaseModel):
        typer.echo(value.model_dump_json(indent=2))
    else:
        typer.echo(json.dumps(value, indent=2, default=str))


def table(rows: list[tuple[Any, ...]], header: tuple[str, ...], *, empty: str) -> None:
    """Tab-separated rows on stdout (for scripts); the header row, or `empty` when there are no rows,
    on stderr (for people), so a pipe reads data only."""
    if not rows:
        typer.echo(f"epa: {empty}", err=True)
        return
    typer.echo("\t".join(header), err=True)
    for row in rows:
        typer.echo("\t".join("" if v is None else str(v) for v in row))
