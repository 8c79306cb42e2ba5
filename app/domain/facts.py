"""What a request Bundle says beyond `PriorAuthRequest` that coverage checks need (filled by app.fhir)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.model import Period


@dataclass(frozen=True, slots=True)
class BundleFacts:
    """What the request Bundle says about coverage, the patient, documents and earlier authorizations."""

    coverage_period: Period | None = None
    birth_date: date | None = None
    referral_present: bool = False
    document_codes: frozenset[str] = frozenset()  # supportingInfo categories/codes, document types
    preauth_refs: tuple[str, ...] = ()  # Claim.insurance.preAuthRef: what a concurrent request extends
    satisfied_pa_ids: tuple[str, ...] = ()  # CRD coverage-information satisfied-pa-id
    specialties: tuple[str, ...] = ()  # care-team PractitionerRole.specialty codes
    service_state: str | None = None  # USPS state of the requesting provider (app.fhir.coverage_facts)
    plan_type: str | None = None  # the focal Coverage.type code (v3 ActCode: HMO, PPO, ...)
