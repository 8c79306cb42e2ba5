"""`epa webhooks deliveries|redeliver|send-now|drain`: an endpoint's delivery log, sending one again or now."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import audit, run, table
from app.jobs.repository import utc_now
from app.notifications import WebhookDeliveryView, WebhookEndpointView
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

    table(
        [
            (d.id, d.event_type, d.state, d.attempts, d.last_status_code, d.next_attempt_at, d.created_at)
            for d in run(work)
        ],
        ("ID", "EVENT", "STATE", "ATTEMPTS", "LAST_STATUS", "NEXT_ATTEMPT", "CREATED"),
        empty="no deliveries",
    )


@webhooks_cli.command("list")
def list_() -> None:
    """Every webhook endpoint of every client: id, client, enabled, url, event types."""

    async def work(session: AsyncSession, settings: Settings) -> list[WebhookEndpointView]:
        return await WebhookEndpoints(session, None, settings).all()

    table(
        [
            (e.id, e.client_id, "enabled" if e.enabled else "disabled", e.url, " ".join(e.event_types))
            for e in run(work)
        ],
        ("ID", "CLIENT", "STATE", "URL", "EVENTS"),
        empty="no webhook endpoints",
    )


@webhooks_cli.command("redeliver")
def redeliver(delivery_id: Annotated[int, typer.Argument()]) -> None:
    """Send a settled delivery again (same webhook-id)."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await WebhookDeliveries(session, None).redeliver(delivery_id, now=utc_now())

    run(work)
    typer.echo(f"delivery {delivery_id} queued again")


@webhooks_cli.command("send-now")
def send_now(delivery_id: Annotated[int, typer.Argument()]) -> None:
    """Attempt a pending delivery now, its backoff skipped (audited)."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await WebhookDeliveries(session, None).send_now(delivery_id, now=utc_now())
        audit(session, "webhook.delivery.send-now", "WebhookDelivery", [delivery_id])

    run(work)
    typer.echo(f"delivery {delivery_id} is attempted now")


@webhooks_cli.command("drain")
def drain(endpoint_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Attempt every pending delivery of an endpoint now (its receiver is fixed; audited)."""

    async def work(session: AsyncSession, _settings: Settings) -> int:
        moved = await WebhookDeliveries(session, None).send_pending_now(endpoint_id, now=utc_now())
        audit(session, "webhook.endpoint.send-pending-now", "WebhookEndpoint", [endpoint_id])
        return moved

    typer.echo(f"{run(work)} pending deliveries are attempted now")
