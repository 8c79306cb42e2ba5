"""Typed builders for payer tests: requests, submissions, a movable clock, a recording sleep (the PAS
responses payers send are in tests/support/payer_answers.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.domain.model import Coding, Identifier, PriorAuthRequest, ServiceItem
from app.payers.contract import PayerReference, PayerSubmission
from app.payers.testing import HCPCS, sample_bundle

NPI = "http://hl7.org/fhir/sid/us-npi"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def item(sequence: int, code: str, quantity: int | None = None, *, cancelled: bool = False) -> ServiceItem:
    return ServiceItem(
        sequence=sequence,
        product_or_service=Coding(HCPCS, code),
        quantity=Decimal(quantity) if quantity is not None else None,
        certification_type="3" if cancelled else None,
    )


def request(
    *items: ServiceItem,
    member: str = "M-1000",
    bundle: str = "B-1",
    insurer: tuple[Identifier, ...] = (Identifier(NPI, "1234567893"),),
    payor: tuple[Identifier, ...] = (),
) -> PriorAuthRequest:
    return PriorAuthRequest(
        bundle_identifier=Identifier("urn:test", bundle),
        claim_identifiers=(Identifier("urn:test", f"claim-{bundle}"),),
        insurer=insurer,
        payor=payor,
        provider=(Identifier(NPI, "1234567890"),),
        member_id=Identifier("urn:test:member", member),
        patient_identifiers=(),
        created=START,
        items=items or (item(1, "99212"),),
    )


def submission(req: PriorAuthRequest, authorization_id: str = "auth-1") -> PayerSubmission:
    return PayerSubmission(authorization_id=authorization_id, request=req, bundle=sample_bundle(req))


def reference(sub: PayerSubmission, payer_reference: str | None) -> PayerReference:
    return PayerReference(sub.authorization_id, payer_reference, sub.request, sub.bundle)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class RecordingSleep:
    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
