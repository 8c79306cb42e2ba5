"""The sandbox payer's rules: which request gets which outcome. Pure data and matching.

A rules file (TOML) looks like this; see docs/payer-adapters.md for the shipped defaults:

    default = "approve"                  # outcome when no rule matches
    # force = "deny"                     # operator override for every request (identical Bundles)

    [[rule]]                             # first matching rule wins; every given field must match
    code = ["A9270"]                     # productOrService code(s)
    member = ["M-123"]                   # Coverage member id(s)
    bundle = ["B56789"]                  # Bundle.identifier value(s)
    quantity_min = 1                     # requested quantity range
    quantity_max = 10
    outcome = "deny"                     # approve deny pend modify partial not-required request-info
    reason_code = "A9"                   # an X12 886 code (and unavailable timeout reject to simulate faults)
    reason_text = "Not a covered benefit"

    [release."sbx1-0a1b2c3d4e-1718000000-hold"]   # operator releases a pended request
    outcome = "approve"

    [[appeal]]                           # appeals: see app.payers.sandbox.appeals
    reason_contains = ["upheld"]
    outcome = "deny"
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.codes import X12_886_SYSTEM
from app.domain.model import PriorAuthRequest, ServiceItem
from app.payers.sandbox.appeals import AppealOutcomeName, AppealRule

OutcomeName = Literal[
    "approve",
    "deny",
    "pend",
    "modify",
    "partial",
    "not-required",
    "unavailable",
    "timeout",
    "reject",
    "request-info",
]
FAULTS: frozenset[str] = frozenset({"unavailable", "timeout", "reject"})
SANDBOX_REASON_SYSTEM = X12_886_SYSTEM  # the sandbox answers X12 278 review decision reason codes


def _outcome_from_string(value: Any) -> Any:
    return {"outcome": value} if isinstance(value, str) else value


class Outcome(BaseModel):
    """What the sandbox answers for an item, with the details the outcome needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: OutcomeName
    reason_code: str | None = None  # deny / modify / partial: a reason code (reason_system)
    reason_system: str = SANDBOX_REASON_SYSTEM
    reason_text: str | None = None
    after_seconds: float | None = Field(default=None, ge=0)  # pend: decide after; None = wait for release
    then: Outcome | None = None  # pend: the later decision (approve when not given)
    authorized_quantity: Decimal | None = Field(default=None, gt=0)  # modify / partial
    authorized_days: int | None = Field(default=None, gt=0)  # modify: length of the authorized period
    authorized_code: str | None = None  # modify: the service authorized instead
    authorized_system: str | None = None
    retry_after_seconds: float | None = Field(default=None, ge=0)  # faults: the payer's Retry-After
    # request-info: pend and ask for documents (LOINC codes, text, due in days); `then` once they arrive
    info_codes: tuple[str, ...] = ()
    info_system: str = "http://loinc.org"
    info_text: str | None = None
    info_due_days: float = Field(default=7, gt=0)
    info_questionnaire: str | None = None  # a questionnaire canonical to answer (DTR; docs/dtr.md)

    @field_validator("then", mode="before")
    @classmethod
    def _then_from_string(cls, value: Any) -> Any:
        return _outcome_from_string(value)

    @model_validator(mode="after")
    def _then_is_final(self) -> Outcome:
        if self.then is not None and self.then.outcome in ("pend", "request-info"):
            raise ValueError("a pended outcome cannot be followed by another pend")
        return self

    @property
    def later(self) -> Outcome:
        """The decision a pend turns into."""
        return self.then or Outcome(outcome="approve")


def _as_tuple(value: Any) -> Any:
    if isinstance(value, str | int):
        return (str(value),)
    return value


class Rule(Outcome):
    """An outcome with conditions; every condition given must hold."""

    code: tuple[str, ...] | None = None
    member: tuple[str, ...] | None = None
    bundle: tuple[str, ...] | None = None
    quantity_min: Decimal | None = None
    quantity_max: Decimal | None = None

    @field_validator("code", "member", "bundle", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_tuple(value)

    def applies(self, request: PriorAuthRequest, item: ServiceItem) -> bool:
        if self.code is not None and item.product_or_service.code not in self.code:
            return False
        if self.member is not None and (request.member_id is None or request.member_id.value not in self.member):
            return False
        if self.bundle is not None and request.bundle_identifier.value not in self.bundle:
            return False
        quantity = item.quantity if item.quantity is not None else Decimal(1)
        if self.quantity_min is not None and quantity < self.quantity_min:
            return False
        return self.quantity_max is None or quantity <= self.quantity_max


class SandboxRules(BaseModel):
    """A whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Outcome = Outcome(outcome="approve")
    force: Outcome | None = None
    rule: tuple[Rule, ...] = ()
    release: dict[str, Outcome] = Field(default_factory=dict)
    appeal: tuple[AppealRule, ...] = ()
    appeal_default: AppealOutcomeName = "approve"

    @field_validator("default", "force", mode="before")
    @classmethod
    def _outcome_strings(cls, value: Any) -> Any:
        return _outcome_from_string(value)

    @field_validator("release", mode="before")
    @classmethod
    def _release_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _outcome_from_string(v) for key, v in value.items()}
        return value

    def outcome_for(self, request: PriorAuthRequest, item: ServiceItem) -> Outcome:
        """The outcome for one item: `force`, else the first matching rule, else `default`."""
        if self.force is not None:
            return self.force
        for rule in self.rule:
            if rule.applies(request, item):
                return rule
        return self.default

    def outcomes(self, request: PriorAuthRequest) -> Sequence[tuple[ServiceItem, Outcome]]:
        return [(item, self.outcome_for(request, item)) for item in request.items]
