"""`epa audit`: the audit trail, newest first (who did what to which ids, with what outcome)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import run, table
from app.security.audit import AuditQuery, find_audit
from app.settings import Settings


def audit_command(
    client: Annotated[str | None, typer.Option(help="One client id only (e.g. cli:alice, ehr-a).")] = None,
    operation: Annotated[str | None, typer.Option(help="One operation only (e.g. job.run-now).")] = None,
    since: Annotated[datetime | None, typer.Option(help="Records at or after this time.")] = None,
    before: Annotated[int | None, typer.Option(help="Records older than this id (the next page).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """Newest first: id, time, client, operation, resource type, ids, outcome (an admin's view: every client)."""
    query = AuditQuery(client_id=client, operation=operation, since=since, before_id=before, limit=limit)

    async def work(session: AsyncSession, _settings: Settings) -> list[tuple[object, ...]]:
        return [
            (r.id, r.at, r.client_id, r.operation, r.resource_type, " ".join(r.resource_ids), r.outcome)
            for r in await find_audit(session, query)
        ]

    rows = run(work)
    table(rows, ("ID", "AT", "CLIENT", "OPERATION", "TYPE", "IDS", "OUTCOME"), empty="no audit records match")
    if len(rows) == limit:
        typer.echo(f"next: --before {rows[-1][0]}", err=True)
