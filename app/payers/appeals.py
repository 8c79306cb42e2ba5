"""The optional appeal part of the payer adapter contract.

An adapter whose payer takes appeals electronically adds two methods (the registry needs nothing
else; `supports_appeals(adapter)` tells the service whether they are there):

    reply = await adapter.appeal(PayerAppeal(...))               # send the appeal
    reply = await adapter.appeal_status(AppealReference(...))     # follow up while the payer reviews

Both return an `AppealReply`: `pended` while the payer reviews (with `retry_after` as a hint for the
next follow-up), `approved` (the decision overturned; `decisions` may carry the items' new decisions,
e.g. A1 with an authorization number) or `denied` (upheld). `peer_to_peer` reports that the payer asked
for a peer-to-peer review, or that one was held. The same rules as the rest of the contract hold:
only `PayerError`s escape, no state a second process needs (put it in `AppealReply.payer_reference`),
no PHI in logs, and `appeal` may be called more than once for the same `appeal_id` (a process that
died after sending it sends it again), so make it idempotent on `appeal_id` where the payer allows.

Adapters without these methods still get appeals recorded: the appeal goes to the payer by another
channel (portal, fax, mail) and operations record the outcome (`POST /authorizations/{id}/appeal/decision`).
Adding the methods does not change the contract version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from app.domain.model import ItemDecision, PriorAuthRequest


class AppealOutcome(StrEnum):
    PENDED = "pended"  # the payer reviews the appeal
    APPROVED = "approved"  # overturned
    DENIED = "denied"  # upheld


class PeerToPeer(StrEnum):
    REQUESTED = "requested"  # the payer asks for a peer-to-peer review
    HELD = "held"  # the review took place


@dataclass(frozen=True, slots=True)
class AppealDocument:
    """A document sent with the appeal (bytes as received; never log them)."""

    content_type: str
    data: bytes
    title: str | None = None


@dataclass(frozen=True, slots=True)
class PayerAppeal:
    """An appeal of a decision on a request sent before.

    `appeal_id` is the service's own id for the appeal (stable, not PHI); `payer_reference` is what the
    adapter returned for the original request; `request` and `bundle` are the request as submitted.
    `expedited` asks for the expedited timeframe (X12 1322 code 1, "Appeal - Immediate").
    """

    authorization_id: str
    appeal_id: str
    payer_reference: str | None
    request: PriorAuthRequest
    bundle: bytes
    reason: str | None
    expedited: bool
    documents: tuple[AppealDocument, ...] = ()


@dataclass(frozen=True, slots=True)
class AppealReference:
    """An appeal sent before, for `appeal_status`: `appeal_reference` is `AppealReply.payer_reference`."""

    authorization_id: str
    appeal_id: str
    appeal_reference: str | None
    request: PriorAuthRequest
    reason: str | None
    expedited: bool


@dataclass(frozen=True, slots=True)
class AppealReply:
    """What a payer answered about an appeal."""

    outcome: AppealOutcome
    decisions: tuple[ItemDecision, ...] = ()  # approved: the items' decisions on appeal, when the payer gives them
    payer_reference: str | None = None  # the payer's reference of the appeal, for follow-ups
    retry_after: timedelta | None = None  # pended: when to ask again
    peer_to_peer: PeerToPeer | None = None
    reason_text: str | None = None  # the payer's explanation (for the timeline: never log it)
    raw: Any = field(default=None, compare=False, repr=False)


@runtime_checkable
class AppealingAdapter(Protocol):
    """An adapter that sends appeals and follows them up. Every method raises only `PayerError`s."""

    async def appeal(self, appeal: PayerAppeal) -> AppealReply:
        """Send the appeal; return the payer's answer (usually `pended`)."""
        ...

    async def appeal_status(self, reference: AppealReference) -> AppealReply:
        """Ask the payer for its current answer to an appeal sent before."""
        ...


def supports_appeals(adapter: object) -> bool:
    """Whether the adapter sends appeals itself (it has both `appeal` and `appeal_status`)."""
    return isinstance(adapter, AppealingAdapter)


__all__ = [
    "AppealDocument",
    "AppealOutcome",
    "AppealReference",
    "AppealReply",
    "AppealingAdapter",
    "PayerAppeal",
    "PeerToPeer",
    "supports_appeals",
]
