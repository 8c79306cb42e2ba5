"""Training the denial-risk models from the store, and asking them about a request.

A client's model counts only that client's history; the pooled model (client None) counts every
client's, and answers only when the operator enables `EPA_RISK_POOLED`. The history is every
decided item (A1, A2, A3, A6; cancelled items left out), its features read from the stored
request Bundle (orjson, no FHIR validation again) and the attachments sent after it. An item of a
request appealed from a denial counts as denied even when the appeal overturned it (the items then
read A1); the appeal's outcome is counted as overturned. Nothing here commits: the caller's unit of
work (the worker's job, the CLI's transaction) does.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.codes import ReviewAction
from app.domain.facts import BundleFacts
from app.domain.model import PriorAuthRequest
from app.fhir.coverage_facts import bundle_facts
from app.fhir.extract import build_request
from app.fhir.references import BundleIndex
from app.requirements.risk import repository
from app.requirements.risk.features import Observation, item_features
from app.requirements.risk.model import Estimate, RiskModel
from app.settings import Settings
from app.store.models import RiskModelVersion

log = logging.getLogger("app.requirements.risk")

PAGE = 500
KEEP_VERSIONS = 5


class RiskSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True, slots=True)
class Trained:
    client_id: str | None  # None: the pooled model
    version: int
    items: int
    skipped: int  # stored requests that could not be read back


def read_stored(document: bytes) -> tuple[PriorAuthRequest, BundleFacts] | None:
    """The typed request and coverage facts of a stored request Bundle, or None when it cannot be read."""
    try:
        bundle = orjson.loads(document)
        index = BundleIndex(bundle)
        claim = index.entries[0][1]
        return build_request(bundle, claim, index), bundle_facts(bundle, index)
    except (orjson.JSONDecodeError, AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None


def _observations(
    request: repository.DecidedRequest,
    items: list[repository.DecidedItem],
    attachments: int,
    appeal: repository.AppealOf | None,
) -> list[Observation] | None:
    stored = read_stored(request.request_document)
    if stored is None:
        return None
    features = item_features(request.payer_id, stored[0], stored[1], attachments=attachments)
    from_denial = appeal is not None and appeal.appealed_status == "denied"
    found = []
    for item in items:
        item_features_ = features.get(item.sequence)
        if item_features_ is None:
            continue
        denied = from_denial or item.decision_code == ReviewAction.NOT_CERTIFIED.value
        appealed = denied and appeal is not None
        found.append(
            Observation(
                replace(item_features_, kind=str(request.kind)),
                request.received_at,
                denied,
                item.reason_codes if denied else (),
                appealed,
                appealed and appeal is not None and appeal.outcome == "approved",
            )
        )
    return found


@dataclass(slots=True)
class History:
    """A scope's decided history, read page by page (`skipped`: stored requests that could not be read)."""

    skipped: int = 0
    until: datetime | None = None  # the newest request read

    async def observations(self, session: AsyncSession, client_id: str | None) -> AsyncIterator[Observation]:
        """Every decided item of the scope (a client's, or every client's when None), oldest request first."""
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            page = await repository.decided_requests(session, client_id, after=after, limit=PAGE)
            if not page:
                return
            ids = [r.id for r in page]
            items = await repository.decided_items(session, ids)
            attachments = await repository.attachment_counts(session, ids)
            appeals = await repository.first_appeals(session, ids)
            for request in page:
                found = _observations(
                    request, items.get(request.id, []), attachments.get(request.id, 0), appeals.get(request.id)
                )
                if found is None:
                    self.skipped += 1
                for observation in found or ():
                    yield observation
            after = (page[-1].received_at, page[-1].id)
            self.until = after[0]


async def train_scope(
    session: AsyncSession, client_id: str | None, *, prior_strength: float, min_sample: int, now: datetime
) -> Trained:
    """Count one scope's history (a client's, or every client's when None) into a new model version."""
    model = RiskModel(prior_strength, min_sample)
    history = History()
    async for observation in history.observations(session, client_id):
        model.add(observation)
    skipped = history.skipped
    latest = await repository.latest_model(session, client_id)
    version = latest.version + 1 if latest is not None else 1
    row = RiskModelVersion(
        client_id=client_id,
        version=version,
        trained_at=now,
        items=model.hub.n,
        history_until=history.until,
        data=model.to_data(),
    )
    await repository.add_model(session, row)
    await repository.drop_versions_before(session, client_id, version - KEEP_VERSIONS + 1)
    if skipped:
        log.warning("risk training skipped unreadable requests", extra={"skipped": skipped})
    return Trained(client_id, version, model.hub.n, skipped)


async def train_all(
    session: AsyncSession, settings: Settings, *, now: datetime, client_id: str | None = None
) -> list[Trained]:
    """A new model for every client with history (or just `client_id`), and the pooled one when enabled."""
    clients = [client_id] if client_id is not None else await repository.client_ids_with_history(session)
    strength, minimum = settings.risk_prior_strength, settings.risk_min_sample
    done = [
        await train_scope(session, client, prior_strength=strength, min_sample=minimum, now=now) for client in clients
    ]
    if settings.risk_pooled and client_id is None:
        done.append(await train_scope(session, None, prior_strength=strength, min_sample=minimum, now=now))
    return done


@dataclass(frozen=True, slots=True)
class LoadedModel:
    model: RiskModel
    version: int
    pooled: bool
    trained_at: datetime


async def model_for(session: AsyncSession, client_id: str, settings: Settings) -> LoadedModel | None:
    """The model that answers a client: the pooled one when the operator enabled it, else the client's own."""
    scope = None if settings.risk_pooled else client_id
    row = await repository.latest_model(session, scope)
    if row is None:
        return None
    return LoadedModel(RiskModel.from_data(row.data), row.version, scope is None, row.trained_at)


def estimates(
    loaded: LoadedModel,
    payer: str,
    request: PriorAuthRequest,
    facts: BundleFacts,
    *,
    attachments: int = 0,
    findings: dict[int, tuple[str, ...]] | None = None,
) -> dict[int, Estimate]:
    """The estimate for each item the request asks for, by item sequence."""
    features = item_features(payer, request, facts, attachments=attachments, findings=findings)
    return {sequence: loaded.model.estimate(f) for sequence, f in features.items()}
