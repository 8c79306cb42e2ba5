"""`epa clients add|list|disable|enable`: SMART Backend Services client registrations.

Public keys and secrets are never printed or logged: `list` shows ids, key source kind, scopes, state.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.security.registry import RegistrationError, add_client, list_clients, set_enabled
from app.settings import Settings
from app.store.database import create_engine, create_session_factory

clients_cli = typer.Typer(help="Registered API clients (SMART Backend Services).", no_args_is_help=True)

T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"epa: {message}", err=True)
    return typer.Exit(2)


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from app.cli import load_settings  # late: app.cli registers this sub-app

    settings = load_settings()
    try:
        return asyncio.run(_in_transaction(settings, work))
    except RegistrationError as exc:
        raise _fail(str(exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise _fail(f"database error ({type(exc).__name__}); is the schema current? try `epa db upgrade`") from None


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read a JWKS from {path} ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise _fail(f"{path} does not hold a JWKS object")
    return document


@clients_cli.command("add")
def add(
    client_id: Annotated[str, typer.Argument(help="The client id (the iss and sub of its assertions).")],
    scope: Annotated[list[str], typer.Option("--scope", help="An allowed scope; repeat for more.")],
    jwks_file: Annotated[Path | None, typer.Option(help="A JSON file holding the client's public JWKS.")] = None,
    jwks_url: Annotated[str | None, typer.Option(help="An https URL serving the client's public JWKS.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May be granted ops/admin (all clients).")] = False,
) -> None:
    """Register a client with its public keys and allowed scopes."""
    if (jwks_file is None) == (jwks_url is None):
        raise _fail("give exactly one of --jwks-file or --jwks-url")
    jwks = _read_jwks(jwks_file) if jwks_file is not None else None

    async def work(session: AsyncSession) -> None:
        await add_client(session, client_id, scopes=scope, jwks=jwks, jwks_url=jwks_url, admin=admin)

    _run(work)
    typer.echo(f"registered client {client_id}")


@clients_cli.command("list")
def list_() -> None:
    """Show every registered client: id, enabled, admin, key source and scopes (never the keys)."""

    async def work(session: AsyncSession) -> list[tuple[str, bool, bool, str, list[str]]]:
        return [
            (c.client_id, c.enabled, c.admin, "url" if c.jwks_url else "inline", list(c.scopes))
            for c in await list_clients(session)
        ]

    for client_id, enabled, admin, source, scopes in _run(work):
        state = "enabled" if enabled else "disabled"
        typer.echo(f"{client_id}\t{state}\t{'admin' if admin else '-'}\tjwks:{source}\t{' '.join(scopes)}")


@clients_cli.command("disable")
def disable(client_id: Annotated[str, typer.Argument()]) -> None:
    """Refuse the client's token requests and its current tokens, at once."""

    async def work(session: AsyncSession) -> None:
        await set_enabled(session, client_id, False)

    _run(work)
    typer.echo(f"disabled client {client_id}")


@clients_cli.command("enable")
def enable(client_id: Annotated[str, typer.Argument()]) -> None:
    """Accept a disabled client again."""

    async def work(session: AsyncSession) -> None:
        await set_enabled(session, client_id, True)

    _run(work)
    typer.echo(f"enabled client {client_id}")
