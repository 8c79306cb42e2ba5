"""Decode a 005010X217 278 response into what the payer decided, loop by loop.

The interchange is read by pyx12 (`reader.py`, envelope and counts checked); this module walks the
HL loops (level codes from `tables.toml`) and collects, per loop: HCR (action, certification number,
886 reason), REF*BB / REF*NT, certification dates (DTP 007 / 036), HSD quantities, the service
segment (an A6 may authorize another code), AAA rejections (at any loop, with the loop named) and
the echoed TRN trace numbers. `app.payers.x12_278.reply` turns the result into a `PayerReply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from app.domain.codes import ReviewAction
from app.domain.model import Coding, Period
from app.payers.x12_278.errors import X12ProtocolError
from app.payers.x12_278.reader import Interchange, read_interchange
from app.payers.x12_278.segments import Segment
from app.payers.x12_278.tables import Tables, tables


@dataclass(frozen=True, slots=True)
class Rejection:
    """An AAA segment: the loop it stands in (and the item, in a 2000F), reject reason and follow-up."""

    loop: str
    valid: str  # AAA01 Y/N
    reason: str  # AAA03 (901)
    follow_up: str  # AAA04 (889)
    sequence: int | None = None


@dataclass(slots=True)
class Answer:
    """The payer's answer in one 2000E (the event) or 2000F (a service) loop."""

    loop: str
    traces: list[str] = field(default_factory=list)  # TRN02 echoed
    action: ReviewAction | None = None
    certification_number: str | None = None  # HCR02
    reason: Coding | None = None  # HCR03 (886)
    authorization_number: str | None = None  # REF*BB
    administrative_reference: str | None = None  # REF*NT
    period: Period | None = None  # DTP 007 .. 036
    quantity: Decimal | None = None  # HSD02
    service: Coding | None = None  # the service segment's code

    @property
    def number(self) -> str | None:
        return self.certification_number or self.authorization_number


@dataclass(frozen=True, slots=True)
class Decoded278:
    interchange: Interchange
    transaction_control: str
    reference: str  # BHT03 (the request's, echoed)
    event: Answer | None
    services: tuple[Answer, ...]
    rejections: tuple[Rejection, ...]

    @property
    def traces(self) -> tuple[str, ...]:
        found = [*(self.event.traces if self.event else [])]
        for service in self.services:
            found.extend(service.traces)
        return tuple(found)


def _day(text: str) -> date:
    return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))


def _period(seg: Segment) -> tuple[date, date]:
    fmt, value = seg.get(2), seg.get(3)
    try:
        if fmt == "RD8":
            start, end = value.split("-", 1)
            return _day(start), _day(end)
        if fmt == "D8":
            return _day(value), _day(value)
    except ValueError:
        pass
    raise X12ProtocolError(f"DTP*{seg.get(1)}: date format {fmt or 'missing'} is not D8 or RD8")


def _apply(answer: Answer, seg: Segment, t: Tables) -> None:
    tag = seg.tag
    dates = t.response_dates
    if tag == "TRN":
        answer.traces.append(seg.get(2))
    elif tag == "HCR":
        code = seg.get(1)
        if code not in t.review_actions:
            raise X12ProtocolError(f"HCR01 in loop {answer.loop}: action code {code!r} is unknown")
        answer.action = t.review_actions[code]
        answer.certification_number = seg.get(2) or None
        if seg.get(3):
            answer.reason = Coding(t.code_systems["reason"], seg.get(3))
    elif tag == "REF" and seg.get(1) == "BB":
        answer.authorization_number = seg.get(2) or None
    elif tag == "REF" and seg.get(1) == "NT":
        answer.administrative_reference = seg.get(2) or None
    elif tag == "DTP" and seg.get(1) in (dates["effective"], dates["expiration"]):
        start, end = _period(seg)
        current = answer.period or Period(None, None)
        if seg.get(1) == dates["effective"]:
            answer.period = Period(start, end if seg.get(2) == "RD8" else current.end)
        else:
            answer.period = Period(current.start, end)
    elif tag == "HSD" and seg.get(2):
        try:
            answer.quantity = Decimal(seg.get(2))
        except InvalidOperation:
            raise X12ProtocolError(f"HSD02 in loop {answer.loop} is not a number") from None
    elif tag in ("SV1", "SV3") and seg.get(1, 2):
        answer.service = Coding(seg.get(1, 1), seg.get(1, 2))
    elif tag == "SV2" and seg.get(1):
        answer.service = Coding("NU", seg.get(1))


def _sequence(traces: list[str], reference: str) -> int | None:
    for trace in traces:
        head, _, tail = trace.rpartition("-")
        if head == reference and tail.isdigit():
            return int(tail)
    return None


def decode_response(text: str) -> Decoded278:
    """The answers in a 278 response (`X12SyntaxError` / `X12ProtocolError` when it is not one)."""
    t = tables()
    interchange = read_interchange(text)
    responses = [x for x in interchange.transactions if x.code == t.envelope.transaction_set]
    if len(responses) != 1:
        raise X12ProtocolError(f"the interchange holds {len(responses)} 278 transaction sets, not one")
    transaction = responses[0]
    segments = transaction.segments
    if not segments or segments[0].tag != "BHT" or segments[0].get(2) != t.envelope.bht_response:
        raise X12ProtocolError("BHT02: the transaction set is not a 278 response (11)")
    reference = segments[0].get(3)
    loop = ""
    answer: Answer | None = None
    event: Answer | None = None
    services: list[Answer] = []
    rejections: list[Rejection] = []
    for seg in segments[1:]:
        if seg.tag == "HL":
            level = t.loops_by_hl.get(seg.get(3))
            if level is None:
                raise X12ProtocolError(f"HL03: level code {seg.get(3)!r} is not a 278 loop")
            loop = level.loop_id
            answer = Answer(loop) if loop in ("2000E", "2000F") else None
            if loop == "2000E":
                event = answer
            elif loop == "2000F" and answer is not None:
                services.append(answer)
        elif seg.tag == "NM1" and loop:
            loop = t.loops[loop[:5]].name_loop if loop[:5] in t.loops else loop
        elif seg.tag == "AAA":
            where = answer.traces if answer is not None else []
            sequence = _sequence(where, reference) if loop.startswith("2000F") else None
            rejections.append(Rejection(loop or "2000A", seg.get(1), seg.get(3), seg.get(4), sequence))
        elif answer is not None and loop in ("2000E", "2000F"):
            _apply(answer, seg, t)
    return Decoded278(interchange, transaction.control_number, reference, event, tuple(services), tuple(rejections))


def service_sequence(decoded: Decoded278, service: Answer) -> int | None:
    """The request item a 2000F answers, from its echoed trace `<reference>-<sequence>`."""
    return _sequence(service.traces, decoded.reference)
