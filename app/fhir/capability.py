"""The server's CapabilityStatement (FHIR 4.0.1) for `GET /metadata`, as a plain dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.fhir import urls

_CLAIM_PROFILES = (urls.PROFILE_CLAIM, urls.PROFILE_CLAIM_UPDATE, urls.PROFILE_CLAIM_INQUIRY)
_BUNDLE_PROFILES = (
    urls.PROFILE_REQUEST_BUNDLE,
    urls.PROFILE_RESPONSE_BUNDLE,
    urls.PROFILE_INQUIRY_REQUEST_BUNDLE,
    urls.PROFILE_INQUIRY_RESPONSE_BUNDLE,
)
SMART_SERVICE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
            "display": "SMART-on-FHIR",
        }
    ]
}


def capability_statement(
    base_url: str,
    *,
    software_version: str = "0.1.0",
    software_name: str = "epa-hub",
    development: bool = False,
    subscription_topics: Sequence[str] = (),
    date: datetime | None = None,
) -> dict[str, Any]:
    """The CapabilityStatement of the PAS server at `base_url`.

    Names `Claim/$submit` and `Claim/$inquire` (PAS OperationDefinition canonicals), ClaimResponse
    read and search by `identifier` and `patient.identifier`, the PAS profiles supported, and the
    SMART Backend Services security stanza (omitted in `development` mode, which has no auth).
    `subscription_topics` (canonical URLs) adds the R4 Subscription backport resource when given.
    """
    base = base_url.rstrip("/")
    resources: list[dict[str, Any]] = [
        {
            "type": "Claim",
            "profile": urls.PROFILE_CLAIM,
            "supportedProfile": list(_CLAIM_PROFILES[1:]),
            "operation": [
                {"name": "submit", "definition": urls.OP_SUBMIT},
                {"name": "inquire", "definition": urls.OP_INQUIRE},
            ],
        },
        {
            "type": "ClaimResponse",
            "profile": urls.PROFILE_CLAIM_RESPONSE,
            "supportedProfile": [urls.PROFILE_CLAIM_INQUIRY_RESPONSE],
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": "identifier", "type": "token"},
                {"name": "patient.identifier", "type": "token"},
            ],
        },
        {"type": "Bundle", "supportedProfile": list(_BUNDLE_PROFILES)},
    ]
    if subscription_topics:
        resources.append(
            {
                "type": "Subscription",
                "profile": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription",
                "interaction": [{"code": c} for c in ("create", "read", "update", "delete", "search-type")],
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical",
                        "valueCanonical": topic,
                    }
                    for topic in subscription_topics
                ],
            }
        )
    rest: dict[str, Any] = {"mode": "server", "resource": resources}
    if not development:
        rest["security"] = {
            "service": [SMART_SERVICE],
            "description": "SMART Backend Services (client credentials with a signed JWT assertion).",
            "extension": [
                {
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}],
                }
            ],
        }
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": (date or datetime.now(UTC)).isoformat(),
        "kind": "instance",
        "software": {"name": software_name, "version": software_version},
        "implementation": {"description": "Da Vinci PAS prior authorization service", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "rest": [rest],
    }
