"""The interchange around a transaction set: ISA/GS/ST ... SE/GE/IEA with their counts and control
numbers, and the X12 date, time and number formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from app.payers.x12_278.segments import Segment, segment
from app.payers.x12_278.tables import tables

Usage = Literal["T", "P"]


@dataclass(frozen=True, slots=True)
class Parties:
    """Who the interchange goes between (the payers file's `sender_id`, `receiver_id`, `payer_id`, `usage`)."""

    sender_id: str
    receiver_id: str
    payer_id: str
    payer_name: str | None = None
    usage: Usage = "T"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    trace_company_id: str = "9EPAHUB000"  # TRN03: "9" + a 9-character id of the hub as trace assigner


@dataclass(frozen=True, slots=True)
class Control:
    """The control numbers of one interchange (unique per sender: see `control.py`) and its time."""

    interchange: int  # ISA13, 1..999999999
    group: int  # GS06
    at: datetime
    transaction: str = "0001"  # ST02


def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def number(value: Decimal | int) -> str:
    """An X12 R (decimal) value: no exponent, no trailing zeros."""
    text = format(Decimal(value).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def wrap(body: Sequence[Segment], parties: Parties, control: Control, implementation: str) -> list[Segment]:
    """ISA, GS, ST + `body` + SE, GE, IEA, with the SE segment count and the control numbers."""
    env = tables().envelope
    when = control.at
    isa_values = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        parties.sender_qualifier,
        parties.sender_id.ljust(15)[:15],
        parties.receiver_qualifier,
        parties.receiver_id.ljust(15)[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        env.repetition,
        env.version,
        f"{control.interchange:09d}",
        "0",
        parties.usage,
        env.component,
    ]
    isa = Segment("ISA", tuple((v,) for v in isa_values))
    gs = segment(
        "GS",
        env.functional_group,
        parties.sender_id,
        parties.receiver_id,
        d8(when),
        when.strftime("%H%M"),
        str(control.group),
        "X",
        implementation,
    )
    st = segment("ST", env.transaction_set, control.transaction, implementation)
    se = segment("SE", str(len(body) + 2), control.transaction)
    ge = segment("GE", "1", str(control.group))
    iea = segment("IEA", "1", f"{control.interchange:09d}")
    return [isa, gs, st, *body, se, ge, iea]
