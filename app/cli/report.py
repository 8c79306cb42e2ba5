"""`epa report`: the CMS-0057-F report over every client's requests, as a table-friendly CSV or JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.cli.common import fail, load_settings, say_database
from app.errors import InvalidRequest
from app.reports.period import as_instant, report_query
from app.reports.prior_auth import PriorAuthReport, ReportQuery, prior_auth_report
from app.reports.render import report_csv, report_json
from app.settings import Settings
from app.store.database import create_engine, create_session_factory


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


async def _report(settings: Settings, query: ReportQuery) -> PriorAuthReport:
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await prior_auth_report(session, query)
    finally:
        await engine.dispose()


def report(
    start: Annotated[
        datetime | None, typer.Option("--from", help="Received on or after (default: 90 days before --to).")
    ] = None,
    end: Annotated[datetime | None, typer.Option("--to", help="Received before (default: now).")] = None,
    payer: Annotated[str | None, typer.Option(help="One payer id only.")] = None,
    output: Annotated[Format, typer.Option("--format", help="csv or json.")] = Format.CSV,
) -> None:
    """CMS-0057-F figures per payer, kind and priority (every client's requests)."""
    settings = load_settings()
    try:
        query = report_query(as_instant(start), as_instant(end), payer, None, datetime.now(UTC))
    except InvalidRequest as exc:
        fail(str(exc))
    say_database(settings)  # once the period is known to be valid: a refusal stays one line
    typer.echo(f"epa: computing the report from {query.start:%Y-%m-%d} to {query.end:%Y-%m-%d} ...", err=True)
    try:
        result = asyncio.run(_report(settings, query))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"database error ({type(exc).__name__}); is the schema current? try `epa db upgrade`")
    if output is Format.JSON:
        typer.echo(json.dumps(report_json(result), indent=2))
    else:
        typer.echo(report_csv(result), nl=False)
