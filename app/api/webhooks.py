"""`/webhooks`: a client's webhook endpoints, their delivery log, redelivery, send now and ping (JSON)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep, SessionDep
from app.api.params import PlainText, RowId
from app.api.security import require
from app.domain.bounds import URL_LENGTH
from app.notifications import (
    MAX_PAGE,
    EndpointChanges,
    WebhookAttemptView,
    WebhookDeliveries,
    WebhookDeliveryView,
    WebhookEndpoints,
    WebhookEndpointView,
    WebhookEndpointWithSecret,
)
from app.security.principal import WEBHOOKS_READ, WEBHOOKS_WRITE, Principal

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
ReadPrincipal = Annotated[Principal, require(WEBHOOKS_READ)]
WritePrincipal = Annotated[Principal, require(WEBHOOKS_WRITE)]


class EndpointIn(BaseModel):
    url: PlainText = Field(max_length=URL_LENGTH)
    event_types: list[PlainText] = Field(default_factory=lambda: ["*"], max_length=32)
    description: PlainText | None = Field(default=None, max_length=1000)
    enabled: bool = True


class EndpointPatch(BaseModel):
    url: PlainText | None = Field(default=None, max_length=URL_LENGTH)
    event_types: list[PlainText] | None = Field(default=None, max_length=32)
    description: PlainText | None = Field(default=None, max_length=1000)
    enabled: bool | None = None


class EndpointView(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, e: WebhookEndpointView) -> EndpointView:
        return cls(
            id=e.id,
            url=e.url,
            event_types=e.event_types,
            description=e.description,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class EndpointWithSecret(EndpointView):
    """Answered once, at creation and rotation: the signing secret is never shown again."""

    secret: str
    previous_secret_valid_until: datetime | None = None

    @classmethod
    def revealed(cls, e: WebhookEndpointWithSecret) -> EndpointWithSecret:
        return cls(
            **EndpointView.of(e.endpoint).model_dump(),
            secret=e.secret,
            previous_secret_valid_until=e.previous_secret_valid_until,
        )


class AttemptView(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @classmethod
    def of(cls, a: WebhookAttemptView) -> AttemptView:
        return cls(at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)


class DeliveryView(BaseModel):
    id: int
    endpoint_id: uuid.UUID
    webhook_id: str
    event_type: str
    authorization_id: uuid.UUID | None
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptView] | None = None

    @classmethod
    def of(cls, d: WebhookDeliveryView) -> DeliveryView:
        return cls(
            id=d.id,
            endpoint_id=d.endpoint_id,
            webhook_id=d.message_id,
            event_type=d.event_type,
            authorization_id=d.authorization_id,
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            payload=d.payload,
            attempt_log=[AttemptView.of(a) for a in d.attempt_log] if d.attempt_log is not None else None,
        )


@router.get("/deliveries/{delivery_id}", summary="One delivery with every attempt")
async def delivery_detail(delivery_id: RowId, session: SessionDep, principal: ReadPrincipal) -> DeliveryView:
    return DeliveryView.of(await WebhookDeliveries(session, principal.scope_client_id).detail(delivery_id))


@router.post("/deliveries/{delivery_id}/redeliver", status_code=202, summary="Send a settled delivery again")
async def redeliver(
    delivery_id: RowId, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal
) -> DeliveryView:
    delivery = await WebhookDeliveries(session, principal.scope_client_id).redeliver(delivery_id, now=runtime.clock())
    return DeliveryView.of(delivery)


@router.post(
    "/deliveries/{delivery_id}/send-now", status_code=202, summary="Attempt a pending delivery now (409 unless pending)"
)
async def send_now(
    delivery_id: RowId, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal, audit: AuditDep
) -> DeliveryView:
    audit.record("webhook.delivery.send-now", "WebhookDelivery", [delivery_id])
    delivery = await WebhookDeliveries(session, principal.scope_client_id).send_now(delivery_id, now=runtime.clock())
    return DeliveryView.of(delivery)


class SentNow(BaseModel):
    moved: int = Field(description="Pending deliveries now due at once.")


@router.post("/{endpoint_id}/send-pending-now", status_code=202, summary="Attempt every pending delivery now")
async def send_pending_now(
    endpoint_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal, audit: AuditDep
) -> SentNow:
    audit.record("webhook.endpoint.send-pending-now", "WebhookEndpoint", [endpoint_id])
    deliveries = WebhookDeliveries(session, principal.scope_client_id)
    return SentNow(moved=await deliveries.send_pending_now(endpoint_id, now=runtime.clock()))


@router.post("", status_code=201, summary="Register an endpoint; the answer holds its signing secret, once")
async def create_endpoint(
    body: EndpointIn, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal
) -> EndpointWithSecret:
    endpoints = WebhookEndpoints(session, principal.scope_client_id, runtime.settings)
    created = await endpoints.create(
        client_id=principal.client_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
        now=runtime.clock(),
    )
    return EndpointWithSecret.revealed(created)


class EndpointPage(BaseModel):
    endpoints: list[EndpointView]
    next_cursor: str | None = Field(description="Always null: a client's endpoints fit one page.")


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


@router.get(
    "",
    summary="The caller's endpoints",
    description="Every endpoint the caller registered, in the list shape of every list route "
    "(`{endpoints, next_cursor}`); secrets are never listed.",
)
async def list_endpoints(runtime: RuntimeDep, session: SessionDep, principal: ReadPrincipal) -> EndpointPage:
    endpoints = await WebhookEndpoints(session, principal.scope_client_id, runtime.settings).all()
    return EndpointPage(endpoints=[EndpointView.of(e) for e in endpoints], next_cursor=None)


@router.get("/{endpoint_id}", summary="One endpoint")
async def get_endpoint(
    endpoint_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: ReadPrincipal
) -> EndpointView:
    return EndpointView.of(
        await WebhookEndpoints(session, principal.scope_client_id, runtime.settings).get(endpoint_id)
    )


@router.patch("/{endpoint_id}", summary="Change URL, event types, description or enabled")
async def update_endpoint(
    endpoint_id: uuid.UUID, body: EndpointPatch, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal
) -> EndpointView:
    changes = EndpointChanges(body.url, body.event_types, body.description, body.enabled)
    endpoints = WebhookEndpoints(session, principal.scope_client_id, runtime.settings)
    return EndpointView.of(await endpoints.update(endpoint_id, changes, now=runtime.clock()))


@router.delete("/{endpoint_id}", status_code=204, summary="Remove an endpoint and its delivery log")
async def delete_endpoint(
    endpoint_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal
) -> Response:
    await WebhookEndpoints(session, principal.scope_client_id, runtime.settings).delete(endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", summary="A new secret; the old one keeps signing for a grace period")
async def rotate_secret(
    endpoint_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal
) -> EndpointWithSecret:
    endpoints = WebhookEndpoints(session, principal.scope_client_id, runtime.settings)
    return EndpointWithSecret.revealed(await endpoints.rotate_secret(endpoint_id, now=runtime.clock()))


@router.post("/{endpoint_id}/ping", status_code=202, summary="Queue a signed `webhook.ping` delivery")
async def ping(
    endpoint_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal
) -> DeliveryView:
    delivery = await WebhookDeliveries(session, principal.scope_client_id).ping(endpoint_id, now=runtime.clock())
    return DeliveryView.of(delivery)


@router.get(
    "/{endpoint_id}/deliveries",
    summary="The endpoint's deliveries, newest first",
    description="The delivery log in cursor pages like every list route: `?cursor=` takes the previous "
    "page's `next_cursor`, `?limit=` the page size; `?state=` filters.",
)
async def endpoint_deliveries(
    endpoint_id: uuid.UUID,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: ReadPrincipal,
    state: Annotated[str | None, Query(pattern="^(pending|delivered|failed|skipped)$")] = None,
    cursor: Annotated[
        str | None, Query(max_length=19, pattern=r"^[0-9]+$", description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DeliveryPage:
    await WebhookEndpoints(session, principal.scope_client_id, runtime.settings).get(endpoint_id)  # 404 if not theirs
    before = min(int(cursor), 2**62) if cursor else None  # a bigint on PostgreSQL
    rows = await WebhookDeliveries(session, principal.scope_client_id).for_endpoint(
        endpoint_id, state=state, before=before, limit=limit
    )
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return DeliveryPage(deliveries=[DeliveryView.of(d) for d in rows], next_cursor=next_cursor)
