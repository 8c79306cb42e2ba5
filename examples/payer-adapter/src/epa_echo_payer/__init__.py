"""An example payer adapter: approves everything, except codes that need no authorization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.payers.sdk import (
    AdapterContext,
    ItemDecision,
    PayerReference,
    PayerReply,
    PayerSubmission,
    PayerUnavailable,
    ReviewAction,
)


class EchoSettings(BaseModel):
    """`[payer.settings]` of an echo payer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    not_required: tuple[str, ...] = ()  # product/service codes answered "NA"
    down: bool = False  # simulate an outage


class EchoAdapter:
    contract_version = 1  # the payer adapter contract this adapter was written for

    def __init__(self, settings: EchoSettings, context: AdapterContext) -> None:
        self._settings = settings
        self._payer_id = context.payer_id

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        if self._settings.down:
            raise PayerUnavailable("echo payer is down")
        decisions = tuple(
            ItemDecision(
                sequence=item.sequence,
                action=ReviewAction.NO_ACTION_REQUIRED
                if item.product_or_service.code in self._settings.not_required
                else ReviewAction.CERTIFIED,
                authorization_number=f"ECHO-{submission.authorization_id}-{item.sequence}",
            )
            for item in submission.request.items
        )
        return PayerReply(decisions=decisions, payer_reference=f"echo-{submission.authorization_id}")

    async def inquire(self, reference: PayerReference) -> PayerReply:
        return await self.submit(PayerSubmission(reference.authorization_id, reference.request, reference.bundle))

    async def cancel(self, reference: PayerReference) -> PayerReply:
        decisions = tuple(ItemDecision(i.sequence, ReviewAction.CANCELLED) for i in reference.request.items)
        return PayerReply(decisions=decisions, payer_reference=reference.payer_reference)

    async def aclose(self) -> None:
        return None


def create_adapter(settings: Mapping[str, Any], context: AdapterContext) -> EchoAdapter:
    """The entry point: validate the settings with the adapter's own model, then build."""
    return EchoAdapter(EchoSettings.model_validate(settings), context)
