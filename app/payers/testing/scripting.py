"""What a harness is asked for: scripts saying how the payer must answer (`Decide`, `Fail`,
`AppealScript`) and the Protocols of the harness that puts an adapter in that situation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from app.payers.sdk import ItemDecision, PayerAdapter
from app.payers.testing.faults import FaultKind


@dataclass(frozen=True, slots=True)
class Decide:
    """The payer decides `decisions` on submit, and `on_inquire` (default: the same) on inquire."""

    decisions: tuple[ItemDecision, ...]
    on_inquire: tuple[ItemDecision, ...] | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    """The payer fails: unreachable, too slow, rejects with an OperationOutcome, or answers garbage."""

    kind: FaultKind


class ContractHarness(Protocol):
    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None: ...


@dataclass(frozen=True, slots=True)
class AppealScript:
    """The payer answers an appeal with `outcome` (approved or denied), first pended when `pended_first`
    (then `appeal_status` brings the outcome), or fails with `fault`."""

    outcome: Literal["approved", "denied"] = "approved"
    pended_first: bool = False
    fault: FaultKind | None = None


class AppealHarness(Protocol):
    """The optional harness method for adapters that send appeals."""

    def make_appealing_adapter(self, script: AppealScript) -> PayerAdapter | None: ...


def describe(script: Decide | Fail) -> str:
    """A script in words, for the reason of a skipped test."""
    if isinstance(script, Fail):
        return f"fail ({script.kind})"
    actions = ", ".join(d.action.value for d in script.decisions)
    then = f", then {', '.join(d.action.value for d in script.on_inquire)}" if script.on_inquire else ""
    return f"decide {actions}{then}"
