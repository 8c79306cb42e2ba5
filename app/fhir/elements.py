"""Defensive accessors for FHIR JSON elements (dicts from orjson), and their domain conversions.

Each accessor returns None or an empty value when the element is absent or has the wrong JSON
type, so the rules and the extraction never raise on odd input; the rules report the oddity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.model import Coding, Identifier, Period

FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """`value` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    """`value` when it is a JSON integer (booleans excluded), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_decimal(value: Any) -> Decimal | None:
    """A JSON number as a Decimal (via its shortest repr), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def codings(concept: Any) -> Iterator[Coding]:
    """The codings (with a code) of a CodeableConcept, in order."""
    for coding in as_list(as_dict(concept).get("coding")):
        code = as_str(as_dict(coding).get("code"))
        if code is not None:
            yield Coding(system=as_str(coding.get("system")), code=code, display=as_str(coding.get("display")))


def first_coding(concept: Any) -> Coding | None:
    """The first coding (with a code) of a CodeableConcept, or None."""
    return next(codings(concept), None)


def extensions(element: Any, url: str, key: str = "extension") -> Iterator[dict[str, Any]]:
    """The extensions of `element` (under `key`: extension or modifierExtension) whose url is `url`."""
    for extension in as_list(as_dict(element).get(key)):
        if isinstance(extension, dict) and extension.get("url") == url:
            yield extension


def extension_code(element: Any, url: str) -> str | None:
    """The code of the first coding of the first `url` extension's valueCodeableConcept, or None."""
    for extension in extensions(element, url):
        coding = first_coding(extension.get("valueCodeableConcept"))
        if coding is not None:
            return coding.code
    return None


def identifier(value: Any) -> Identifier | None:
    """An Identifier element as a domain Identifier (None when it has no value)."""
    element = as_dict(value)
    text = as_str(element.get("value"))
    return Identifier(system=as_str(element.get("system")), value=text) if text is not None else None


def identifiers(values: Any) -> tuple[Identifier, ...]:
    """A list of Identifier elements as domain Identifiers (those without a value dropped)."""
    found = (identifier(v) for v in as_list(values))
    return tuple(i for i in found if i is not None)


def parse_date(value: Any) -> date | None:
    """A FHIR date or dateTime with at least a full date (YYYY-MM-DD) as a date, else None."""
    text = as_str(value)
    if text is None or not FULL_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR dateTime (full date at least) as an aware datetime (a bare date is midnight UTC)."""
    text = as_str(value)
    if text is None or not FULL_DATE.match(text):
        return None
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_period(value: Any) -> Period | None:
    """A Period element as a domain Period of dates (None when neither bound is a full date)."""
    element = as_dict(value)
    start, end = parse_date(element.get("start")), parse_date(element.get("end"))
    return Period(start=start, end=end) if start is not None or end is not None else None
