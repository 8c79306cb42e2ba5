"""X12 segments as plain values: what the encoder builds and the reader hands the decoder.

An element is a string, or a tuple of strings for a composite. Writing trims trailing empty
elements and components (X12 forbids trailing separators) and refuses values that carry a
delimiter, so no text from a request can break the interchange's structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.payers.x12_278.tables import tables

Element = str | tuple[str, ...]


class X12ValueError(ValueError):
    """A value cannot be written into an X12 element (it holds a delimiter)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its id and its elements, composites split into components."""

    tag: str
    elements: tuple[tuple[str, ...], ...]

    def get(self, position: int, component: int = 1) -> str:
        """Element `position` (1-based, as X12 numbers them), component `component`; '' when absent."""
        if position < 1 or position > len(self.elements):
            return ""
        element = self.elements[position - 1]
        return element[component - 1] if 0 < component <= len(element) else ""

    def composite(self, position: int) -> tuple[str, ...]:
        return self.elements[position - 1] if 0 < position <= len(self.elements) else ()


def _clean(value: str, forbidden: str) -> str:
    if any(ch in value for ch in forbidden):
        raise X12ValueError("a value holds an X12 delimiter")
    return value


def segment(tag: str, *elements: Element | None) -> Segment:
    """A segment from its elements (None or '' for an empty element; a tuple for a composite)."""
    env = tables().envelope
    forbidden = env.element + env.component + env.segment + env.repetition
    parts: list[tuple[str, ...]] = []
    for element in elements:
        if element is None:
            parts.append(("",))
        elif isinstance(element, tuple):
            components = [_clean(c, forbidden) for c in element]
            while components and components[-1] == "":
                components.pop()
            parts.append(tuple(components) or ("",))
        else:
            parts.append((_clean(element, forbidden),))
    while parts and parts[-1] == ("",):
        parts.pop()
    return Segment(tag, tuple(parts))


def render(segments: Sequence[Segment], *, newline: bool = False) -> str:
    """The segments as X12 text with the tables' delimiters (one segment a line when `newline`)."""
    env = tables().envelope
    end = env.segment + ("\n" if newline else "")
    out: list[str] = []
    for seg in segments:
        fields = [env.component.join(e) for e in seg.elements]
        out.append(env.element.join([seg.tag, *fields]) + end)
    return "".join(out)


def safe_text(value: str, limit: int) -> str:
    """Free text made fit for an element: delimiters become spaces, trimmed to `limit` characters."""
    env = tables().envelope
    for ch in env.element + env.component + env.segment + env.repetition:
        value = value.replace(ch, " ")
    return " ".join(value.split())[:limit]
