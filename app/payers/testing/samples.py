"""The request the kit submits: three items (HCPCS E0100, E0200, E0300), and a minimal PAS-shaped
Bundle of it for adapters that forward FHIR."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson

from app.payers.sdk import Coding, Identifier, PriorAuthRequest, ServiceItem

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def sample_request() -> PriorAuthRequest:
    """A three-item request (codes E0100, E0200, E0300) the kit submits."""
    items = tuple(
        ServiceItem(sequence=n, product_or_service=Coding(HCPCS, f"E0{n}00"), quantity=Decimal(4)) for n in (1, 2, 3)
    )
    return PriorAuthRequest(
        bundle_identifier=Identifier("urn:epa-hub:contract-kit", "bundle-1"),
        claim_identifiers=(Identifier("urn:epa-hub:contract-kit", "claim-1"),),
        insurer=(Identifier("http://hl7.org/fhir/sid/us-npi", "1234567893"),),
        payor=(),
        provider=(Identifier("http://hl7.org/fhir/sid/us-npi", "1234567890"),),
        member_id=Identifier(None, "KIT-MEMBER-1"),
        patient_identifiers=(),
        created=datetime(2025, 1, 6, 12, 0, tzinfo=UTC),
        items=items,
    )


def sample_bundle(request: PriorAuthRequest) -> bytes:
    """A minimal PAS-shaped request Bundle for `request` (enough for adapters that forward FHIR)."""
    claim = {
        "resourceType": "Claim",
        "identifier": [{"system": i.system, "value": i.value} for i in request.claim_identifiers],
        "status": "active",
        "use": "preauthorization",
        "item": [
            {
                "sequence": i.sequence,
                "productOrService": {
                    "coding": [{"system": i.product_or_service.system, "code": i.product_or_service.code}]
                },
                "quantity": {"value": float(i.quantity or 1)},
            }
            for i in request.items
        ],
    }
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": request.bundle_identifier.system, "value": request.bundle_identifier.value},
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:claim-1", "resource": claim}],
    }
    return orjson.dumps(bundle)
