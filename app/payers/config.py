"""The payer configuration file (TOML) and its one-line configuration error.

[[payer]]
id = "acme"                       # unique payer id (used in logs, storage, metrics)
adapter = "fhir-pas"              # an adapter name from the `epa.payers` entry points
match = ["http://hl7.org/fhir/sid/us-npi|1234567893", "ACME-01"]   # system|value, or value only
default = false                   # true: also takes requests no identifier matched
standard_window_days = 7          # decision clocks (CMS-0057-F defaults)
expedited_window_hours = 72
approval_validity_days = 180      # when the payer gives no period
appeal_expedited_window_hours = 72  # appeal deadlines (42 CFR 422.590 / 438.408 defaults)
appeal_standard_window_days = 30
[payer.settings]                  # the adapter's own settings, validated by its model
base_url = "https://pas.acme.example/fhir"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.domain.clocks import DecisionWindows
from app.domain.model import Identifier

DEFAULT_PAYERS_RESOURCE = "default_payers.toml"


class PayerConfigError(Exception):
    """The payer configuration cannot be used. `str(error)` is one line naming what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True, slots=True)
class MatchPattern:
    """An identifier pattern: `system|value`, or `value` alone to match any system."""

    system: str | None
    value: str

    @classmethod
    def parse(cls, text: str) -> MatchPattern:
        system, sep, value = text.rpartition("|")
        if not sep:
            return cls(system=None, value=text)
        return cls(system=system or None, value=value)

    def matches(self, identifier: Identifier) -> bool:
        if identifier.value != self.value:
            return False
        return self.system is None or identifier.system == self.system

    def __str__(self) -> str:
        return self.value if self.system is None else f"{self.system}|{self.value}"


class PayerConfig(BaseModel):
    """One `[[payer]]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    adapter: str = Field(min_length=1)
    match: tuple[str, ...] = ()
    default: bool = False
    standard_window_days: float = Field(default=7, gt=0)
    expedited_window_hours: float = Field(default=72, gt=0)
    drug_standard_window_hours: float = Field(default=72, gt=0)  # medical-benefit drugs
    drug_expedited_window_hours: float = Field(default=24, gt=0)
    approval_validity_days: int = Field(default=180, gt=0)
    settings: dict[str, Any] = Field(default_factory=dict)
    appeal_expedited_window_hours: float = Field(default=72, gt=0)
    appeal_standard_window_days: float = Field(default=30, gt=0)
    dtr_endpoint: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=2048)  # own DTR (docs/dtr.md)

    @field_validator("match")
    @classmethod
    def _non_empty_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not MatchPattern.parse(pattern).value:
                raise ValueError(f"empty identifier value in match pattern {pattern!r}")
        return value

    @property
    def patterns(self) -> tuple[MatchPattern, ...]:
        return tuple(MatchPattern.parse(p) for p in self.match)

    @property
    def windows(self) -> DecisionWindows:
        return DecisionWindows(
            expedited=timedelta(hours=self.expedited_window_hours),
            standard=timedelta(days=self.standard_window_days),
            drug_expedited=timedelta(hours=self.drug_expedited_window_hours),
            drug_standard=timedelta(hours=self.drug_standard_window_hours),
        )


class PayersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payer: tuple[PayerConfig, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    payers: tuple[PayerConfig, ...]
    config_dir: Path | None
    source: str


def describe_validation_error(error: ValidationError) -> str:
    """Every problem of a pydantic error as `field: message`, on one line (`; ` between them)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or '(root)'}: {problem['msg']}" for problem in error.errors()
    )


def _payer_hint(raw: Mapping[str, Any], error: ValidationError) -> str:
    loc = error.errors()[0]["loc"]
    payers = raw.get("payer")
    if len(loc) >= 2 and loc[0] == "payer" and isinstance(loc[1], int) and isinstance(payers, list | tuple):
        index = loc[1]
        entry = payers[index] if index < len(payers) else None
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            return f"payer {entry['id']!r}: "
    return ""


def load_config(source: Path | str | Mapping[str, Any] | None) -> LoadedConfig:
    """Read and validate the payer configuration; None means the shipped development default."""
    config_dir: Path | None = None
    raw: Mapping[str, Any]
    if source is None:
        text = resources.files("app.payers").joinpath(DEFAULT_PAYERS_RESOURCE).read_text(encoding="utf-8")
        name = f"app/payers/{DEFAULT_PAYERS_RESOURCE}"
        raw = _parse_toml(text, name)
    elif isinstance(source, Mapping):
        raw, name = source, "payer configuration"
    else:
        path = Path(source)
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PayerConfigError(f"payers file {name}: cannot be read ({exc.strerror or exc})") from None
        raw = _parse_toml(text, name)
        config_dir = path.resolve().parent
    try:
        parsed = PayersFile.model_validate(raw)
    except ValidationError as exc:
        raise PayerConfigError(f"payers file {name}: {_payer_hint(raw, exc)}{describe_validation_error(exc)}") from None
    return LoadedConfig(payers=parsed.payer, config_dir=config_dir, source=name)


def _parse_toml(text: str, name: str) -> Mapping[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PayerConfigError(f"payers file {name}: invalid TOML ({exc})") from None


def appeal_windows(payer: PayerConfig) -> DecisionWindows:
    """The payer's appeal deadlines (expedited and standard)."""
    return DecisionWindows(
        expedited=timedelta(hours=payer.appeal_expedited_window_hours),
        standard=timedelta(days=payer.appeal_standard_window_days),
    )
