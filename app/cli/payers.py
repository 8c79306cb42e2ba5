"""`epa payers check [FILE]`: build the payer registry from a payers file (default: EPA_PAYERS_FILE), as
start-up would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx
import typer

from app.cli.common import fail, load_settings, table
from app.payers import PayerConfigError, PayerRegistry, build_registry

payers_cli = typer.Typer(help="Payer configuration.", no_args_is_help=True)


async def _build(path: Path) -> list[tuple[str, str, bool, str]]:
    async with httpx.AsyncClient() as http:
        registry: PayerRegistry = build_registry(path, http)
        try:
            return [(e.id, e.adapter_name, e.default, " ".join(str(m) for m in e.match)) for e in registry.entries]
        finally:
            await registry.aclose()


@payers_cli.command("check")
def check(
    path: Annotated[Path | None, typer.Argument(help="A payers file (TOML); default: EPA_PAYERS_FILE.")] = None,
) -> None:
    """Load every adapter the file names; print the payers, or stop with one line naming the problem."""
    if path is None:
        path = load_settings().payers_file
        if path is None:
            fail("payer configuration: give a payers file, or set EPA_PAYERS_FILE")
    if not path.is_file():
        fail(f"payer configuration: no file {path}")
    try:
        rows = asyncio.run(_build(path))
    except PayerConfigError as exc:
        fail(f"payer configuration: {exc}")
    table(
        [(payer, adapter, "default" if default else "-", match) for payer, adapter, default, match in rows],
        ("PAYER", "ADAPTER", "DEFAULT", "MATCH"),
        empty="no payers",
    )
    typer.echo(f"{path}: {len(rows)} payer(s) OK", err=True)
