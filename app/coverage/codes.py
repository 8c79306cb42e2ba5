"""Code systems the coverage rules speak, code ranges, and well-formedness of ICD-10-CM, HCPCS and CPT codes.

Pure functions only. CPT codes are HCPCS Level I, so a rule written for `hcpcs` matches codes sent
under either the HCPCS or the CPT system; a rule for `cpt` matches CPT-coded items only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

CPT: Final = "http://www.ama-assn.org/go/cpt"
HCPCS: Final = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
HCPCS_ALIASES: Final = frozenset(
    {
        HCPCS,
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "urn:oid:2.16.840.1.113883.6.285",
    }
)
ICD_10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"

CodeFamily = Literal["hcpcs", "cpt", "any"]

_ICD_10_CM = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_HCPCS_LEVEL_II = re.compile(r"^[A-V][0-9]{4}$")
_CPT = re.compile(r"^[0-9]{4}[0-9FTUM]$")
_RANGE = re.compile(r"^(?P<low>[A-Z0-9.]+)-(?P<high>[A-Z0-9.]+)$")


def family_of(system: str | None) -> str | None:
    """`cpt`, `hcpcs` or `icd-10-cm` for a known system URL, else None."""
    if system == CPT:
        return "cpt"
    if system in HCPCS_ALIASES:
        return "hcpcs"
    if system == ICD_10_CM:
        return "icd-10-cm"
    return None


def system_matches(family: CodeFamily, system: str | None) -> bool:
    """Whether an item coded in `system` can match a rule written for `family`."""
    if family == "any":
        return True
    found = family_of(system)
    if family == "cpt":
        return found == "cpt"
    return found in ("hcpcs", "cpt")


def malformed_reason(system: str | None, code: str) -> str | None:
    """Why `code` is not a well-formed code of `system` (None when it is, or the system is not checked)."""
    family = family_of(system)
    if family == "icd-10-cm" and not _ICD_10_CM.match(code):
        return f"{code!r} is not a well-formed ICD-10-CM code"
    if family == "cpt" and not _CPT.match(code):
        hint = " (it looks like a HCPCS Level II code)" if _HCPCS_LEVEL_II.match(code) else ""
        return f"{code!r} is not a well-formed CPT code{hint}"
    if family == "hcpcs" and not (_HCPCS_LEVEL_II.match(code) or _CPT.match(code)):
        return f"{code!r} is not a well-formed HCPCS code"
    return None


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """One code, or an inclusive range of codes of equal length (`L5856-L5987`)."""

    low: str
    high: str

    @classmethod
    def parse(cls, text: str) -> CodeSpec:
        """Parse `E0193` or `L5856-L5987`; ValueError for an empty or inverted range."""
        text = text.strip().upper()
        if not text:
            raise ValueError("empty code")
        found = _RANGE.match(text)
        if found is None:
            return cls(text, text)
        low, high = found["low"], found["high"]
        if len(low) != len(high):
            raise ValueError(f"range {text!r}: both ends must have the same length")
        if low > high:
            raise ValueError(f"range {text!r}: the first code is after the last")
        return cls(low, high)

    def contains(self, code: str) -> bool:
        code = code.upper()
        return len(code) == len(self.low) and self.low <= code <= self.high

    def __str__(self) -> str:
        return self.low if self.low == self.high else f"{self.low}-{self.high}"


def diagnosis_matches(patterns: tuple[str, ...], codes: tuple[str, ...]) -> bool:
    """Whether any ICD-10-CM code matches a pattern: exact (dots ignored) or a prefix ending in `*`."""
    normalized = [c.replace(".", "").upper() for c in codes]
    for pattern in patterns:
        wanted = pattern.replace(".", "").upper()
        if wanted.endswith("*"):
            if any(c.startswith(wanted[:-1]) for c in normalized):
                return True
        elif wanted in normalized:
            return True
    return False
