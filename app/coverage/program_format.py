"""The exemptions and program routing registry format (TOML, format 1), validated with pydantic.

A registry file lists, each entry with its source and effective dates:
- `[[exemption]]`: providers (NPIs) exempt from prior authorization for some codes, for some
  payers and/or states: a state gold-card law, a payer's own gold-card list, a CMS exemption.
- `[[routing]]`: a program that sends some services, for a payer and some states, to a named
  review contractor (a payer id of the payers file, so its adapter gets the request).
Loaded by app.coverage.program_loader; matched by app.coverage.programs (pure).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.coverage.codes import CodeFamily, CodeSpec

ExemptionKind = Literal["state-gold-card", "payer-gold-card", "cms-exemption"]
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Entry(_Strict):
    """What exemptions and routings share: an id, codes, where they apply, their source and dates."""

    id: str = Field(min_length=1, max_length=64, pattern=_ID)
    system: CodeFamily = "hcpcs"
    codes: tuple[str, ...] = Field(min_length=1)  # codes, or inclusive ranges of equal-length codes
    payers: tuple[str, ...] = ()  # payer ids of the payers file; empty: every payer
    states: tuple[str, ...] = ()  # USPS state codes of the provider; empty: every state
    source: str = Field(min_length=1, max_length=300)  # the law, program or list, cited in answers
    source_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    effective_from: date
    effective_to: date | None = None

    @field_validator("codes")
    @classmethod
    def _valid_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            CodeSpec.parse(text)  # raises ValueError naming the bad code or range
        return value

    @field_validator("states")
    @classmethod
    def _valid_states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for state in value:
            if len(state) != 2 or not state.isalpha() or not state.isupper():
                raise ValueError(f"state {state!r} is not a two-letter USPS code (e.g. TX)")
        return value

    @model_validator(mode="after")
    def _dates(self) -> _Entry:
        if self.effective_to is not None and self.effective_from > self.effective_to:
            raise ValueError("effective_from is after effective_to")
        return self

    @property
    def code_specs(self) -> tuple[CodeSpec, ...]:
        return tuple(CodeSpec.parse(c) for c in self.codes)


class Exemption(_Entry):
    """Providers exempt from prior authorization for some codes (a gold card or a CMS exemption)."""

    kind: ExemptionKind
    npis: tuple[str, ...] = Field(min_length=1)
    note: str | None = Field(default=None, max_length=200)

    @field_validator("npis")
    @classmethod
    def _valid_npis(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for npi in value:
            if len(npi) != 10 or not npi.isdigit():
                raise ValueError(f"NPI {npi!r} is not 10 digits")
        return value


class Routing(_Entry):
    """A program sending some services (for some payers and states) to a review contractor."""

    program: str = Field(min_length=1, max_length=200)
    adapter: str = Field(min_length=1, pattern=_ID)  # the payer id (payers file) of the contractor
    contractor: str = Field(min_length=1, max_length=200)  # its name, as answers show it


class ProgramsFile(_Strict):
    """A whole registry file (ids unique across every file: checked by the loader, which knows the lines)."""

    format: Literal[1]
    version: str = Field(min_length=1, max_length=64)
    sample: bool = False  # true for sample data (the shipped file): shown in GET /coverage-rules
    exemption: tuple[Exemption, ...] = ()
    routing: tuple[Routing, ...] = ()
