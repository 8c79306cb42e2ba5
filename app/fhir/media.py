"""Media types of the FHIR routes (FHIR R4 3.1.0.1.6 content types and the `_format` shorthands)."""

from __future__ import annotations

from typing import Final

FHIR_JSON: Final = "application/fhir+json"
FHIR_JSON_UTF8: Final = "application/fhir+json; charset=utf-8"

_JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir", "text/json"})
_FORMAT_SHORTHANDS = frozenset({"json", "application/json", "application/fhir+json"})


def _parse(content_type: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = content_type.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def is_fhir_json(content_type: str | None) -> bool:
    """Whether a request Content-Type is FHIR JSON this server reads (R4: fhirVersion absent or 4.0.x).

    `application/fhir+json` and, leniently, `application/json` (and the DSTU2 `application/json+fhir`)
    are accepted; a charset other than UTF-8 is not.
    """
    if not content_type:
        return False
    kind, params = _parse(content_type)
    if kind not in _JSON_TYPES:
        return False
    if params.get("charset", "utf-8") not in ("utf-8", "utf8"):
        return False
    version = params.get("fhirversion")
    return version is None or version.startswith("4.0")


def accepts_fhir_json(accept: str | None, format_param: str | None = None) -> bool:
    """Whether the client accepts a FHIR JSON answer (`_format` wins over Accept; no preference means yes)."""
    if format_param:
        return format_param.strip().lower() in _FORMAT_SHORTHANDS or is_fhir_json(format_param)
    if not accept:
        return True
    for choice in accept.split(","):
        kind, params = _parse(choice)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*") or (kind in _JSON_TYPES and is_fhir_json(choice)):
            return True
    return False
