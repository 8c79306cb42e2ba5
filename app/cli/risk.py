"""`epa risk train|payers`: train the denial-risk models now; the per-payer denial and overturn table."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app import requirements
from app.cli.common import fail, run, table
from app.jobs.repository import utc_now
from app.settings import Settings

risk_cli = typer.Typer(help="Denial risk learned from the hub's own history.", no_args_is_help=True)


@risk_cli.command("train")
def train(client: Annotated[str | None, typer.Option(help="Only this client's model.")] = None) -> None:
    """A new model version for every client with history (and the pooled one when EPA_RISK_POOLED is on)."""

    async def work(session: AsyncSession, settings: Settings) -> list[requirements.risk.Trained]:
        return await requirements.risk.train_all(session, settings, now=utc_now(), client_id=client)

    for trained in run(work):
        scope = trained.client_id if trained.client_id is not None else "(pooled)"
        skipped = f", {trained.skipped} unreadable requests skipped" if trained.skipped else ""
        typer.echo(f"{scope}: model v{trained.version} from {trained.items} decided items{skipped}")


@risk_cli.command("payers")
def payers(client: Annotated[str, typer.Option(help="The client whose model answers.")]) -> None:
    """Per payer: decided items, denied, denial rate, appealed denials, overturned, overturn rate on appeal."""

    async def work(session: AsyncSession, settings: Settings) -> requirements.risk.LoadedModel | None:
        return await requirements.risk.model_for(session, client, settings)

    loaded = run(work)
    if loaded is None:
        fail("no denial-risk model yet: run `epa risk train`")
    rows = requirements.risk.payer_table(loaded.model)
    table(
        [
            (
                r.payer,
                r.items,
                r.denied,
                f"{r.denial_rate:.1%}",
                r.appealed,
                r.overturned,
                f"{r.overturn_rate:.1%}" if r.overturn_rate is not None else "-",
            )
            for r in rows
        ],
        ("payer", "items", "denied", "denial rate", "appealed", "overturned", "overturn rate"),
        empty="no decided items in this model",
    )
