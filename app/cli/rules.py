"""`epa rules`: check coverage rules files before putting them in force, and show what they hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail
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
    """Validate every rules file and the questionnaires beside them; one line per payer, or the error and exit 2."""
    if directory is None:
        from app.settings import Settings

        directory = Settings().coverage_rules_dir
    from app.documentation import read_catalog

    try:
        rules = read_rules(directory)
        questionnaires = read_catalog(directory, rules)  # DTR data beside the rules (docs/dtr.md)
    except RulesError as exc:
        fail(str(exc))
    for payer, summary in rules.summary().items():
        typer.echo(
            f"{payer}: {summary['source']} version {summary['version']}, "
            f"{summary['rules']} rules, {summary['gold_cards']} gold cards"
        )
    for payer, found in questionnaires.summary().items():
        typer.echo(
            f"{payer}: {found['source']}, {found['questionnaires']} questionnaires, {found['resources']} resources"
        )


@rules_cli.command("check-programs")
def check_programs(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Registry directory (default: EPA_PROGRAMS_DIR, else the shipped sample)."),
    ] = None,
) -> None:
    """Validate every exemptions and program routing file; one line per file, or `file:line: reason` and exit 2.

    Whether each routing's contractor is a configured payer is checked when the service starts.
    """
    from app.coverage.program_loader import load_programs

    if directory is None:
        from app.settings import Settings

        directory = Settings().programs_dir
    try:
        registry = load_programs(directory)
    except RulesError as exc:
        fail(str(exc))
    for summary in registry.summary():
        sample = " (sample data)" if summary["sample"] else ""
        typer.echo(
            f"{summary['source']}: version {summary['version']}{sample}, "
            f"{summary['exemptions']} exemptions, {summary['routings']} routings"
        )
