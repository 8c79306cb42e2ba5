"""What the console shows: the risk of each item of an open request, and the per-payer table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.codes import AuthorizationStatus
from app.requirements.risk import repository
from app.requirements.risk.explain import NO_MODEL, describe
from app.requirements.risk.features import item_features
from app.requirements.risk.model import Estimate, PayerRow, payer_table
from app.requirements.risk.service import LoadedModel, model_for, read_stored
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class ItemRisk:
    sequence: int
    code: str
    estimate: Estimate
    text: str


@dataclass(frozen=True, slots=True)
class RequestRisk:
    """The items' estimates, or why there are none (`note`)."""

    items: tuple[ItemRisk, ...] = ()
    version: int | None = None
    pooled: bool = False
    note: str | None = None


async def request_risk(
    session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None, settings: Settings
) -> RequestRisk | None:
    """The denial risk of an open (received, pended, info-requested) request's items; None for a decided one."""
    stored = await repository.stored_request(session, authorization_id, client_id)
    if stored is None or not AuthorizationStatus(stored.status).is_open:
        return None
    loaded = await model_for(session, stored.client_id, settings)
    if loaded is None:
        return RequestRisk(note=NO_MODEL)
    read = read_stored(stored.request_document)
    if read is None:
        return RequestRisk(version=loaded.version, pooled=loaded.pooled, note="the stored request cannot be read")
    attachments = (await repository.attachment_counts(session, [authorization_id])).get(authorization_id, 0)
    features = item_features(stored.payer_id, read[0], read[1], attachments=attachments)
    items = []
    for sequence, found in features.items():
        found = replace(found, kind=str(stored.kind))
        estimate = loaded.model.estimate(found)
        items.append(ItemRisk(sequence, found.code, estimate, describe(found, estimate, loaded.model.min_sample)))
    return RequestRisk(tuple(items), loaded.version, loaded.pooled)


@dataclass(frozen=True, slots=True)
class PayerRates:
    loaded: LoadedModel
    rows: list[PayerRow]


async def payer_rates(session: AsyncSession, client_id: str, settings: Settings) -> PayerRates | None:
    """Denial and overturn-on-appeal rates per payer, from the model that answers the client."""
    loaded = await model_for(session, client_id, settings)
    return PayerRates(loaded, payer_table(loaded.model)) if loaded is not None else None
