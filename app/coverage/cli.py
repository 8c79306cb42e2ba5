"""`epa rules`: check coverage rules files before putting them in force, and show what they hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.coverage.book import read_rules
from app.coverage.loader import RulesError

rules_cli = typer.Typer(help="Coverage rules files (see docs/coverage-rules.md).", no_args_is_help=True)


@rules_cli.command("check")
def check(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Rules directory (default: EPA_COVERAGE_RULES_DIR, else the shipped sample)."),
    ] = None,
) -> None:
    """Validate every rules file; print one line per payer, or `file:line: reason` and exit 2."""
    if directory is None:
        from app.settings import Settings

        directory = Settings().coverage_rules_dir
    try:
        rules = read_rules(directory)
    except RulesError as exc:
        typer.echo(f"epa: {exc}", err=True)
        raise typer.Exit(2) from None
    for payer, summary in rules.summary().items():
        typer.echo(
            f"{payer}: {summary['source']} version {summary['version']}, "
            f"{summary['rules']} rules, {summary['gold_cards']} gold cards"
        )
