"""Read any X12 interchange with pyx12's generic reader, its envelope checked.

pyx12 tokenizes (it learns the delimiters from the ISA) and checks the envelope as it reads:
ISA/IEA and GS/GE and ST/SE control numbers that match, IEA/GE/SE counts, HL numbering. Any
such error makes the interchange unreadable here (`X12SyntaxError`, whose message carries only
the X12 error codes and control numbers, never a value). What comes back is the interchange's
segments as `Segment` values, grouped by transaction set, for the 278 decoder.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pyx12.errors import X12Error  # type: ignore[import-untyped]
from pyx12.x12file import X12Reader  # type: ignore[import-untyped]

from app.payers.x12_278.segments import Segment


class X12SyntaxError(ValueError):
    """The text is not a well-formed X12 interchange (message: error codes and control numbers only)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    control_number: str  # ST02
    code: str  # ST01 (278, 999, ...)
    implementation: str  # ST03
    segments: tuple[Segment, ...]  # between ST and SE, both excluded


@dataclass(frozen=True, slots=True)
class Interchange:
    sender_id: str  # ISA06, trimmed
    receiver_id: str  # ISA08, trimmed
    control_number: str  # ISA13
    usage: str  # ISA15
    group_control_numbers: tuple[str, ...]  # GS06 of each group
    transactions: tuple[Transaction, ...]
    ta1: tuple[Segment, ...] = ()  # TA1 segments (an interchange acknowledgment)


def _segment(raw: object, seg_term: str, ele_term: str, comp_term: str) -> Segment:
    text: str = raw.format()  # type: ignore[attr-defined]
    if text.endswith(seg_term):
        text = text[: -len(seg_term)]
    tag, *fields = text.split(ele_term)
    if tag == "ISA":  # ISA16 is the component separator itself
        return Segment(tag, tuple((f,) for f in fields))
    return Segment(tag, tuple(tuple(f.split(comp_term)) for f in fields))


def read_interchange(text: str) -> Interchange:
    """The interchange in `text`, or `X12SyntaxError` when it does not parse or its envelope is wrong."""
    stripped = text.lstrip()
    if not stripped.startswith("ISA"):
        raise X12SyntaxError("the text does not start with an ISA segment")
    try:
        reader = X12Reader(io.StringIO(stripped))
        segments = [_segment(s, reader.seg_term, reader.ele_term, reader.subele_term) for s in reader]
        reader.cleanup()
    except X12Error as exc:
        raise X12SyntaxError(f"the interchange does not parse ({type(exc).__name__})") from None
    except Exception as exc:  # pyx12 meets untrusted text: whatever it raises means "does not parse"
        raise X12SyntaxError(f"the interchange does not parse ({type(exc).__name__})") from None
    errors = reader.pop_errors()
    if errors:
        codes = ", ".join(f"{level.upper()}:{code}" for level, code, *_ in errors)
        raise X12SyntaxError(f"the interchange envelope is wrong ({codes})")
    return _assemble(segments)


def _assemble(segments: list[Segment]) -> Interchange:
    if not segments or segments[0].tag != "ISA" or len(segments[0].elements) < 16:
        raise X12SyntaxError("the interchange has no ISA segment")
    isa = segments[0]
    groups: list[str] = []
    transactions: list[Transaction] = []
    ta1: list[Segment] = []
    current: list[Segment] | None = None
    header: Segment | None = None
    for seg in segments[1:]:
        if seg.tag == "GS":
            groups.append(seg.get(6))
        elif seg.tag == "TA1":
            ta1.append(seg)
        elif seg.tag == "ST":
            header, current = seg, []
        elif seg.tag == "SE" and header is not None and current is not None:
            transactions.append(Transaction(header.get(2), header.get(1), header.get(3), tuple(current)))
            header, current = None, None
        elif current is not None:
            current.append(seg)
    if not transactions and not ta1:
        raise X12SyntaxError("the interchange holds no transaction set")
    return Interchange(
        sender_id=isa.get(6).strip(),
        receiver_id=isa.get(8).strip(),
        control_number=isa.get(13),
        usage=isa.get(15),
        group_control_numbers=tuple(groups),
        transactions=tuple(transactions),
        ta1=tuple(ta1),
    )
