"""`epa webhooks deliveries|redeliver`: an endpoint's delivery log, and sending one again."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import run, table
from app.jobs.repository import utc_now
from app.notifications import WebhookDeliveryView
from app.notifications.deliveries import MAX_PAGE, WebhookDeliveries
from app.notifications.endpoints import WebhookEndpoints
from app.settings import Settings

webhooks_cli = typer.Typer(help="Webhook endpoints and their deliveries.", no_args_is_help=True)


@webhooks_cli.command("deliveries")
def deliveries(
    endpoint_id: Annotated[uuid.UUID, typer.Argument()],
    state: Annotated[str | None, typer.Option(help="pending, delivered, failed or skipped")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE)] = 50,
) -> None:
    """Newest first: delivery id, event type, state, attempts, last status code, created."""

    async def work(session: AsyncSession, settings: Settings) -> list[WebhookDeliveryView]:
        await WebhookEndpoints(session, None, settings).get(endpoint_id)
        return await WebhookDeliveries(session, None).for_endpoint(endpoint_id, state=state, before=None, limit=limit)

    table([(d.id, d.event_type, d.state, d.attempts, d.last_status_code, d.created_at) for d in run(work)])


@webhooks_cli.command("redeliver")
def redeliver(delivery_id: Annotated[int, typer.Argument()]) -> None:
    """Send a settled delivery again (same webhook-id)."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await WebhookDeliveries(session, None).redeliver(delivery_id, now=utc_now())

    run(work)
    typer.echo(f"delivery {delivery_id} queued again")
