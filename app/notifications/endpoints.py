"""Webhook endpoints: registration, changes, secret rotation; every read scoped to the client.

`client_id=None` is an admin (every client). Another client's endpoint is simply not found.
Answers are views (`app.notifications.views`); the statements are `WebhookRepository`'s, and
nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest, NotFound
from app.notifications.events import EVENT_TYPES, PING, WILDCARD
from app.notifications.repository.webhooks import WebhookRepository
from app.notifications.secret_box import SecretBox
from app.notifications.signing import new_secret
from app.notifications.targets import check_url
from app.notifications.views import EndpointHealth, WebhookEndpointView, WebhookEndpointWithSecret
from app.settings import Settings
from app.store.models import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """The fields a PATCH may change (None: unchanged)."""

    url: str | None = None
    event_types: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def check_event_types(event_types: Sequence[str]) -> list[str]:
    """The event types, de-duplicated, or InvalidRequest naming the unknown ones."""
    unknown = sorted(set(event_types) - EVENT_TYPES - {WILDCARD})
    if unknown:
        raise InvalidRequest(f"unknown event types: {', '.join(unknown)}")
    if not event_types:
        raise InvalidRequest("at least one event type (or '*') is required")
    return sorted(set(event_types))


def wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Whether the endpoint subscribed to `event_type` (pings always go through)."""
    return event_type == PING or WILDCARD in endpoint.event_types or event_type in endpoint.event_types


def active_secrets(endpoint: WebhookEndpoint, now: datetime, box: SecretBox) -> list[str]:
    """The secrets that sign now (decrypted): the current one, and the previous one during its grace period."""
    keep = endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now
    stored = [endpoint.secret, endpoint.previous_secret] if keep and endpoint.previous_secret else [endpoint.secret]
    return [box.open(secret) for secret in stored]


async def owned_endpoint(
    repository: WebhookRepository, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    """The endpoint if the repository's client may see it, else NotFound."""
    endpoint = await repository.endpoint(endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


class WebhookEndpoints:
    """The endpoints a caller may see and change."""

    def __init__(self, session: AsyncSession, client_id: str | None, settings: Settings) -> None:
        self.repository = WebhookRepository(session, client_id)
        self.settings = settings
        self.box = SecretBox(settings)

    def _check_url(self, url: str) -> str:
        return check_url(
            url, development=self.settings.development, allow_private=self.settings.webhook_allow_private_targets
        )

    def _with_secret(
        self, endpoint: WebhookEndpoint, previous_valid_until: datetime | None = None
    ) -> WebhookEndpointWithSecret:
        return WebhookEndpointWithSecret(
            WebhookEndpointView.of(endpoint), self.box.open(endpoint.secret), previous_valid_until
        )

    async def create(
        self,
        *,
        client_id: str,
        url: str,
        event_types: Sequence[str],
        description: str | None,
        enabled: bool,
        now: datetime,
    ) -> WebhookEndpointWithSecret:
        """A new endpoint; the answer holds its signing secret, the only time it is shown."""
        endpoint = WebhookEndpoint(
            id=uuid.uuid4(),
            client_id=client_id,
            url=self._check_url(url),
            event_types=check_event_types(event_types),
            description=description,
            enabled=enabled,
            secret=self.box.seal(new_secret()),
            created_at=now,
            updated_at=now,
        )
        return self._with_secret(await self.repository.add_endpoint(endpoint))

    async def all(self) -> list[WebhookEndpointView]:
        return [WebhookEndpointView.of(endpoint) for endpoint in await self.repository.endpoints()]

    async def all_with_health(self) -> list[EndpointHealth]:
        """Every endpoint in scope with its last success, consecutive failures and pending count."""
        answers = []
        for endpoint in await self.repository.endpoints():
            last_success, failures, pending = await self.repository.health(endpoint.id)
            answers.append(EndpointHealth(WebhookEndpointView.of(endpoint), last_success, failures, pending))
        return answers

    async def get(self, endpoint_id: uuid.UUID) -> WebhookEndpointView:
        return WebhookEndpointView.of(await owned_endpoint(self.repository, endpoint_id))

    async def update(self, endpoint_id: uuid.UUID, changes: EndpointChanges, *, now: datetime) -> WebhookEndpointView:
        endpoint = await owned_endpoint(self.repository, endpoint_id, for_update=True)
        if changes.url is not None:
            endpoint.url = self._check_url(changes.url)
        if changes.event_types is not None:
            endpoint.event_types = check_event_types(changes.event_types)
        if changes.description is not None:
            endpoint.description = changes.description
        if changes.enabled is not None:
            endpoint.enabled = changes.enabled
            endpoint.disabled_reason = None if changes.enabled else "disabled by the client"
        endpoint.updated_at = now
        await self.repository.flush()
        return WebhookEndpointView.of(endpoint)

    async def delete(self, endpoint_id: uuid.UUID) -> None:
        await self.repository.delete_endpoint(await owned_endpoint(self.repository, endpoint_id))

    async def rotate_secret(self, endpoint_id: uuid.UUID, *, now: datetime) -> WebhookEndpointWithSecret:
        """A new secret; the old one keeps signing (alongside) for the grace period."""
        endpoint = await owned_endpoint(self.repository, endpoint_id, for_update=True)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + timedelta(seconds=self.settings.webhook_secret_grace_seconds)
        endpoint.secret = self.box.seal(new_secret())
        endpoint.updated_at = now
        await self.repository.flush()
        return self._with_secret(endpoint, endpoint.previous_secret_until)


async def reencrypt_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Every stored signing secret re-encrypted with the newest key (after a key rotation); how many rows."""
    repository = WebhookRepository(session, None)
    endpoints = await repository.endpoints_for_update()
    for endpoint in endpoints:
        endpoint.secret = box.reseal(endpoint.secret)
        if endpoint.previous_secret is not None:
            endpoint.previous_secret = box.reseal(endpoint.previous_secret)
    await repository.flush()
    return len(endpoints)
