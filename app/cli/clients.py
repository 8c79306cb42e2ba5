"""`epa clients add|list|disable|enable|update|rotate-keys|remove`: SMART Backend Services client registrations.

Public keys and secrets are never printed or logged: `list` shows ids, key source kind, scopes, state.
A change takes effect on the client's next request (see `app.security.registry`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import fail, run, table
from app.security.keygen import generate_client_key
from app.security.registry import (
    RegistrationError,
    add_client,
    check_jwks,
    list_clients,
    remove_client,
    replace_keys,
    set_enabled,
    update_client,
)
from app.settings import Settings

clients_cli = typer.Typer(help="Registered API clients (SMART Backend Services).", no_args_is_help=True)

T = TypeVar("T")


def _run(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """One transaction; a refused registration change stops with its reason."""
    return run(work, refused=(RegistrationError,))


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read a JWKS from {path} ({type(exc).__name__})")
    if not isinstance(document, dict):
        fail(f"{path} does not hold a JWKS object")
    return document


def _write_private_key(path: Path, pem: bytes) -> None:
    """The private key, readable by its owner only; never printed."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    except OSError as exc:
        fail(f"registered, but cannot write the private key to {path} ({exc.strerror or exc}): remove the client")


@clients_cli.command("add")
def add(
    client_id: Annotated[str, typer.Argument(help="The client id (the iss and sub of its assertions).")],
    scope: Annotated[list[str], typer.Option("--scope", help="An allowed scope; repeat for more.")],
    jwks_file: Annotated[Path | None, typer.Option(help="A JSON file holding the client's public JWKS.")] = None,
    jwks_url: Annotated[str | None, typer.Option(help="An https URL serving the client's public JWKS.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May be granted ops/admin (all clients).")] = False,
    generate_key: Annotated[
        Path | None,
        typer.Option(help="Write a new private key (PEM, mode 0600) here and register its public JWKS."),
    ] = None,
) -> None:
    """Register a client with its public keys and allowed scopes (or a key pair generated here)."""
    if sum(option is not None for option in (jwks_file, jwks_url, generate_key)) != 1:
        fail("give exactly one of --jwks-file, --jwks-url or --generate-key")
    jwks = _read_jwks(jwks_file) if jwks_file is not None else None
    pem = None
    if generate_key is not None:
        if generate_key.exists():
            fail(f"{generate_key} exists; the private key is never overwritten")
        pem, jwks = generate_client_key(kid=f"{client_id}-1")

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await add_client(session, client_id, scopes=scope, jwks=jwks, jwks_url=jwks_url, admin=admin)

    _run(work)
    typer.echo(f"registered client {client_id}")
    if generate_key is not None and pem is not None:
        _write_private_key(generate_key, pem)
        token = f"epa token --client {client_id} --key {generate_key}"
        typer.echo(f"wrote its private key to {generate_key} (mode 0600); a token: {token}")


@clients_cli.command("list")
def list_() -> None:
    """Show every registered client: id, enabled, admin, key source and scopes (never the keys)."""

    async def work(session: AsyncSession, _settings: Settings) -> list[tuple[str, bool, bool, str, list[str]]]:
        return [
            (c.client_id, c.enabled, c.admin, "url" if c.jwks_url else "inline", list(c.scopes))
            for c in await list_clients(session)
        ]

    table(
        [
            (
                client_id,
                "enabled" if enabled else "disabled",
                "admin" if admin else "-",
                f"jwks:{source}",
                " ".join(scopes),
            )
            for client_id, enabled, admin, source, scopes in _run(work)
        ],
        ("CLIENT", "STATE", "ADMIN", "KEYS", "SCOPES"),
        empty="no clients registered",
    )


@clients_cli.command("disable")
def disable(client_id: Annotated[str, typer.Argument()]) -> None:
    """Refuse the client's token requests and its current tokens, at once."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await set_enabled(session, client_id, False)

    _run(work)
    typer.echo(f"disabled client {client_id}")


@clients_cli.command("enable")
def enable(client_id: Annotated[str, typer.Argument()]) -> None:
    """Accept a disabled client again."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await set_enabled(session, client_id, True)

    _run(work)
    typer.echo(f"enabled client {client_id}")


@clients_cli.command("update")
def update(
    client_id: Annotated[str, typer.Argument()],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="The allowed scopes (all of them); repeat.")
    ] = None,
    admin: Annotated[bool | None, typer.Option("--admin/--no-admin", help="May be granted ops/admin.")] = None,
) -> None:
    """Replace the allowed scopes and/or the admin flag."""
    if scope is None and admin is None:
        fail("nothing to change: give --scope and/or --admin/--no-admin")

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        registration = await update_client(session, client_id, scopes=scope, admin=admin)
        return list(registration.scopes)

    scopes = _run(work)
    typer.echo(f"updated client {client_id}: {' '.join(scopes)}")


@clients_cli.command("rotate-keys")
def rotate_keys(
    client_id: Annotated[str, typer.Argument()],
    jwks_file: Annotated[Path | None, typer.Option(help="A JSON file holding the new public JWKS.")] = None,
    jwks_url: Annotated[str | None, typer.Option(help="An https URL serving the public JWKS.")] = None,
) -> None:
    """Replace the client's public keys (inline JWKS or a JWKS URL)."""
    if (jwks_file is None) == (jwks_url is None):
        fail("give exactly one of --jwks-file or --jwks-url")
    if jwks_url is not None and not jwks_url.startswith("https://"):
        fail("a JWKS URL must use https")
    jwks = check_jwks(_read_jwks(jwks_file)) if jwks_file is not None else None

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await replace_keys(session, client_id, jwks=jwks, jwks_url=jwks_url)

    _run(work)
    typer.echo(f"new keys for client {client_id}")


@clients_cli.command("remove")
def remove(client_id: Annotated[str, typer.Argument()]) -> None:
    """Delete the registration: its tokens stop working at once (its stored requests stay)."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await remove_client(session, client_id)

    _run(work)
    typer.echo(f"removed client {client_id}")
