"""Write the 278 response a payer would send to a 278 request, as scripted: what the fake
clearinghouse answers in tests, and how `examples/x12/` responses were made.

The response mirrors the request's loops (BHT02 `11`, TRN echoed as `TRN*2`), adds HCR (action,
certification number, 886 reason), REF*NT, certification dates (DTP 007 / 036) and HSD quantities
where the script says, and AAA rejections at the loops it names (`2000A`, `2010C`, ..., or
`2000F-<item sequence>`). It never decides anything itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.model import Period
from app.payers.x12_278.envelope import Control, Parties, d8, number, wrap
from app.payers.x12_278.reader import read_interchange
from app.payers.x12_278.segments import Segment, render, segment
from app.payers.x12_278.tables import tables


@dataclass(frozen=True, slots=True)
class Scripted:
    """One answer (an X12 306 action code and what goes with it)."""

    action: str
    number: str | None = None
    reason: str | None = None
    quantity: Decimal | None = None
    period: Period | None = None
    service: str | None = None  # A6: the code authorized instead


@dataclass(frozen=True, slots=True)
class Script:
    event: Scripted | None = None
    items: Mapping[int, Scripted] = field(default_factory=dict)
    rejections: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # loop -> (AAA03, AAA04)
    administrative_reference: str | None = None
    trace_override: str | None = None  # echo another trace (a response to another request)


def _answer(scripted: Scripted, reference: str | None) -> list[Segment]:
    out = [segment("HCR", scripted.action, scripted.number, scripted.reason)]
    if reference:
        out.append(segment("REF", "NT", reference))
    period = scripted.period
    if period and period.start:
        out.append(segment("DTP", "007", "D8", d8(period.start)))
    if period and period.end:
        out.append(segment("DTP", "036", "D8", d8(period.end)))
    return out


def _aaa(rejection: tuple[str, str]) -> Segment:
    return segment("AAA", "N", None, rejection[0], rejection[1])


def respond(request_text: str, script: Script, parties: Parties, control: Control) -> str:
    """The scripted 278 response to `request_text` (from `parties`, the payer's side, with `control`)."""
    t = tables()
    transaction = read_interchange(request_text).transactions[0]
    loop, sequence, reference = "", 0, ""
    body: list[Segment] = []
    scripted: Scripted | None = None
    for seg in transaction.segments:
        tag = seg.tag
        if tag == "BHT":
            reference = script.trace_override or seg.get(3)
            at = control.at
            body.append(segment("BHT", seg.get(1), t.envelope.bht_response, reference, d8(at), at.strftime("%H%M")))
        elif tag == "HL":
            loop = t.loops_by_hl[seg.get(3)].loop_id
            body.append(seg)
            if loop in ("2000A", "2000B", "2000C", "2000D") and loop in script.rejections:
                body.append(_aaa(script.rejections[loop]))
        elif tag == "NM1":
            body.append(seg)
            name_loop = t.loops[loop].name_loop
            if name_loop in script.rejections:
                body.append(_aaa(script.rejections[name_loop]))
        elif tag == "TRN":
            trace = script.trace_override or seg.get(2)
            if loop == "2000F":
                sequence = int(seg.get(2).rpartition("-")[2])
                trace = f"{script.trace_override}-{sequence}" if script.trace_override else seg.get(2)
            body.append(segment("TRN", "2", trace, seg.get(3)))
            key = loop if loop == "2000E" else f"2000F-{sequence}"
            if key in script.rejections:
                body.append(_aaa(script.rejections[key]))
        elif tag == "UM":
            body.append(seg)
            scripted = script.event if loop == "2000E" else script.items.get(sequence)
            if scripted is not None:
                body.extend(_answer(scripted, script.administrative_reference if loop == "2000E" else None))
        elif tag == "HSD" and scripted is not None and scripted.quantity is not None:
            body.append(segment("HSD", "FL", number(scripted.quantity)))
        elif tag in ("SV1", "SV3") and scripted is not None and scripted.service:
            body.append(segment(tag, (seg.get(1, 1), scripted.service), *seg.elements[1:]))
        elif tag != "REF":
            body.append(seg)
    return render(wrap(body, parties, control, transaction.implementation))
