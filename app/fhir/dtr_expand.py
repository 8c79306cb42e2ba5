"""`ValueSet/$expand` for the value sets of the questionnaire packages: inputs read, the expansion rendered.

Only the value sets the payers' questionnaire data holds are expanded: their stored `expansion`
when they carry one, else their enumerated `compose` concepts (a compose with filters or imported
value sets is not expanded here: 422 `too-costly`). `filter` keeps the codes whose code or display
contains it (case-insensitive); `offset` and `count` page the result (`total` is before paging).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from app.errors import InvalidRequest, Issue, Unprocessable
from app.fhir.dtr import is_canonical
from app.fhir.elements import as_dict, as_list

MAX_COUNT: Final = 1000


@dataclass(frozen=True, slots=True)
class ExpandRequest:
    url: str
    version: str | None
    filter: str | None
    offset: int
    count: int | None

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}" if self.version else self.url


def _bad(text: str, expression: str) -> InvalidRequest:
    return InvalidRequest(text, issues=[Issue(text, "value", expression=expression)])


def _number(value: object, name: str, expression: str) -> int | None:
    if value is None:
        return None
    number = int(value) if isinstance(value, str) and value.isdigit() else value
    if not isinstance(number, int) or isinstance(number, bool) or number < 0 or number > 10**6:
        raise _bad(f"{name} must be a non-negative integer", expression)
    return number


def expand_request(values: Mapping[str, object], where: Mapping[str, str]) -> ExpandRequest:
    """The request from GET parameters or a Parameters body (`where`: name -> FHIRPath or query name)."""
    url, version = values.get("url"), values.get("valueSetVersion")
    if url is None:
        text = "url (the value set's canonical) is required"
        raise InvalidRequest(text, issues=[Issue(text, "required", expression=where.get("url", "url"))])
    if not is_canonical(url):
        raise _bad("url must be a canonical URL", where.get("url", "url"))
    url_text, _, embedded = str(url).partition("|")
    if version is not None and not isinstance(version, str):
        raise _bad("valueSetVersion must be a string", where.get("valueSetVersion", "valueSetVersion"))
    filter_text = values.get("filter")
    if filter_text is not None and not isinstance(filter_text, str):
        raise _bad("filter must be a string", where.get("filter", "filter"))
    count = _number(values.get("count"), "count", where.get("count", "count"))
    return ExpandRequest(
        url=url_text,
        version=version or embedded or None,
        filter=filter_text or None,
        offset=_number(values.get("offset"), "offset", where.get("offset", "offset")) or 0,
        count=min(count, MAX_COUNT) if count is not None else None,
    )


def expand_parameters(body: bytes) -> ExpandRequest:
    """The request from a POSTed Parameters (`url` valueUri, `valueSetVersion`, `filter`, `offset`, `count`)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _bad("the body is not JSON", "Parameters") from None
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        raise _bad("the body must be a Parameters resource", "resourceType")
    values: dict[str, object] = {}
    where: dict[str, str] = {}
    for index, raw in enumerate(as_list(document.get("parameter"))):
        parameter = as_dict(raw)
        name = parameter.get("name")
        key = next((k for k in parameter if k.startswith("value")), "value")
        if isinstance(name, str):
            values[name], where[name] = parameter.get(key), f"Parameters.parameter[{index}].{key}"
    if "valueSet" in values:
        raise Unprocessable("only the payers' value sets are expanded here: send url, not valueSet")
    return expand_request(values, where)


def _codes(value_set: dict[str, Any]) -> list[dict[str, Any]]:
    stored = as_list(as_dict(value_set.get("expansion")).get("contains"))
    if stored:
        return [as_dict(c) for c in stored]
    codes: list[dict[str, Any]] = []
    for include in map(as_dict, as_list(as_dict(value_set.get("compose")).get("include"))):
        if include.get("filter") or include.get("valueSet") or not include.get("concept"):
            raise Unprocessable(
                "this value set is defined by filters or other value sets and is not expanded here",
                issues=[Issue("not expanded here (filters)", "too-costly", expression="ValueSet.compose.include")],
            )
        for concept in map(as_dict, as_list(include.get("concept"))):
            entry = {"system": include.get("system"), "code": concept.get("code")}
            codes.append({**entry, "display": concept["display"]} if concept.get("display") else entry)
    return codes


def expansion(value_set: dict[str, Any], request: ExpandRequest, now: datetime) -> dict[str, Any]:
    """The ValueSet with its expansion (filtered and paged), without its compose."""
    codes = _codes(value_set)
    if request.filter:
        wanted = request.filter.casefold()
        codes = [
            c
            for c in codes
            if wanted in str(c.get("code", "")).casefold() or wanted in str(c.get("display", "")).casefold()
        ]
    page = codes[request.offset :]
    if request.count is not None:
        page = page[: request.count]
    parameters: list[dict[str, Any]] = [{"name": "offset", "valueInteger": request.offset}]
    if request.filter:
        parameters.append({"name": "filter", "valueString": request.filter})
    if request.count is not None:
        parameters.append({"name": "count", "valueInteger": request.count})
    rendered = {k: v for k, v in value_set.items() if k not in ("compose", "expansion", "text")}
    rendered["expansion"] = {
        "timestamp": now.isoformat(),
        "total": len(codes),
        "offset": request.offset,
        "parameter": parameters,
        **({"contains": page} if page else {}),
    }
    return rendered
