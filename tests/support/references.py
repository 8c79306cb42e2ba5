"""An independent walker of the references in an answer Bundle (FHIR R4 2.36.4.1), for tests.

Written apart from `app.fhir.references` on purpose: the tests check the app's resolution
with a second, plain reading of the rules.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Any

Json = dict[str, Any]


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and not reference.startswith("#"):
            yield reference
        for key, value in node.items():
            if key != "resource":  # a Parameters' nested resource: walked as its own Bundle
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _targets(bundle: Json, reference: str, full_url: str | None) -> list[int]:
    entries = bundle.get("entry", [])
    reference = reference.split("/_history/")[0]
    urls = [e.get("fullUrl") for e in entries]
    if reference.startswith("urn:") or "://" in reference:
        return [i for i, url in enumerate(urls) if url == reference]
    if full_url and "://" in full_url:
        base = full_url.rsplit("/", 2)[0]
        found = [i for i, url in enumerate(urls) if url == f"{base}/{reference}"]
        if found:
            return found
    return [
        i
        for i, e in enumerate(entries)
        if f"{e.get('resource', {}).get('resourceType')}/{e.get('resource', {}).get('id')}" == reference
    ]


def dangling_references(
    bundle: Json, sent: Json | None = None, where: str = "Bundle", *, outside: tuple[str, ...] = ()
) -> list[str]:
    """Every reference in `bundle` (nested Bundles walked as their own scope) that does not resolve to
    exactly one entry. A reference of a resource echoed from `sent` (same fullUrl) that resolved to no
    entry there either is allowed: it pointed outside the request as sent, and stays so. References
    starting with one of `outside` (the service's own resources, e.g. its Subscription) are not into
    the Bundle when no entry has them.
    """
    problems: list[str] = []
    entries = bundle.get("entry", [])
    sent_by_url = {e.get("fullUrl"): e for e in (sent or {}).get("entry", []) if e.get("fullUrl")}
    seen_urls = [e.get("fullUrl") for e in entries if e.get("fullUrl")]
    if len(seen_urls) != len(set(seen_urls)):
        problems.append(f"{where}: a fullUrl appears twice")
    for position, entry in enumerate(entries):
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "Bundle":
            problems += dangling_references(resource, sent, f"{where}.entry[{position}]", outside=outside)
            continue
        if resource.get("resourceType") == "Parameters":
            for parameter in resource.get("parameter", []):
                if isinstance(parameter.get("resource"), dict) and parameter["resource"]["resourceType"] == "Bundle":
                    problems += dangling_references(
                        parameter["resource"], sent, f"{where}.entry[{position}]", outside=outside
                    )
        full_url = entry.get("fullUrl")
        for reference in _references(resource):
            found = _targets(bundle, reference, full_url)
            if len(found) == 1:
                continue
            echoed = sent_by_url.get(full_url)
            if not found and echoed is not None and not _targets(sent or {}, reference, full_url):
                continue
            if not found and reference.startswith(outside) and outside:
                continue
            problems.append(f"{where}.entry[{position}] {resource.get('resourceType')}: {reference} -> {len(found)}")
    return problems


def echo_drift(bundle: Json, sent: Json) -> list[str]:
    """fullUrls of echoed entries whose JSON differs from what was sent."""
    sent_by_url = {e.get("fullUrl"): e for e in sent.get("entry", [])}
    return [e["fullUrl"] for e in bundle.get("entry", [])[1:] if sent_by_url.get(e.get("fullUrl"), e) != e]


def restyle(bundle: Json, style: str) -> Json:
    """`bundle` (fullUrls `BASE/Type/id`, references `Type/id`) in reference style `relative`,
    `absolute` (references are the full URLs) or `urn:uuid` (fullUrls and references urn:uuid)."""
    copied = copy.deepcopy(bundle)
    if style == "relative":
        return copied
    names: dict[str, str] = {}
    for entry in copied["entry"]:
        resource = entry["resource"]
        key = f"{resource['resourceType']}/{resource['id']}"
        names[key] = f"urn:uuid:{uuid.uuid4()}" if style == "urn:uuid" else entry["fullUrl"]
        if style == "urn:uuid":
            entry["fullUrl"] = names[key]

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            reference = node.get("reference")
            if isinstance(reference, str) and reference in names:
                node["reference"] = names[reference]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(copied["entry"])
    return copied


def each_bundle(document: Json, visit: Callable[[Json], None]) -> None:
    """`visit` every Bundle a Parameters (`return` parameters) or a Bundle holds, itself included."""
    if document.get("resourceType") == "Parameters":
        for parameter in document.get("parameter", []):
            if isinstance(parameter.get("resource"), dict):
                each_bundle(parameter["resource"], visit)
    elif document.get("resourceType") == "Bundle":
        visit(document)
