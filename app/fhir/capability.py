"""The server's CapabilityStatement (FHIR 4.0.1) for `GET /fhir/metadata`, as a plain dict.

It names every interaction and operation the FHIR routes serve (a test compares it with the
app's routes), the implementation guides it implements (PAS 2.2.1 and, for the CDS Hooks
services, CRD), the PAS profiles per resource type, and the SMART Backend Services security
service with its token URL. `implementation.url` is the FHIR base (`{base}/fhir`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from app.fhir import urls
from app.fhir.dtr import DTR_IG, DTR_PAYER_SERVICE, OP_LOG_ERRORS, OP_QUESTIONNAIRE_PACKAGE
from app.fhir.subscription import BACKPORT, SUBSCRIPTION_PROFILE

PAS_IG: Final = f"{urls.PAS}/ImplementationGuide/hl7.fhir.us.davinci-pas|2.2.1"
CRD_IG: Final = "http://hl7.org/fhir/us/davinci-crd/ImplementationGuide/hl7.fhir.us.davinci-crd|2.2.1"
PAS_INTERMEDIARY: Final = f"{urls.PAS}/CapabilityStatement/intermediary|2.2.1"
CRD_SERVER: Final = "http://hl7.org/fhir/us/davinci-crd/CapabilityStatement/crd-server|2.2.1"
OP_VALIDATE: Final = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
OP_SUBSCRIPTION_STATUS: Final = (
    f"{BACKPORT.replace('StructureDefinition', 'OperationDefinition')}backport-subscription-status"
)
CDEX_IG: Final = "http://hl7.org/fhir/us/davinci-cdex/ImplementationGuide/hl7.fhir.us.davinci-cdex|2.1.0"
OP_SUBMIT_ATTACHMENT: Final = "http://hl7.org/fhir/us/davinci-cdex/OperationDefinition/submit-attachment"
TOPIC_CANONICAL: Final = f"{BACKPORT}capabilitystatement-subscriptiontopic-canonical"
SMART_SERVICE: Final = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
            "display": "SMART-on-FHIR",
        }
    ],
    "text": "SMART Backend Services (client credentials with a signed JWT assertion)",
}
_SD = f"{urls.PAS}/StructureDefinition"
# Resources accepted inside PAS request Bundles (no RESTful interactions of their own), with their PAS profiles.
_CONTAINED_PROFILES: Final = (
    ("Patient", f"{_SD}/profile-beneficiary", ()),
    ("Coverage", f"{_SD}/profile-coverage", ()),
    ("Organization", f"{_SD}/profile-requestor", (f"{_SD}/profile-insurer",)),
    ("Practitioner", f"{_SD}/profile-practitioner", ()),
    ("PractitionerRole", f"{_SD}/profile-practitionerrole", ()),
    ("Encounter", f"{_SD}/profile-encounter", ()),
    ("Location", f"{_SD}/profile-location", ()),
    ("ServiceRequest", f"{_SD}/profile-servicerequest", ()),
    ("DeviceRequest", f"{_SD}/profile-devicerequest", ()),
    ("MedicationRequest", f"{_SD}/profile-medicationrequest", ()),
    ("NutritionOrder", f"{_SD}/profile-nutritionorder", ()),
    ("CommunicationRequest", f"{_SD}/profile-communicationrequest", ()),
)


def _bundled(rtype: str, profile: str, others: Sequence[str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": rtype,
        "profile": profile,
        "documentation": "Accepted inside PAS request Bundles and echoed in the answers; no interactions of its own.",
    }
    if others:
        resource["supportedProfile"] = list(others)
    return resource


CHARGE_ITEM: dict[str, Any] = {
    "type": "ChargeItem",
    "interaction": [{"code": "create"}],
    "documentation": "Units used of an approval: code, quantity, occurrence, and supportingInformation naming "
    "the authorization's ClaimResponse (docs/walkthroughs/units-used.md).",
}


QUESTIONNAIRE: dict[str, Any] = {
    "type": "Questionnaire",
    "operation": [
        {"name": "questionnaire-package", "definition": OP_QUESTIONNAIRE_PACKAGE},
        {"name": "log-questionnaire-errors", "definition": OP_LOG_ERRORS},
        {
            "name": "next-question",
            "definition": "http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-next-question",
        },
    ],
    "documentation": "DTR 2.2.0 payer service: the payers' questionnaire packages (docs/dtr.md); "
    "scope system/Questionnaire.r.",
}


VALUE_SET: dict[str, Any] = {
    "type": "ValueSet",
    "operation": [{"name": "expand", "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"}],
    "documentation": "The value sets of the DTR questionnaire packages; scope system/ValueSet.r.",
}


def _subscription(topics: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "profile": SUBSCRIPTION_PROFILE,
        "interaction": [{"code": c} for c in ("create", "read", "update", "delete", "search-type")],
        "versioning": "versioned-update",
        "updateCreate": False,
        "conditionalUpdate": False,
        "operation": [{"name": "status", "definition": OP_SUBSCRIPTION_STATUS}],
        "extension": [{"url": TOPIC_CANONICAL, "valueCanonical": topic} for topic in topics],
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
    """The CapabilityStatement of the service at `base_url` (its FHIR base is `{base_url}/fhir`).

    Claim `$submit`, `$inquire` and `$validate`; ClaimResponse read, vread and search by
    `identifier` and `patient.identifier`; the PAS Bundle profiles; the R4 Subscription backport
    (create, read, update, delete, `$status`) when `subscription_topics` (canonical URLs) are
    given; the SMART security service with its token URL (in `development` mode the service also
    takes unauthenticated calls, and says so).
    """
    base = base_url.rstrip("/")
    resources: list[dict[str, Any]] = [
        {
            "type": "Claim",
            "profile": urls.PROFILE_CLAIM,
            "supportedProfile": [urls.PROFILE_CLAIM_UPDATE, urls.PROFILE_CLAIM_INQUIRY],
            "operation": [
                {"name": "submit", "definition": urls.OP_SUBMIT},
                {"name": "inquire", "definition": urls.OP_INQUIRE},
                {"name": "validate", "definition": OP_VALIDATE},
            ],
        },
        {
            "type": "ClaimResponse",
            "profile": urls.PROFILE_CLAIM_RESPONSE,
            "supportedProfile": [urls.PROFILE_CLAIM_INQUIRY_RESPONSE],
            "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "search-type"}],
            "versioning": "versioned",
            "readHistory": False,
            "searchParam": [
                {"name": "identifier", "type": "token"},
                {"name": "patient.identifier", "type": "token"},
            ],
        },
        {
            "type": "Bundle",
            "supportedProfile": [
                urls.PROFILE_REQUEST_BUNDLE,
                urls.PROFILE_RESPONSE_BUNDLE,
                urls.PROFILE_INQUIRY_REQUEST_BUNDLE,
                urls.PROFILE_INQUIRY_RESPONSE_BUNDLE,
            ],
        },
        *(_bundled(rtype, profile, others) for rtype, profile, others in _CONTAINED_PROFILES),
    ]
    if subscription_topics:
        resources.append(_subscription(subscription_topics))
    resources.append(CHARGE_ITEM)
    resources += [QUESTIONNAIRE, VALUE_SET]
    description = "SMART Backend Services: client credentials with a signed JWT assertion (private_key_jwt)."
    if development:
        description += " This instance runs in development mode and also accepts unauthenticated calls."
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "Da Vinci PAS 2.2.1 (2.0.1 requests accepted); CRD CDS Hooks services at /cds-services.",
        "security": {
            "cors": False,
            "service": [SMART_SERVICE],
            "description": description,
            "extension": [
                {
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}],
                }
            ],
        },
        "resource": resources,
        # CDex 2.1: the documents a payer asked for (a system-level operation)
        "operation": [{"name": "submit-attachment", "definition": OP_SUBMIT_ATTACHMENT}],
    }
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": (date or datetime.now(UTC)).isoformat(),
        "publisher": "epa-hub",
        "kind": "instance",
        "instantiates": [PAS_INTERMEDIARY, CRD_SERVER, DTR_PAYER_SERVICE],
        "software": {"name": software_name, "version": software_version},
        "implementation": {"description": "Da Vinci PAS prior authorization service", "url": f"{base}/fhir"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "implementationGuide": [PAS_IG, CRD_IG, CDEX_IG, DTR_IG],
        "rest": [rest],
    }
