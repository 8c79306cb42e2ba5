"""Decode a request body, bound it, unwrap `Parameters`, and validate the Bundle once with R4B models.

Every failure becomes `app.errors.InvalidRequest`: malformed JSON, a non-object body, the wrong
resourceType, an unknown resourceType inside an entry, any R4B validation error. Structural
problems found by the R4B models are returned as Issues (with FHIRPath expressions) so the PAS
rules can add theirs and the client hears about everything at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from app.errors import InvalidRequest, Issue
from app.fhir.limits import ParseLimits, check_bundle_counts, check_json_limits

logger = logging.getLogger(__name__)

_RESOURCE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")


@dataclass(frozen=True, slots=True)
class LoadedBundle:
    """A decoded Bundle that passed the limits, with the R4B validation issues (empty when valid)."""

    bundle: dict[str, Any]
    bundle_bytes: bytes
    issues: list[Issue]
    model: Any = None  # the validated R4B Bundle (None when invalid): `canonical_json` writes it on demand


def invalid(issues: list[Issue]) -> InvalidRequest:
    """One InvalidRequest carrying all `issues` (its message is the first issue's text)."""
    first = issues[0].text if issues else "invalid request"
    more = f" (and {len(issues) - 1} more issues)" if len(issues) > 1 else ""
    return InvalidRequest(first + more, issues=list(issues))


@lru_cache(maxsize=512)
def is_resource_type(name: str) -> bool:
    """Whether `name` is an R4B resource type (not a datatype, not unknown)."""
    if not _RESOURCE_NAME.fullmatch(name):
        return False
    try:
        model = get_fhir_model_class(name)
    except (ValueError, KeyError, AttributeError):
        return False
    return issubclass(model, Resource)


def load_bundle(body: bytes, limits: ParseLimits) -> LoadedBundle:
    """Decode `body` (a Bundle, or a Parameters with a `resource` parameter holding one) and validate it."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = f"the body is not valid JSON ({exc.msg})"
        raise invalid([Issue(text=text, code="structure")]) from None
    if not isinstance(document, dict):
        raise invalid([Issue(text="the body must be a JSON object (a FHIR resource)", code="structure")])
    resource_type = document.get("resourceType")
    check_json_limits(document, limits, resource_type if isinstance(resource_type, str) else "Bundle", body=body)
    bundle_bytes = body
    if resource_type == "Parameters":
        document = _unwrap_parameters(document)
        bundle_bytes = orjson.dumps(document)
    elif resource_type != "Bundle":
        shown = resource_type if isinstance(resource_type, str) and _RESOURCE_NAME.fullmatch(resource_type) else "?"
        raise invalid(
            [
                Issue(
                    text=f"expected a Bundle or a Parameters resource, not {shown!r}",
                    code="structure",
                    expression="resourceType" if shown == "?" else shown,
                )
            ]
        )
    check_bundle_counts(document, limits)
    issues = _entry_type_issues(document)
    model = None
    if not issues:
        issues, model = _validated(document)
    return LoadedBundle(bundle=document, bundle_bytes=bundle_bytes, issues=issues, model=model)


def _unwrap_parameters(document: dict[str, Any]) -> dict[str, Any]:
    parameters = document.get("parameter")
    found: list[tuple[int, Any]] = []
    if isinstance(parameters, list):
        found = [
            (index, p.get("resource"))
            for index, p in enumerate(parameters)
            if isinstance(p, dict) and p.get("name") == "resource"
        ]
    if len(found) != 1:
        text = "a Parameters body must have exactly one 'resource' parameter holding the request Bundle"
        raise invalid([Issue(text=text, code="required", expression="Parameters.parameter")])
    index, resource = found[0]
    if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
        text = "the 'resource' parameter must hold the request Bundle"
        raise invalid([Issue(text=text, code="structure", expression=f"Parameters.parameter[{index}].resource")])
    return resource


def _entry_type_issues(bundle: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return issues
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue  # reported by the R4B validation or the PAS rules
        name = resource.get("resourceType")
        if not isinstance(name, str) or not is_resource_type(name):
            issues.append(
                Issue(
                    text="the entry's resource has a missing or unknown resourceType",
                    code="structure",
                    expression=f"Bundle.entry[{index}].resource.resourceType",
                )
            )
    return issues


def validate_r4b(document: dict[str, Any]) -> list[Issue]:
    """Validate `document` as an R4B Bundle; return the failures as Issues (empty when valid)."""
    return _validated(document)[0]


def _validated(document: dict[str, Any]) -> tuple[list[Issue], Any]:
    """The R4B validation failures of `document` (empty when valid), and the valid model (else None)."""
    try:
        model = Bundle.model_validate(document)
    except ValidationError as exc:
        return [_issue_from_error(error) for error in exc.errors(include_url=False, include_input=False)], None
    except Exception as exc:  # fhir.resources raises KeyError/TypeError/... for some malformed input
        logger.info("R4B validation raised %s", type(exc).__name__)
        return [Issue(text="the Bundle is not valid FHIR R4 (a resource or element type is not recognized)")], None
    return [], model


def canonical_json(model: Any) -> bytes:
    """A validated Bundle as the R4B model writes it, keys sorted and whole decimals as integers: the same
    whether the request came as JSON or XML, with whatever whitespace, key order or number spelling (b""
    when it cannot be written). Writing the model costs about as much as validating it, so callers ask for
    it only when they compare two requests (a replay), never on every request."""
    if model is None:
        return b""
    try:
        written = orjson.loads(model.model_dump_json(by_alias=True, exclude_none=True))
        return orjson.dumps(_same_numbers(written), option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, ValueError, TypeError):
        return b""  # no canonical form: the request is compared by its sorted JSON instead


def canonical_of_stored(body: bytes) -> bytes:
    """`canonical_json` of a stored request Bundle's bytes (b"" when they are not a valid Bundle any more)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return b""
    if not isinstance(document, dict):
        return b""
    issues, model = _validated(document)
    return b"" if issues else canonical_json(model)


def _same_numbers(value: Any) -> Any:
    """`value` with every whole decimal written as an integer (XML's 1.0 and JSON's 1 are one quantity)."""
    if isinstance(value, dict):
        return {key: _same_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_same_numbers(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:  # exact as an int (and fits JSON's)
        return int(value)
    return value


def _issue_from_error(error: Any) -> Issue:
    path = "Bundle"
    for part in error.get("loc", ()):
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        elif isinstance(part, str) and part:
            path += f".{part}"
    message = str(error.get("msg", "invalid value")).split("\n", 1)[0].strip()
    code = (
        "required" if error.get("type") == "missing" else "structure" if "type" in str(error.get("type")) else "value"
    )
    return Issue(text=f"{message}", code=code, expression=path)
