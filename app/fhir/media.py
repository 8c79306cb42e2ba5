"""Media types of the FHIR routes (FHIR R4 3.1.0.1.6 content types and the `_format` shorthands).

JSON and XML are read and answered. `_format` wins over `Accept`; no preference means JSON; an
`Accept` or `_format` this server cannot give (another format, or a `fhirVersion` other than 4.0)
is NotAcceptable (406), a request body of another type UnsupportedMediaType (415).
"""

from __future__ import annotations

from typing import Final, Literal

from app.errors import NotAcceptable, UnsupportedMediaType

FHIR_JSON: Final = "application/fhir+json"
FHIR_JSON_UTF8: Final = "application/fhir+json; charset=utf-8"
FHIR_XML: Final = "application/fhir+xml"

Format = Literal["json", "xml"]

_JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir", "text/json"})
_XML_TYPES = frozenset({"application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml"})
_SHORTHANDS: dict[str, Format] = {"json": "json", "xml": "xml"}


def _parse(content_type: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = content_type.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def _r4(params: dict[str, str]) -> bool:
    version = params.get("fhirversion")
    return version is None or version.startswith("4.0")


def media_format(media_type: str) -> Format | None:
    """The FHIR format a media type names (R4 only; a charset other than UTF-8 is not read), or None."""
    kind, params = _parse(media_type)
    if not _r4(params) or params.get("charset", "utf-8") not in ("utf-8", "utf8"):
        return None
    if kind in _JSON_TYPES:
        return "json"
    if kind in _XML_TYPES:
        return "xml"
    return None


def is_fhir_json(content_type: str | None) -> bool:
    """Whether a request Content-Type is FHIR JSON this server reads (R4: fhirVersion absent or 4.0.x).

    `application/fhir+json` and, leniently, `application/json` (and the DSTU2 `application/json+fhir`)
    are accepted; a charset other than UTF-8 is not.
    """
    return bool(content_type) and media_format(content_type or "") == "json"


def body_format(content_type: str | None) -> Format:
    """The format of a request body, or UnsupportedMediaType (415)."""
    found = media_format(content_type) if content_type else None
    if found is None:
        raise UnsupportedMediaType(f"send {FHIR_JSON} or {FHIR_XML} (FHIR R4), not {content_type or 'nothing'}")
    return found


def answer_format(accept: str | None, format_param: str | None = None) -> Format:
    """The format to answer in (`_format` first, then Accept by q-value, JSON on a tie), or NotAcceptable."""
    if format_param:
        wanted = format_param.strip()
        found = _SHORTHANDS.get(wanted.lower()) or media_format(wanted)
        if found is None:
            raise NotAcceptable(f"_format={wanted} cannot be given: ask for json or xml (FHIR R4)")
        return found
    if not accept or not accept.strip():
        return "json"
    best: tuple[float, int, Format] | None = None
    for choice in accept.split(","):
        kind, params = _parse(choice)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0 or not _r4(params):
            continue
        given: Format | None = "json" if kind in ("*/*", "application/*") else media_format(choice)
        if given is None:
            continue
        candidate = (quality, 1 if given == "json" else 0, given)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        raise NotAcceptable(f"Accept: {accept[:120]} cannot be given: this server answers {FHIR_JSON} or {FHIR_XML}")
    return best[2]
