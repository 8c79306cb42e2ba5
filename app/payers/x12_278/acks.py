"""Acknowledgments a clearinghouse may answer instead of a 278: TA1 (interchange) and 999
(implementation acknowledgment, 005010X231A1). Read with the same pyx12 reader; a rejection is a
transport outcome (nothing was decided), described by its codes only."""

from __future__ import annotations

from dataclasses import dataclass

from app.payers.x12_278.reader import Interchange

ACCEPTED = frozenset({"A"})


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    kind: str  # "TA1" or "999"
    code: str  # TA104 (A/E/R) or AK901 (A/E/P/R)
    control_number: str  # the interchange (TA101) or group (AK102) acknowledged
    errors: tuple[str, ...] = ()  # TA105 note code; IK304 / IK403 / IK502 codes

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED

    def describe(self) -> str:
        errors = f" (errors {', '.join(self.errors)})" if self.errors else ""
        return f"{self.kind} {self.code} for control number {self.control_number}{errors}"


def acknowledgment_of(interchange: Interchange) -> Acknowledgment | None:
    """The TA1 or 999 the interchange carries (a rejecting one first), or None."""
    for ta1 in interchange.ta1:
        if ta1.get(4) not in ACCEPTED:
            return Acknowledgment("TA1", ta1.get(4), ta1.get(1), (ta1.get(5),) if ta1.get(5) else ())
    for transaction in interchange.transactions:
        if transaction.code != "999":
            continue
        group = next((s.get(2) for s in transaction.segments if s.tag == "AK1"), "")
        code = next((s.get(1) for s in transaction.segments if s.tag == "AK9"), "")
        errors: list[str] = []
        for seg in transaction.segments:
            if seg.tag == "IK3" and seg.get(4):
                errors.append(f"IK3:{seg.get(1)}:{seg.get(4)}")
            elif seg.tag == "IK4" and seg.get(3):
                errors.append(f"IK4:{seg.get(1, 1)}:{seg.get(3)}")
            elif seg.tag == "IK5" and seg.get(2):
                errors.append(f"IK5:{seg.get(2)}")
        return Acknowledgment("999", code, group, tuple(errors))
    if interchange.ta1:
        ta1 = interchange.ta1[0]
        return Acknowledgment("TA1", ta1.get(4), ta1.get(1))
    return None
