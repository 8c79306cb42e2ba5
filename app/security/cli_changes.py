"""`epa clients update|rotate-keys|remove`: change a registration's scopes or keys, or remove it.

A change takes effect on the client's next request: scopes are intersected with the
registration on every call, and keys are read when the next assertion is verified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.security.cli import _fail, _read_jwks, _run, clients_cli
from app.security.registry import check_jwks, remove_client, replace_keys, update_client


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
        raise _fail("nothing to change: give --scope and/or --admin/--no-admin")

    async def work(session: AsyncSession) -> list[str]:
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
        raise _fail("give exactly one of --jwks-file or --jwks-url")
    if jwks_url is not None and not jwks_url.startswith("https://"):
        raise _fail("a JWKS URL must use https")
    jwks = check_jwks(_read_jwks(jwks_file)) if jwks_file is not None else None

    async def work(session: AsyncSession) -> None:
        await replace_keys(session, client_id, jwks=jwks, jwks_url=jwks_url)

    _run(work)
    typer.echo(f"new keys for client {client_id}")


@clients_cli.command("remove")
def remove(client_id: Annotated[str, typer.Argument()]) -> None:
    """Delete the registration: its tokens stop working at once (its stored requests stay)."""

    async def work(session: AsyncSession) -> None:
        await remove_client(session, client_id)

    _run(work)
    typer.echo(f"removed client {client_id}")
