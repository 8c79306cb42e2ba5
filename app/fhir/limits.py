"""Resource limits on request JSON, checked before any model validation.

The byte-size limit (413) is enforced by the API before the FHIR layer is called; these
limits bound what a body within that size can cost: nesting depth (recursion in validators),
array lengths and string lengths (memory and time in the rules that walk the tree). The same walk
refuses control characters in any string (FHIR forbids them; PostgreSQL refuses NUL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.bounds import has_control_characters
from app.errors import InvalidRequest, Issue


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds on a request's JSON. Defaults fit every real PAS request with room to spare."""

    max_depth: int = 64  # JSON nesting (objects and arrays)
    max_entries: int = 500  # Bundle.entry
    max_items: int = 200  # Claim.item
    max_array_length: int = 2000  # any other array
    max_string_length: int = 1_048_576  # characters in any one string (attachments included)


def _too_costly(text: str, expression: str) -> InvalidRequest:
    return InvalidRequest(text, issues=[Issue(text=text, code="too-costly", expression=expression)])


def _control_character(document: Any, node: Any, value: str, root: str) -> InvalidRequest:
    where = path_to(document, node, root)
    if type(node) is dict:
        where += next((f".{key}" for key, v in node.items() if v is value), "")
    else:
        where += next((f"[{k}]" for k, v in enumerate(node) if v is value), "")
    text = "a string holds a control character (NUL, or another below U+0020 than tab, line feed, carriage return)"
    return InvalidRequest(text, issues=[Issue(text=text, code="invalid", expression=where)])


def may_hold_control_characters(body: bytes) -> bool:
    """Whether JSON `body` may decode to a string holding a control character. JSON writes them only as
    escapes (a raw one is refused by the decoder), `\\b`, `\\f` or `\\u00XX`; bytes with none of those (nor an
    escaped backslash that looks like one) decode to no control character at all."""
    return b"\\u00" in body or b"\\b" in body or b"\\f" in body


def check_json_limits(document: Any, limits: ParseLimits, root: str, *, body: bytes | None = None) -> None:
    """Walk decoded JSON iteratively and raise InvalidRequest on the first limit exceeded.

    The walk keeps no paths (it runs on every request); the FHIRPath of an offending node is
    searched for only when a limit is exceeded. `root` names the document (e.g. "Bundle").
    `body`, the JSON bytes `document` was decoded from, lets the walk skip searching each string for
    control characters when the bytes show there can be none (`may_hold_control_characters`).
    """
    max_depth, max_array, max_string = limits.max_depth, limits.max_array_length, limits.max_string_length
    controls = body is None or may_hold_control_characters(body)
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise _too_costly(f"JSON nesting deeper than {max_depth} levels", path_to(document, node, root))
        if type(node) is dict:
            values: Any = node.values()
        else:
            if len(node) > max_array:
                raise _too_costly(f"array longer than {max_array} elements", path_to(document, node, root))
            values = node
        for value in values:
            kind = type(value)
            if kind is str:
                if len(value) > max_string:
                    text = f"string longer than {max_string} characters"
                    raise _too_costly(text, path_to(document, node, root))
                if controls and has_control_characters(value):
                    raise _control_character(document, node, value, root)
            elif kind is dict or kind is list:
                stack.append((value, depth + 1))


def path_to(document: Any, target: Any, root: str) -> str:
    """The FHIRPath-like path from `document` to the container `target` (by identity), else `root`."""
    stack: list[tuple[Any, str]] = [(document, root)]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if isinstance(node, dict):
            stack += [(v, f"{path}.{k}") for k, v in node.items() if isinstance(v, dict | list)]
        elif isinstance(node, list):
            stack += [(v, f"{path}[{i}]") for i, v in enumerate(node) if isinstance(v, dict | list)]
    return root


def check_bundle_counts(bundle: dict[str, Any], limits: ParseLimits) -> None:
    """Raise InvalidRequest when the Bundle has more entries, or its first Claim more items, than allowed."""
    entries = bundle.get("entry")
    if isinstance(entries, list):
        if len(entries) > limits.max_entries:
            raise _too_costly(f"more than {limits.max_entries} Bundle entries", "Bundle.entry")
        first = entries[0] if entries else None
        resource = first.get("resource") if isinstance(first, dict) else None
        items = resource.get("item") if isinstance(resource, dict) else None
        if isinstance(items, list) and len(items) > limits.max_items:
            raise _too_costly(f"more than {limits.max_items} Claim items", "Bundle.entry[0].resource.item")
