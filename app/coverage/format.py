"""The coverage rules file format (TOML, format 1), validated with pydantic.

One file holds the rules of one or more payers (`payers = [...]`, payer ids from the payers
file). Rules are tried in file order; the first whose codes, effective dates and conditions all
match an item decides it. Gold-card exemptions are checked after a rule says authorization is
needed. docs/coverage-rules.md describes every field with the shipped sample.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.coverage.codes import CodeFamily, CodeSpec
from app.domain.codes import X12_886_SYSTEM, AuthorizationKind

FORMAT_VERSION = 1

Coverage = Literal["covered", "not-covered", "conditional"]
Authorization = Literal["required", "not-required", "performing-provider"]
DocumentKind = Literal["clinical", "administrative"]
OnFindings = Literal["warn", "refuse"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clocks(_Strict):
    """Decision windows, approval validity and the retrospective window (each optional)."""

    standard_window_days: float | None = Field(default=None, gt=0)
    expedited_window_hours: float | None = Field(default=None, gt=0)
    drug_standard_window_hours: float | None = Field(default=None, gt=0)  # items that are drugs (app.coverage.drugs)
    drug_expedited_window_hours: float | None = Field(default=None, gt=0)
    validity_days: int | None = Field(default=None, gt=0)
    retro_window_days: int | None = Field(default=None, ge=0)


class Conditions(_Strict):
    """When a rule applies, beyond its codes (every given condition must hold)."""

    place_of_service: tuple[str, ...] = ()  # CMS place-of-service codes ("11", "22", ...)
    diagnosis: tuple[str, ...] = ()  # ICD-10-CM codes, or prefixes ending in "*"
    quantity_over: Decimal | None = Field(default=None, ge=0)
    network: Literal["in", "out"] | None = None  # the performing/requesting NPI in `in_network`?
    age_min: int | None = Field(default=None, ge=0)
    age_max: int | None = Field(default=None, ge=0)
    kinds: tuple[AuthorizationKind, ...] = ()
    specialty: tuple[str, ...] = ()  # provider taxonomy codes (NUCC) of the care team


class Document(_Strict):
    """A document the rule needs; present when the Bundle carries `code` (supportingInfo category or document type)."""

    kind: DocumentKind
    code: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=300)


class Rule(Clocks):
    """What the payer requires for some codes (or service types) under some conditions."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    program: str | None = Field(default=None, max_length=200)
    system: CodeFamily = "hcpcs"
    codes: tuple[str, ...] = ()
    service_types: tuple[str, ...] = ()  # X12 1365 categories: the whole category
    when: Conditions = Conditions()
    coverage: Coverage = "covered"
    authorization: Authorization = "required"
    documentation: tuple[Document, ...] = ()
    referral: bool = False
    effective_from: date | None = None
    effective_to: date | None = None
    reason: str | None = Field(default=None, max_length=300)
    reason_code: str | None = Field(default=None, max_length=32)
    info_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    # DTR questionnaires documenting this service, `url|version` (app/coverage/questionnaires, docs/dtr.md)
    questionnaire: tuple[Annotated[str, Field(pattern=r"^https?://\S+\|\S+$", max_length=255)], ...] = ()

    @field_validator("codes")
    @classmethod
    def _valid_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            CodeSpec.parse(text)  # raises ValueError naming the bad code or range
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if not self.codes and not self.service_types:
            raise ValueError("a rule needs `codes` or `service_types`")
        if self.coverage == "not-covered" and not self.reason:
            raise ValueError("a not-covered rule needs a `reason` (denials carry a specific reason)")
        if self.effective_from and self.effective_to and self.effective_from > self.effective_to:
            raise ValueError("effective_from is after effective_to")
        return self

    @property
    def code_specs(self) -> tuple[CodeSpec, ...]:
        return tuple(CodeSpec.parse(c) for c in self.codes)


class GoldCard(_Strict):
    """A provider exempt from authorization for some codes, between two dates."""

    npi: str = Field(pattern=r"^[0-9]{10}$")
    codes: tuple[str, ...] = Field(min_length=1)
    effective_from: date
    effective_to: date
    note: str | None = Field(default=None, max_length=200)

    @field_validator("codes")
    @classmethod
    def _valid_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            CodeSpec.parse(text)
        return value

    @property
    def code_specs(self) -> tuple[CodeSpec, ...]:
        return tuple(CodeSpec.parse(c) for c in self.codes)


class StateClocks(Clocks):
    """Decision windows a state's law sets for requests from providers in that state (over `[defaults]`)."""

    states: tuple[str, ...] = Field(min_length=1)  # USPS codes (BundleFacts.service_state)
    source: str = Field(min_length=1, max_length=300)  # the law, cited in the docs and summaries

    @field_validator("states")
    @classmethod
    def _valid_states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for state in value:
            if len(state) != 2 or not state.isalpha() or not state.isupper():
                raise ValueError(f"state {state!r} is not a two-letter USPS code (e.g. TX)")
        return value


class RulesFile(_Strict):
    """A whole rules file."""

    format: Literal[1]
    version: str = Field(min_length=1, max_length=64)  # the content's own version, echoed in answers
    payers: tuple[str, ...] = Field(min_length=1)
    on_findings: OnFindings = "warn"  # $submit: pre-submission findings warn (processNote) or refuse (422)
    in_network: tuple[str, ...] = ()  # NPIs in the payer's network (for `when.network`)
    reason_system: str = X12_886_SYSTEM  # system of rules' reason_code: X12 278 review decision reasons
    defaults: Clocks = Clocks()
    rule: tuple[Rule, ...] = ()
    gold_card: tuple[GoldCard, ...] = ()
    state_clocks: tuple[StateClocks, ...] = ()  # first entry naming the provider's state applies
    drug_clock_exempt_plan_types: tuple[str, ...] = ()  # Coverage.type codes whose drugs get medical clocks

    @model_validator(mode="after")
    def _unique_ids(self) -> RulesFile:
        seen: set[str] = set()
        for rule in self.rule:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self
