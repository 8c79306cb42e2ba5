"""The payer adapter SDK: every name an adapter package needs from the hub, from one module.

    from app.payers.sdk import AdapterContext, ItemDecision, PayerReply, ReviewAction, ...

    class MyAdapter:
        contract_version = 1                      # the contract this adapter was built for
        async def submit(self, submission: PayerSubmission) -> PayerReply: ...
        async def inquire(self, reference: PayerReference) -> PayerReply: ...
        async def cancel(self, reference: PayerReference) -> PayerReply: ...
        async def aclose(self) -> None: ...

What is here, by where it is defined (the definitions stay in their layers; this module only
gathers them, so an adapter never imports the hub's internals):

- the contract (`app.payers.contract`): `CONTRACT_VERSION`, `PayerAdapter`, `AdapterFactory`,
  `AdapterContext` with `Clock`, `Sleep`, `utc_now`; the calls' arguments `PayerSubmission`
  and `PayerReference`;
- its optional appeal part (`app.payers.appeals`): `AppealingAdapter`, `PayerAppeal`,
  `AppealReference`, `AppealDocument`, `AppealReply`, `AppealOutcome`, `PeerToPeer`, `supports_appeals`;
- what an adapter returns (`app.domain.model`, `app.domain.codes`): `PayerReply`,
  `ItemDecision`, `ReviewAction`, `Coding`, `Period`;
- what it reads (`app.domain.model`, `app.domain.codes`): `PriorAuthRequest`, `ServiceItem`,
  `Diagnosis`, `Identifier`, `AuthorizationKind`, `Priority`;
- what it raises (`app.payers.errors`, `app.errors`, `app.payers.config`): `PayerError` and its
  subclasses `PayerUnavailable`, `PayerTimeout`, `PayerRejected` (with `Issue`s),
  `PayerProtocolError`; `PayerConfigError` from a factory for settings pydantic cannot check.

The contract kit for an adapter's tests is `app.payers.testing` (it needs pytest). `__all__`
is pinned by tests/payers/test_sdk.py: changing it is a change to the public surface, and
docs/payer-adapters.md lists every name.
"""

from __future__ import annotations

from app.domain.codes import AuthorizationKind, Priority, ReviewAction
from app.domain.model import (
    Attachment,
    Coding,
    Diagnosis,
    Identifier,
    InformationRequest,
    ItemDecision,
    PayerReply,
    Period,
    PriorAuthRequest,
    ServiceItem,
)
from app.errors import Issue
from app.payers.appeals import (
    AppealDocument,
    AppealingAdapter,
    AppealOutcome,
    AppealReference,
    AppealReply,
    PayerAppeal,
    PeerToPeer,
    supports_appeals,
)
from app.payers.config import PayerConfigError
from app.payers.contract import (
    CONTRACT_VERSION,
    AdapterContext,
    AdapterFactory,
    AttachmentReceiver,
    Clock,
    PayerAdapter,
    PayerReference,
    PayerSubmission,
    Sleep,
    utc_now,
)
from app.payers.errors import PayerError, PayerProtocolError, PayerRejected, PayerTimeout, PayerUnavailable

__all__ = [
    "CONTRACT_VERSION",
    "AdapterContext",
    "AdapterFactory",
    "AppealDocument",
    "AppealOutcome",
    "AppealReference",
    "AppealReply",
    "AppealingAdapter",
    "Attachment",
    "AttachmentReceiver",
    "AuthorizationKind",
    "Clock",
    "Coding",
    "Diagnosis",
    "Identifier",
    "InformationRequest",
    "Issue",
    "ItemDecision",
    "PayerAdapter",
    "PayerAppeal",
    "PayerConfigError",
    "PayerError",
    "PayerProtocolError",
    "PayerReference",
    "PayerRejected",
    "PayerReply",
    "PayerSubmission",
    "PayerTimeout",
    "PayerUnavailable",
    "PeerToPeer",
    "Period",
    "PriorAuthRequest",
    "Priority",
    "ReviewAction",
    "ServiceItem",
    "Sleep",
    "supports_appeals",
    "utc_now",
]
