"""Resolving references between the entries of a Bundle (FHIR R4 rules, section 2.36.4.1).

A reference resolves to an entry by its `fullUrl`: absolute URLs and `urn:uuid:`/`urn:oid:`
references match a fullUrl exactly; a relative `Type/id` reference is resolved against the base
of the referring entry's RESTful fullUrl, and otherwise against the entries' `resourceType`/`id`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _strip_history(reference: str) -> str:
    marker = reference.find("/_history/")
    return reference[:marker] if marker >= 0 else reference


def _base_of(full_url: str, resource: dict[str, Any]) -> str | None:
    """The service base of a RESTful fullUrl ending in `Type/id`, else None."""
    rtype, rid = resource.get("resourceType"), resource.get("id")
    suffix = f"{rtype}/{rid}"
    if isinstance(rtype, str) and isinstance(rid, str) and full_url.endswith("/" + suffix):
        return full_url[: -len(suffix)]
    return None


class BundleIndex:
    """Index of a Bundle's entries by fullUrl and by `Type/id`, for resolving references."""

    __slots__ = ("_by_full_url", "_by_type_id", "entries")

    def __init__(self, bundle: dict[str, Any]) -> None:
        entries = bundle.get("entry")
        self.entries: list[tuple[str | None, dict[str, Any]]] = []
        self._by_full_url: dict[str, list[int]] = {}
        self._by_type_id: dict[str, list[int]] = {}
        if not isinstance(entries, list):
            return
        for index, entry in enumerate(entries):
            full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                resource = {}
            full_url = full_url if isinstance(full_url, str) else None
            self.entries.append((full_url, resource))
            if full_url:
                self._by_full_url.setdefault(full_url, []).append(index)
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rtype, str) and isinstance(rid, str):
                self._by_type_id.setdefault(f"{rtype}/{rid}", []).append(index)

    def resolve_all(self, reference: str, from_index: int | None = None) -> list[int]:
        """Indexes of every entry `reference` may designate (exactly one when it resolves cleanly)."""
        reference = _strip_history(reference)
        if reference.startswith(("urn:uuid:", "urn:oid:")) or "://" in reference:
            return self._by_full_url.get(reference, [])
        if from_index is not None and 0 <= from_index < len(self.entries):
            full_url, resource = self.entries[from_index]
            base = _base_of(full_url, resource) if full_url else None
            if base is not None:
                found = self._by_full_url.get(base + reference)
                if found:
                    return found
        return self._by_type_id.get(reference, [])

    def resolve(self, reference: str, from_index: int | None = None) -> dict[str, Any] | None:
        """The one resource `reference` designates, or None when it is missing or ambiguous."""
        found = self.resolve_all(reference, from_index)
        return self.entries[found[0]][1] if len(found) == 1 else None

    def resolve_ref(self, element: Any, from_index: int | None = None) -> dict[str, Any] | None:
        """Resolve a Reference element (`{"reference": ...}`) to its resource, or None."""
        reference = element.get("reference") if isinstance(element, dict) else None
        return self.resolve(reference, from_index) if isinstance(reference, str) else None

    def index_of(self, reference: str, from_index: int | None = None) -> int | None:
        """The entry index `reference` designates, or None when it is missing or ambiguous."""
        found = self.resolve_all(reference, from_index)
        return found[0] if len(found) == 1 else None


def collect_references(node: Any, *, into_contained: bool = False) -> list[tuple[dict[str, Any], str]]:
    """Every Reference element below `node` with its reference string (no paths kept: this runs on each request).

    Contained (`#id`) references are skipped: they point inside the resource, not at an entry.
    `into_contained` also walks contained resources (whose references may point at entries).
    """
    found: list[tuple[dict[str, Any], str]] = []
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if type(current) is dict:
            reference = current.get("reference")
            if type(reference) is str and not reference.startswith("#"):
                found.append((current, reference))
            for key, value in current.items():
                kind = type(value)
                if (kind is dict or kind is list) and (into_contained or key != "contained"):
                    stack.append(value)
        else:
            for value in current:
                kind = type(value)
                if kind is dict or kind is list:
                    stack.append(value)
    return found


def closure(index: BundleIndex, roots: Iterable[int]) -> list[int]:
    """The entries `roots` designate and every entry they reference, directly or not, in Bundle order.

    References that resolve to no entry (or to several) are left alone: they point outside the Bundle.
    """
    seen: set[int] = set()
    stack = [root for root in roots if 0 <= root < len(index.entries)]
    while stack:
        position = stack.pop()
        if position in seen:
            continue
        seen.add(position)
        for _, reference in collect_references(index.entries[position][1], into_contained=True):
            found = index.index_of(reference, position)
            if found is not None and found not in seen:
                stack.append(found)
    return sorted(seen)
