"""Resource limits on request JSON, checked before any model validation.

The byte-size limit (413) is enforced by the API before the FHIR layer is called; these
limits bound what a body within that size can cost: nesting depth (recursion in validators),
array lengths and string lengths (memory and time in the rules that walk the tree).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def check_json_limits(document: Any, limits: ParseLimits, root: str) -> None:
    """Walk decoded JSON iteratively and raise InvalidRequest on the first limit exceeded.

    `root` names the document in FHIRPath expressions (e.g. "Bundle" or "Parameters").
    """
    stack: list[tuple[Any, int, str]] = [(document, 1, root)]
    max_depth = limits.max_depth
    max_array = limits.max_array_length
    max_string = limits.max_string_length
    while stack:
        node, depth, path = stack.pop()
        if depth > max_depth:
            raise _too_costly(f"JSON nesting deeper than {max_depth} levels", path)
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    if len(value) > max_string:
                        raise _too_costly(f"string longer than {max_string} characters", f"{path}.{key}")
                elif isinstance(value, dict | list):
                    stack.append((value, depth + 1, f"{path}.{key}"))
                if len(key) > max_string:
                    raise _too_costly(f"property name longer than {max_string} characters", path)
        else:  # list
            if len(node) > max_array:
                raise _too_costly(f"array longer than {max_array} elements", path)
            for index, value in enumerate(node):
                if isinstance(value, str):
                    if len(value) > max_string:
                        raise _too_costly(f"string longer than {max_string} characters", f"{path}[{index}]")
                elif isinstance(value, dict | list):
                    stack.append((value, depth + 1, f"{path}[{index}]"))


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
