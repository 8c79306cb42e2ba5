"""The people a 278 names, read from the PAS request Bundle the hub stored (plain JSON, no FHIR
model): the subscriber and, when the patient is not the subscriber, the dependent (loop 2000D);
the requester's name. The typed request keeps identifiers only; the 278 wants names and DMG.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Person:
    last: str | None = None
    first: str | None = None
    birth_date: date | None = None
    gender: str | None = None  # FHIR administrative gender
    organization: bool = False


@dataclass(frozen=True, slots=True)
class People:
    subscriber: Person | None = None
    dependent: Person | None = None  # the patient, when not the subscriber
    requester: Person | None = None


def _resolver(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    index: dict[str, dict[str, Any]] = {}
    for entry in entries:
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        if isinstance(entry.get("fullUrl"), str):
            index[entry["fullUrl"]] = resource
        if isinstance(resource.get("id"), str):
            index[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    return index


def _ref(index: dict[str, dict[str, Any]], holder: Any) -> dict[str, Any] | None:
    if isinstance(holder, dict) and isinstance(holder.get("reference"), str):
        return index.get(holder["reference"])
    return None


def _person(resource: dict[str, Any] | None) -> Person | None:
    if resource is None:
        return None
    if resource.get("resourceType") == "Organization":
        name = resource.get("name")
        return Person(last=name if isinstance(name, str) else None, organization=True)
    names = resource.get("name") or []
    name = names[0] if names and isinstance(names[0], dict) else {}
    given = name.get("given") or []
    birth: date | None = None
    try:
        birth = date.fromisoformat(resource["birthDate"]) if "birthDate" in resource else None
    except (TypeError, ValueError):
        birth = None
    return Person(
        last=name.get("family") if isinstance(name.get("family"), str) else None,
        first=given[0] if given and isinstance(given[0], str) else None,
        birth_date=birth,
        gender=resource.get("gender") if isinstance(resource.get("gender"), str) else None,
    )


def people_of(bundle: bytes) -> People:
    """The subscriber, dependent and requester the Bundle names (empty when it names none)."""
    try:
        document = orjson.loads(bundle)
        entries = [e for e in document.get("entry") or [] if isinstance(e, dict)]
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return People()
    index = _resolver(entries)
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    claim = next((r for r in resources if r.get("resourceType") == "Claim"), None)
    if claim is None:
        return People()
    patient = _person(_ref(index, claim.get("patient")))
    requester = _person(_ref(index, claim.get("provider")))
    insurance = [i for i in claim.get("insurance") or [] if isinstance(i, dict)]
    focal = next((i for i in insurance if i.get("focal")), insurance[0] if insurance else None)
    coverage = _ref(index, focal.get("coverage")) if focal else None
    if coverage is None:
        return People(subscriber=patient, requester=requester)
    codings = ((coverage.get("relationship") or {}).get("coding")) or []
    relationship = next((c.get("code") for c in codings if isinstance(c, dict)), "self")
    if relationship in (None, "self"):
        return People(subscriber=patient, requester=requester)
    subscriber = _person(_ref(index, coverage.get("subscriber"))) or Person()
    return People(subscriber=subscriber, dependent=patient, requester=requester)
