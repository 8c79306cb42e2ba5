"""FHIR search at the edge: the parameters a search route knows, `Prefer: handling`, and the searchset Bundle.

Unknown parameters are ignored (FHIR's lenient default) and listed nowhere; under
`Prefer: handling=strict` they are refused with 400 naming each one. `_count` is the page size
(0: the total only; above the maximum: the maximum); pages are chained by an opaque `_cursor`
in the `next` link, so a client follows links and never builds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from app.errors import InvalidRequest, Issue

DEFAULT_COUNT = 50
MAX_COUNT = 200
_ALWAYS_KNOWN = frozenset({"_count", "_cursor", "_format"})


@dataclass(frozen=True, slots=True)
class SearchParameters:
    """The known parameters of one search (each given at most once), the page size and the cursor."""

    values: dict[str, str]
    count: int
    cursor: str | None

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def strict_handling(prefer: str | None) -> bool:
    """Whether `Prefer` asks for `handling=strict` (FHIR R4 3.1.1.4.1)."""
    if not prefer:
        return False
    preferences = {part.strip().lower().replace(" ", "") for part in prefer.split(",") for part in part.split(";")}
    return "handling=strict" in preferences


def parse_search(query: Sequence[tuple[str, str]], known: frozenset[str], *, strict: bool) -> SearchParameters:
    """The search's parameters, or InvalidRequest (400) for a bad `_count`, a repeat, or (strict) an unknown one."""
    issues: list[Issue] = []
    values: dict[str, str] = {}
    for name, value in query:
        if name not in known and name not in _ALWAYS_KNOWN:
            if strict:
                issues.append(Issue(f"unknown search parameter {name}", "not-supported", expression=name))
            continue
        if name in values:
            issues.append(Issue(f"{name} may be given once", "not-supported", expression=name))
            continue
        values[name] = value
    count = DEFAULT_COUNT
    if "_count" in values:
        raw = values["_count"]
        if not raw.isdigit() or len(raw) > 6:
            issues.append(Issue("_count must be a whole number of 0 or more", "value", expression="_count"))
        else:
            count = min(int(raw), MAX_COUNT)
    if issues:
        raise InvalidRequest(issues[0].text, issues=issues)
    cursor = values.pop("_cursor", None) or None
    values.pop("_format", None)
    values.pop("_count", None)
    return SearchParameters(values, count, cursor)


def searchset(
    resources: list[dict[str, Any]],
    *,
    total: int,
    url: str,
    parameters: SearchParameters,
    next_cursor: str | None,
) -> dict[str, Any]:
    """A searchset Bundle with the exact `total`, a `self` link and, when there is more, a `next` link."""
    base_query = {**parameters.values, "_count": str(parameters.count)}
    this_page = {**base_query, **({"_cursor": parameters.cursor} if parameters.cursor else {})}
    links = [{"relation": "self", "url": f"{url}?{urlencode(this_page)}"}]
    if next_cursor is not None:
        links.append({"relation": "next", "url": f"{url}?{urlencode({**base_query, '_cursor': next_cursor})}"})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if resources:
        bundle["entry"] = [
            {"fullUrl": f"{url}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources
        ]
    return bundle
