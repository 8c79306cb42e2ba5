"""The contract between the service and a payer adapter.

An adapter speaks to one payer. The service calls it with the project's own typed domain
objects (`app.domain.model`) plus the exact PAS request Bundle bytes the EHR sent, for
adapters that forward FHIR as-is, and receives a `PayerReply`:

    adapter = factory(settings, context)       # once, at start-up (see app.payers.registry)
    reply = await adapter.submit(PayerSubmission(...))
    reply = await adapter.inquire(PayerReference(...))   # follow-ups on pended requests
    reply = await adapter.cancel(PayerReference(...))    # idempotent
    reply = await adapter.submit_attachment(PayerReference(..., attachments=...))  # optional
    await adapter.aclose()                     # at shutdown

Optional: `appeal` and `appeal_status` for a payer that takes appeals electronically
(`app.payers.appeals`; without them appeals go by another channel).

Rules every adapter keeps (the contract kit in `app.payers.testing` checks them):

- Only `app.payers.errors.PayerError` subclasses escape; transport errors (httpx) are
  translated at the adapter's edge.
- No state that a second process would need: any process may inquire about a request
  another process submitted. Put what you need to follow up in `PayerReply.payer_reference`.
- `cancel` may be called more than once for the same request.
- Use the injected `AdapterContext.http` client (tests mock it with respx or
  `httpx.MockTransport`), `AdapterContext.clock` for "now" and `AdapterContext.sleep` to wait,
  so tests run without network and without sleeping.
- No PHI in logs: log payer ids, references and status codes only.
- The adapter says which contract it was built for: `contract_version = 1` on its class
  (the number literally, not `CONTRACT_VERSION`, which is always the hub's own). The registry
  refuses an adapter built for another version at start-up, with one line.

Information requests (PAS 2.2.1 + CDex 2.1): a reply that pends items and needs documents
carries `PayerReply.information_request` (what is needed, by when); the authorization becomes
`info-requested`. When the provider sends the documents, the service calls the OPTIONAL
`submit_attachment(reference)` with `reference.attachments` set (see `AttachmentReceiver`);
an adapter without it gets them through `inquire`, whose `reference.attachments` then holds
every document sent for the request so far (forward them as a PAS update, or as the payer's
API wants). Adding either changes nothing for an adapter written before.

The contract version changes only when a change here, in `PayerReply` and the domain types
it carries, or in the error tree would break an adapter written for the previous version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from app.domain.model import Attachment, PayerReply, PriorAuthRequest

CONTRACT_VERSION = 1
"""The payer adapter contract this hub speaks; adapters declare theirs as `contract_version`."""

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (asyncio.sleep in production, a recorder in tests)."""


def utc_now() -> datetime:
    """The production clock."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PayerSubmission:
    """A new (or updated) prior-authorization request for the payer.

    `authorization_id` is the service's own id for the request (stable, not PHI).
    `request` is the validated request; `bundle` is exactly the PAS request Bundle the EHR
    sent (JSON bytes), for adapters that forward FHIR unchanged. `attachments` are the documents
    the Bundle carries for the payer (a PASClaimUpdate answering an information request, in
    `Claim.supportingInfo` `additionalInformation`); they are in `bundle` too.
    """

    authorization_id: str
    request: PriorAuthRequest
    bundle: bytes
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class PayerReference:
    """A request already sent to the payer, for `inquire` and `cancel`.

    `payer_reference` is what the adapter returned in `PayerReply.payer_reference` (None if
    the payer never answered, e.g. after a timeout). `request` and `bundle` are the request
    as submitted; for `cancel` prompted by an EHR cancellation, `bundle` is the Bundle that
    asked for the cancellation. `attachments` are the documents the provider sent for the
    request (for `submit_attachment`: the ones to send now; for `inquire`: all so far).
    """

    authorization_id: str
    payer_reference: str | None
    request: PriorAuthRequest
    bundle: bytes
    attachments: tuple[Attachment, ...] = ()


@runtime_checkable
class PayerAdapter(Protocol):
    """What the service needs from a payer. Every method raises only `PayerError`s."""

    @property
    def contract_version(self) -> int:
        """The contract version the adapter was built for (a plain class attribute will do)."""
        ...

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        """Send a request; return the payer's decisions (pended items carry action A4)."""
        ...

    async def inquire(self, reference: PayerReference) -> PayerReply:
        """Ask the payer for its current decisions on a request sent before."""
        ...

    async def cancel(self, reference: PayerReference) -> PayerReply:
        """Withdraw a request; idempotent. Cancelled items carry action C."""
        ...

    async def aclose(self) -> None:
        """Release resources the adapter owns (not the shared http client)."""
        ...


@runtime_checkable
class AttachmentReceiver(Protocol):
    """The optional method of an adapter whose payer takes documents on their own (CDex)."""

    async def submit_attachment(self, reference: PayerReference) -> PayerReply:
        """Send `reference.attachments` for a request sent before; return the payer's current answer
        (a payer that decides once the documents arrive answers its decision; otherwise pended)."""
        ...


def receives_attachments(adapter: PayerAdapter) -> bool:
    """Whether the adapter has `submit_attachment` (else documents go to the payer through `inquire`)."""
    return isinstance(adapter, AttachmentReceiver)


def answers_in_process(adapter: PayerAdapter) -> bool:
    """Whether the adapter decides without any I/O (it sets the class attribute `answers_in_process = True`,
    as the sandbox does). The service then records its answer in the same transaction as the request:
    one commit. Adapters that talk to a payer leave it unset, so the request is committed before the call."""
    return getattr(adapter, "answers_in_process", False) is True


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the registry injects into an adapter factory."""

    payer_id: str
    http: httpx.AsyncClient  # shared; adapters never close it
    clock: Clock = utc_now
    sleep: Sleep = asyncio.sleep
    config_dir: Path | None = None  # folder of the payer configuration file, for relative paths
    extra: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, path: Path) -> Path:
        """A path from the settings, relative to the payer configuration file when not absolute."""
        if path.is_absolute() or self.config_dir is None:
            return path
        return self.config_dir / path


class AdapterFactory(Protocol):
    """Builds an adapter; registered under the `epa.payers` entry-point group.

    A function, or the adapter class itself. A factory with a `contract_version` attribute
    (an adapter class has one) is checked before it is called, any other once it returned.

    Validate `settings` with your own pydantic model (`MySettings.model_validate(settings)`);
    a `pydantic.ValidationError` becomes a one-line configuration error naming the payer and
    the field. Raise nothing else for bad settings.
    """

    def __call__(self, settings: Mapping[str, Any], context: AdapterContext, /) -> PayerAdapter: ...


__all__ = [
    "CONTRACT_VERSION",
    "AdapterContext",
    "AdapterFactory",
    "AttachmentReceiver",
    "Clock",
    "PayerAdapter",
    "PayerReference",
    "PayerSubmission",
    "Sleep",
    "receives_attachments",
    "utc_now",
]
