"""`epa authorizations list|show`: the worklist and one authorization, as operations sees them."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app import operations
from app.cli.common import print_json, run, table
from app.domain.codes import AuthorizationKind, AuthorizationStatus
from app.jobs import utc_now
from app.operations import MAX_PAGE, AuthorizationDetail, AuthorizationFilter, AuthorizationPage
from app.settings import Settings

authorizations_cli = typer.Typer(help="Authorizations (every client's).", no_args_is_help=True)


@authorizations_cli.command("list")
def list_(
    status: Annotated[list[AuthorizationStatus] | None, typer.Option(help="Any of these; repeat for more.")] = None,
    payer: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[AuthorizationKind | None, typer.Option()] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Undecided past the due time.")] = False,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE)] = 50,
) -> None:
    """Most recently updated first: id, status, kind, priority, payer, received, due."""
    where = AuthorizationFilter(
        statuses=[s.value for s in status or ()],
        payer_id=payer,
        kind=kind.value if kind else None,
        overdue=True if overdue else None,
    )

    async def work(session: AsyncSession, settings: Settings) -> AuthorizationPage:
        return await operations.worklist(
            session, client_id=None, where=where, now=utc_now(), base_url=settings.base_url, cursor=cursor, limit=limit
        )

    page = run(work)
    table(
        [
            (a.id, a.status.value, a.kind.value, a.priority.value, a.payer_id, a.clocks.received_at, a.clocks.due_at)
            for a in page.authorizations
        ],
        ("ID", "STATUS", "KIND", "PRIORITY", "PAYER", "RECEIVED", "DUE"),
        empty="no authorizations match",
    )
    if page.next_cursor:
        typer.echo(f"next: --cursor {page.next_cursor}", err=True)


@authorizations_cli.command("show")
def show(authorization_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """One authorization in full (items, clocks, timeline) as JSON."""

    async def work(session: AsyncSession, settings: Settings) -> AuthorizationDetail | None:
        answer = await operations.read(
            session, authorization_id, client_id=None, now=utc_now(), base_url=settings.base_url
        )
        return answer.detail

    detail = run(work)
    if detail is not None:
        print_json(detail)
