"""Typed request and decision objects shared by the FHIR layer, the services and payer adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.domain.codes import AuthorizationKind, Priority, ReviewAction


@dataclass(frozen=True, slots=True)
class Identifier:
    system: str | None
    value: str

    def key(self) -> str:
        """A single string that identifies this identifier (system|value), for storage and matching."""
        return f"{self.system or ''}|{self.value}"


@dataclass(frozen=True, slots=True)
class Coding:
    system: str | None
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    start: date | None
    end: date | None

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    sequence: int
    code: Coding


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """One requested service line, keyed by `sequence` (stable across request, response, updates)."""

    sequence: int
    product_or_service: Coding
    category: Coding | None = None  # X12 1365 service type, when given
    modifiers: tuple[Coding, ...] = ()
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    serviced: Period | None = None
    place_of_service: Coding | None = None
    diagnosis_sequences: tuple[int, ...] = ()
    certification_type: str | None = None  # X12 1322: "3" cancels the item
    performer: Identifier | None = None  # the performing provider, when the item names one
    request_type: str | None = None  # X12 1525 (e.g. "HS" health services review, "SC" referral)

    @property
    def cancelled(self) -> bool:
        return self.certification_type == "3"


@dataclass(frozen=True, slots=True)
class PriorAuthRequest:
    """A validated PAS request, independent of FHIR."""

    bundle_identifier: Identifier
    claim_identifiers: tuple[Identifier, ...]
    insurer: tuple[Identifier, ...]  # the Claim's insurer Organization identifiers
    payor: tuple[Identifier, ...]  # the focal Coverage payor identifiers
    provider: tuple[Identifier, ...]  # the requesting provider (NPI first when present)
    member_id: Identifier | None  # Coverage subscriberId / member identifier
    patient_identifiers: tuple[Identifier, ...]
    created: datetime
    items: tuple[ServiceItem, ...]
    diagnoses: tuple[Diagnosis, ...] = ()
    kind: AuthorizationKind = AuthorizationKind.PRIOR
    priority: Priority = Priority.STANDARD
    level_of_service: str | None = None  # X12 1338 levelOfServiceCode (U, E, ...)
    certification_type: str | None = None  # Claim-level X12 1322; "3" cancels the whole request
    related_claim: Identifier | None = None  # PASClaimUpdate: the prior Claim's identifier
    coverage_assertion_ids: tuple[str, ...] = ()  # CRD coverage-information links, when carried

    @property
    def is_update(self) -> bool:
        return self.related_claim is not None

    @property
    def cancels_all(self) -> bool:
        return self.certification_type == "3"


@dataclass(frozen=True, slots=True)
class ItemDecision:
    """A payer's (or a rule's) decision on one item, by `sequence`."""

    sequence: int
    action: ReviewAction
    reason_codes: tuple[Coding, ...] = ()  # X12 886 or payer codes; required for denials
    reason_text: str | None = None
    authorization_number: str | None = None
    authorized_quantity: Decimal | None = None
    authorized_period: Period | None = None
    authorized_service: Coding | None = None  # A6: the service authorized instead


@dataclass(frozen=True, slots=True)
class PayerReply:
    """What a payer answered to submit, inquire or cancel."""

    decisions: tuple[ItemDecision, ...]
    payer_reference: str | None = None  # the payer's tracking reference for follow-ups
    preauth_ref: str | None = None  # authorization number for the whole request
    preauth_period: Period | None = None
    retry_after: timedelta | None = None  # for pended answers: when to ask again
    disposition: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)  # the payer's response, for the record
    information_request: InformationRequest | None = None  # the payer asks for documents (items stay A4)

    def decision_for(self, sequence: int) -> ItemDecision | None:
        for decision in self.decisions:
            if decision.sequence == sequence:
                return decision
        return None


@dataclass(frozen=True, slots=True)
class InformationRequest:
    """A payer's request for more documentation (PAS ClaimResponse.communicationRequest, or a PAS Task
    with `attachment-request-code` or `questionnaire` inputs): what is needed and by when."""

    codes: tuple[Coding, ...] = ()  # what is needed (e.g. LOINC document types, attachment-request-code)
    text: str | None = None
    due_at: datetime | None = None  # when the payer wants the documents by
    questionnaire: str | None = None  # canonical URL of a questionnaire to answer, when asked
    payer_reference: str | None = None  # the payer's id of the request (CommunicationRequest / Task), if any


@dataclass(frozen=True, slots=True)
class Attachment:
    """One document the provider sent in answer (CDex `$submit-attachment` or a PAS update's
    supportingInfo): the FHIR resource as JSON bytes, stored once by its sha256."""

    resource_type: str  # DocumentReference, QuestionnaireResponse, Binary, ...
    content: bytes  # the resource, JSON
    sha256: str
    content_type: str = "application/fhir+json"
