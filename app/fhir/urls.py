"""Canonical URLs and code systems of Da Vinci PAS (STU 2.2.1), CRD and X12 used by the FHIR layer."""

from __future__ import annotations

from typing import Final

from app.domain.codes import X12_886_SYSTEM, X12_UNITS_SYSTEM

PAS: Final = "http://hl7.org/fhir/us/davinci-pas"
_SD: Final = f"{PAS}/StructureDefinition"

# Profiles
PROFILE_REQUEST_BUNDLE: Final = f"{_SD}/profile-pas-request-bundle"
PROFILE_RESPONSE_BUNDLE: Final = f"{_SD}/profile-pas-response-bundle"
PROFILE_INQUIRY_REQUEST_BUNDLE: Final = f"{_SD}/profile-pas-inquiry-request-bundle"
PROFILE_INQUIRY_RESPONSE_BUNDLE: Final = f"{_SD}/profile-pas-inquiry-response-bundle"
PROFILE_CLAIM: Final = f"{_SD}/profile-claim"
PROFILE_CLAIM_UPDATE: Final = f"{_SD}/profile-claim-update"
PROFILE_CLAIM_INQUIRY: Final = f"{_SD}/profile-claim-inquiry"
PROFILE_CLAIM_RESPONSE: Final = f"{_SD}/profile-claimresponse"
PROFILE_CLAIM_INQUIRY_RESPONSE: Final = f"{_SD}/profile-claiminquiryresponse"

# Operations
OP_SUBMIT: Final = f"{PAS}/OperationDefinition/Claim-submit"
OP_INQUIRE: Final = f"{PAS}/OperationDefinition/Claim-inquiry"

# Request extensions
EXT_LEVEL_OF_SERVICE: Final = f"{_SD}/extension-levelOfServiceCode"
EXT_CERTIFICATION_TYPE: Final = f"{_SD}/extension-certificationType"
EXT_SERVICE_ITEM_REQUEST_TYPE: Final = f"{_SD}/extension-serviceItemRequestType"
EXT_REQUESTED_SERVICE: Final = f"{_SD}/extension-requestedService"
EXT_INFO_CANCELLED: Final = f"{_SD}/modifierextension-infoCancelled"
EXT_INFO_CHANGED: Final = f"{_SD}/extension-infoChanged"
EXT_AUTHORIZATION_NUMBER: Final = f"{_SD}/extension-authorizationNumber"

# Response extensions
EXT_REVIEW_ACTION: Final = f"{_SD}/extension-reviewAction"
EXT_REVIEW_ACTION_CODE: Final = f"{_SD}/extension-reviewActionCode"
EXT_ITEM_PREAUTH_PERIOD: Final = f"{_SD}/extension-itemPreAuthPeriod"
EXT_ITEM_PREAUTH_ISSUE_DATE: Final = f"{_SD}/extension-itemPreAuthIssueDate"

# CRD coverage-information (carried on requests that followed a CRD answer)
EXT_CRD_COVERAGE_INFORMATION: Final = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CRD_COVERAGE_ASSERTION_ID: Final = "coverage-assertion-id"

# Code systems
X12_306: Final = "https://codesystem.x12.org/005010/306"  # review action
X12_1322: Final = "https://codesystem.x12.org/005010/1322"  # certification type
X12_1338: Final = "https://codesystem.x12.org/005010/1338"  # level of service
X12_1525: Final = "https://codesystem.x12.org/005010/1525"  # request category (UM01)
X12_1365: Final = "https://codesystem.x12.org/005010/1365"  # service type
X12_886: Final = X12_886_SYSTEM  # review decision reason codes (X12 External Code Source 886)
X12_UNITS: Final = X12_UNITS_SYSTEM  # units of a Quantity (PAS prof-2/prof-3)
ICD_10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
NPI: Final = "http://hl7.org/fhir/sid/us-npi"
ADJUDICATION: Final = "http://terminology.hl7.org/CodeSystem/adjudication"
DATA_ABSENT_REASON: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
PROCESS_PRIORITY: Final = "http://terminology.hl7.org/CodeSystem/processpriority"
V2_0203: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
PAS_TEMP_CODES: Final = f"{PAS}/CodeSystem/PASTempCodes"
SUBSETTED_SECURITY: Final = "SUBSETTED"

# X12 code values the service acts on
CERT_CANCEL: Final = "3"
CERT_CONCURRENT: Final = frozenset({"4", "R"})  # 4 extension, R renewal
# X12 1338: U urgent, 03 emergency are expedited; E is "Elective" (see the Surgical example).
LEVELS_EXPEDITED: Final = frozenset({"U", "03"})
REQUEST_TYPE_SPECIALTY: Final = "SC"  # UM01 Specialty Care Review (also how referrals are sent)
SERVICE_TYPE_CONSULTATION: Final = "3"  # X12 1365 "Consultation": what PAS referral examples request


def x12_system_matches(system: str | None, expected: str) -> bool:
    """Whether `system` is the X12 code system `expected`, tolerating the http:// form some clients send."""
    if system is None:
        return False
    return system == expected or system == expected.replace("https://", "http://", 1)
