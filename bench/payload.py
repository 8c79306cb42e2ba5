"""The benchmark's request: a valid 3-item PAS Bundle of about 12 KB (narrative included, as EHRs send)."""

from __future__ import annotations

from typing import Any

from tests.support.bundles import make_pas_bundle


def pas_bundle(items: int = 3) -> dict[str, Any]:
    bundle = make_pas_bundle(items=items)
    paragraph = "<p>Requested services and clinical summary for review.</p>" * 90
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Claim":
            resource["text"] = {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraph}</div>',
            }
    return bundle
