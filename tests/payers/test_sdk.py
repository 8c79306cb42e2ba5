"""The adapter SDK (`app.payers.sdk`) is one import surface: pinned, complete, and documented."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path

import app.payers.sdk as sdk
import app.payers.testing as kit
from app.payers.sdk import (
    CONTRACT_VERSION,
    AdapterContext,
    AdapterFactory,
    AppealDocument,
    AppealingAdapter,
    AppealOutcome,
    AppealReference,
    AppealReply,
    AuthorizationKind,
    Clock,
    Coding,
    Diagnosis,
    Identifier,
    Issue,
    ItemDecision,
    PayerAdapter,
    PayerAppeal,
    PayerConfigError,
    PayerError,
    PayerProtocolError,
    PayerReference,
    PayerRejected,
    PayerReply,
    PayerSubmission,
    PayerTimeout,
    PayerUnavailable,
    PeerToPeer,
    Period,
    PriorAuthRequest,
    Priority,
    ReviewAction,
    ServiceItem,
    Sleep,
    supports_appeals,
    utc_now,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "payer-adapters.md"

# Changing this set changes the public surface adapter packages build on: bump
# CONTRACT_VERSION when a name goes away or changes meaning, and update docs/payer-adapters.md.
SURFACE = {
    "CONTRACT_VERSION": CONTRACT_VERSION,
    "AdapterContext": AdapterContext,
    "AdapterFactory": AdapterFactory,
    "Attachment": sdk.Attachment,
    "AttachmentReceiver": sdk.AttachmentReceiver,
    "AuthorizationKind": AuthorizationKind,
    "Clock": Clock,
    "Coding": Coding,
    "Diagnosis": Diagnosis,
    "Identifier": Identifier,
    "InformationRequest": sdk.InformationRequest,
    "Issue": Issue,
    "ItemDecision": ItemDecision,
    "PayerAdapter": PayerAdapter,
    "PayerConfigError": PayerConfigError,
    "PayerError": PayerError,
    "PayerProtocolError": PayerProtocolError,
    "PayerReference": PayerReference,
    "PayerRejected": PayerRejected,
    "PayerReply": PayerReply,
    "PayerSubmission": PayerSubmission,
    "PayerTimeout": PayerTimeout,
    "PayerUnavailable": PayerUnavailable,
    "Period": Period,
    "PriorAuthRequest": PriorAuthRequest,
    "Priority": Priority,
    "ReviewAction": ReviewAction,
    "ServiceItem": ServiceItem,
    "Sleep": Sleep,
    "utc_now": utc_now,
    "AppealingAdapter": AppealingAdapter,
    "PayerAppeal": PayerAppeal,
    "AppealReference": AppealReference,
    "AppealDocument": AppealDocument,
    "AppealReply": AppealReply,
    "AppealOutcome": AppealOutcome,
    "PeerToPeer": PeerToPeer,
    "supports_appeals": supports_appeals,
}
KIT = {
    "FAULT_ERRORS",
    "ROUND_TRIPS",
    "AdapterContractSuite",
    "ContractHarness",
    "Decide",
    "Fail",
    "FaultKind",
    "assert_decisions",
    "sample_bundle",
    "sample_request",
    "AppealScript",
    "AppealHarness",
}


def test_the_surface_is_pinned() -> None:
    assert sorted(sdk.__all__) == sorted(SURFACE)
    assert len(sdk.__all__) == len(set(sdk.__all__))
    assert {name: getattr(sdk, name) for name in sdk.__all__} == SURFACE
    assert CONTRACT_VERSION == 1


def test_the_contract_kit_surface_is_pinned() -> None:
    assert set(kit.__all__) == KIT
    assert all(hasattr(kit, name) for name in kit.__all__)


def _hub_types(hint: object) -> set[type]:
    """The classes from the hub's own packages that a type hint mentions (recursively through generics)."""
    found: set[type] = set()
    if isinstance(hint, type) and hint.__module__.split(".")[0] == "app":
        found.add(hint)
    for arg in typing.get_args(hint):
        found |= _hub_types(arg)
    return found


def _reachable() -> set[type]:
    """Every hub class an adapter meets: in the contract's signatures and the fields of what they carry."""
    todo: list[type] = [PayerAdapter, AppealingAdapter, AdapterFactory, AdapterContext, PayerRejected, PayerError]
    seen: set[type] = set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        hints: list[object] = []
        if dataclasses.is_dataclass(cls):
            hints += typing.get_type_hints(cls).values()
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") and name not in {"__call__", "__init__"}:
                continue
            target = member.fget if isinstance(member, property) else member
            if inspect.isfunction(target):
                hints += typing.get_type_hints(target).values()
        for hint in hints:
            todo += _hub_types(hint)
    return seen


def test_every_type_an_adapter_meets_is_on_the_surface() -> None:
    exported = {value for value in SURFACE.values() if isinstance(value, type)}
    missing = {f"{cls.__module__}.{cls.__qualname__}" for cls in _reachable() - exported}
    assert not missing, f"reachable from the contract but not in app.payers.sdk: {sorted(missing)}"
    assert {PriorAuthRequest, ServiceItem, Diagnosis, Period, Coding, Identifier, ReviewAction, Issue} <= _reachable()


def test_every_name_is_documented_with_its_import_path() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert "from app.payers.sdk import" in text
    assert "from app.payers.testing import" in text
    undocumented = [name for name in [*SURFACE, *KIT] if not re.search(rf"`{name}[`(]", text)]
    assert not undocumented, f"docs/payer-adapters.md does not name {undocumented}"
