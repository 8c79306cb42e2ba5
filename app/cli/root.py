"""The `epa` command assembled: every command group of `app/cli/` on one typer app, and `--version`.

Each command module defines its commands (importing `app.cli.common` for what they share) and
knows nothing of this one; this module is the only one that imports them all. The order in
which they are added is the order `epa --help` lists them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app import __version__
from app.cli.audit import audit_command
from app.cli.authorizations import authorizations_cli
from app.cli.carry_over import carry_over_cli
from app.cli.clients import clients_cli
from app.cli.db import db_cli
from app.cli.jobs import jobs_cli
from app.cli.payers import payers_cli
from app.cli.prune import prune_command
from app.cli.report import report
from app.cli.risk import risk_cli
from app.cli.rules import rules_cli
from app.cli.service import serve, worker
from app.cli.token import token
from app.cli.webhooks import webhooks_cli
from app.cli.x12 import x12_cli

cli = typer.Typer(name="epa", help="Electronic prior authorization hub.", no_args_is_help=True, add_completion=False)
cli.command("token")(token)
cli.command("report")(report)
cli.command("prune")(prune_command)
cli.command("audit")(audit_command)
cli.command()(serve)
cli.command()(worker)
cli.add_typer(db_cli, name="db")
cli.add_typer(clients_cli, name="clients")
cli.add_typer(rules_cli, name="rules")
cli.add_typer(authorizations_cli, name="authorizations")
cli.add_typer(jobs_cli, name="jobs")
cli.add_typer(webhooks_cli, name="webhooks")
cli.add_typer(payers_cli, name="payers")
cli.add_typer(carry_over_cli, name="carried-over")
cli.add_typer(risk_cli, name="risk")
cli.add_typer(x12_cli, name="x12")


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


def main() -> None:
    cli()
