"""Typed builders for coverage tests: rules from TOML text, service items and requests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from app.coverage.codes import CPT, HCPCS
from app.coverage.evaluate import ItemFacts, PayerRules
from app.coverage.loader import parse_rules
from app.domain.codes import AuthorizationKind, Priority
from app.domain.model import Coding, Diagnosis, Identifier, Period, PriorAuthRequest, ServiceItem

HEADER = 'format = 1\nversion = "test-1"\npayers = ["sandbox"]\nin_network = ["1234567893"]\n'
DAY = date(2030, 5, 10)


def payer_rules(body: str, header: str = HEADER) -> PayerRules:
    """PayerRules from the TOML body of a rules file (the header adds format, version and payers)."""
    return PayerRules.of("sandbox", "test.toml", parse_rules(header + body, "test.toml"))


def item(
    code: str = "E0193",
    *,
    sequence: int = 1,
    system: str = HCPCS,
    category: str | None = None,
    pos: str | None = "12",
    quantity: str | None = "1",
    served: date | None = DAY,
    performer: str | None = None,
    diagnoses: tuple[int, ...] = (1,),
    certification: str | None = "I",
) -> ServiceItem:
    return ServiceItem(
        sequence=sequence,
        product_or_service=Coding(system, code),
        category=Coding("https://codesystem.x12.org/005010/1365", category) if category else None,
        quantity=Decimal(quantity) if quantity else None,
        serviced=Period(served, served) if served else None,
        place_of_service=Coding(None, pos) if pos else None,
        diagnosis_sequences=diagnoses,
        certification_type=certification,
        performer=Identifier("http://hl7.org/fhir/sid/us-npi", performer) if performer else None,
    )


def facts(
    service: ServiceItem | None = None,
    *,
    diagnoses: tuple[str, ...] = ("M54.50",),
    age: int | None = 60,
    npis: tuple[str, ...] = ("1234567893",),
    specialties: tuple[str, ...] = (),
    kind: AuthorizationKind = AuthorizationKind.PRIOR,
) -> ItemFacts:
    service = service or item()
    day = service.serviced.start if service.serviced and service.serviced.start else DAY
    return ItemFacts(service, day, diagnoses, age, npis, specialties, kind)


def request(
    *items: ServiceItem,
    kind: AuthorizationKind = AuthorizationKind.PRIOR,
    created: datetime = datetime(2030, 5, 2, tzinfo=UTC),
    diagnoses: tuple[tuple[int, str], ...] = ((1, "M54.50"),),
    priority: Priority = Priority.STANDARD,
) -> PriorAuthRequest:
    return PriorAuthRequest(
        bundle_identifier=Identifier("urn:test", "B-1"),
        claim_identifiers=(Identifier("urn:test", "C-1"),),
        insurer=(),
        payor=(),
        provider=(Identifier("http://hl7.org/fhir/sid/us-npi", "1234567893"),),
        member_id=Identifier(None, "MEMBER-1"),
        patient_identifiers=(),
        created=created,
        items=items or (item(),),
        diagnoses=tuple(Diagnosis(s, Coding("http://hl7.org/fhir/sid/icd-10-cm", c)) for s, c in diagnoses),
        kind=kind,
        priority=priority,
    )


__all__ = ["CPT", "DAY", "HCPCS", "facts", "item", "payer_rules", "request"]
