"""The 278 loop and segment tables (`tables.toml`), read once into typed, frozen form.

The codec's knowledge of the 005010X217 layout that is plain lookup (HL level codes, entity codes,
certification types, service segments per code system, diagnosis qualifiers, response dates) lives in
the TOML file, so a payer's companion guide quirk is a data edit. Codes only: X12 owns the descriptions.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from app.domain.codes import ReviewAction


@dataclass(frozen=True, slots=True)
class Loop:
    """One HL loop of the 278: its level code, its name loop and the NM101 entity code of that name."""

    loop_id: str
    hl: str
    name_loop: str
    entity: str | None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Which 2000F service segment (SV1/SV2/SV3) a code system goes in, with its product qualifier."""

    segment: str
    qualifier: str


@dataclass(frozen=True, slots=True)
class Envelope:
    version: str
    implementation: str
    inquiry_implementation: str
    functional_group: str
    transaction_set: str
    bht_structure: str
    bht_request: str
    bht_response: str
    repetition: str
    element: str
    component: str
    segment: str


@dataclass(frozen=True, slots=True)
class Tables:
    envelope: Envelope
    loops: MappingProxyType[str, Loop]  # by loop id (2000A ...)
    loops_by_hl: MappingProxyType[str, Loop]  # by HL03
    certification_types: MappingProxyType[str, str]
    request_categories: MappingProxyType[str, str]
    service_lines: MappingProxyType[str, ServiceLine]
    diagnosis_qualifiers: MappingProxyType[str, tuple[str, str]]
    genders: MappingProxyType[str, str]
    review_actions: MappingProxyType[str, ReviewAction]
    response_dates: MappingProxyType[str, str]
    code_systems: MappingProxyType[str, str]


def _frozen(mapping: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(mapping))


def parse_tables(data: dict[str, Any]) -> Tables:
    """Typed tables from the TOML document (a KeyError or TypeError means the file is malformed)."""
    loops = {
        loop_id: Loop(loop_id, row["hl"], row["name_loop"], row.get("entity")) for loop_id, row in data["loops"].items()
    }
    return Tables(
        envelope=Envelope(**data["envelope"]),
        loops=_frozen(loops),
        loops_by_hl=_frozen({loop.hl: loop for loop in loops.values()}),
        certification_types=_frozen(data["certification_types"]),
        request_categories=_frozen(data["request_categories"]),
        service_lines=_frozen({k: ServiceLine(**v) for k, v in data["service_lines"].items()}),
        diagnosis_qualifiers=_frozen({k: (v[0], v[1]) for k, v in data["diagnosis_qualifiers"].items()}),
        genders=_frozen(data["genders"]),
        review_actions=_frozen({k: ReviewAction(v) for k, v in data["review_actions"].items()}),
        response_dates=_frozen(data["response_dates"]),
        code_systems=_frozen(data["code_systems"]),
    )


@cache
def tables() -> Tables:
    """The shipped tables (read once per process)."""
    text = files("app.payers.x12_278").joinpath("tables.toml").read_text(encoding="utf-8")
    return parse_tables(tomllib.loads(text))
