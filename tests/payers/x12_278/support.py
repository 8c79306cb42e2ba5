"""Shared builders of the x12-278 tests: the parties, control numbers and requests the codec is fed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from app.domain.model import Coding, Diagnosis, Period, PriorAuthRequest, ServiceItem
from app.payers.testing import sample_request
from app.payers.x12_278 import Control, Parties, Purpose, encode_request, people_of
from app.payers.x12_278.respond import Script, respond

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
HUB = Parties("EPAHUB", "CLEARHOUSE", "PAYER01", payer_name="ACME HEALTH")
PAYER = Parties("CLEARHOUSE", "EPAHUB", "PAYER01")
AT = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
TRACE = "EPA1A2B3C4"


def control(interchange: int = 12, group: int = 7) -> Control:
    return Control(interchange, group, AT)


def rich_request() -> PriorAuthRequest:
    """The kit's request with diagnoses, dates, a modifier, a service type and a place of service."""
    base = sample_request()
    first = replace(
        base.items[0],
        modifiers=(Coding(None, "RR"),),
        serviced=Period(date(2027, 1, 4), date(2027, 3, 31)),
        category=Coding(None, "12"),
        place_of_service=Coding(None, "12"),
    )
    return replace(
        base,
        items=(first, *base.items[1:]),
        diagnoses=(
            Diagnosis(2, Coding("http://hl7.org/fhir/sid/icd-10-cm", "M54.50")),
            Diagnosis(1, Coding("http://hl7.org/fhir/sid/icd-10-cm", "G89.4")),
        ),
        level_of_service="U",
    )


def encoded(request: PriorAuthRequest | None = None, purpose: Purpose | None = None, bundle: bytes = b"{}") -> str:
    return encode_request(
        request or sample_request(), HUB, control(), trace=TRACE, people=people_of(bundle), purpose=purpose
    )


def answered(script: Script, request: PriorAuthRequest | None = None) -> str:
    return respond(encoded(request), script, PAYER, control(500, 501))


def item(sequence: int, system: str, code: str, quantity: int = 1) -> ServiceItem:
    return ServiceItem(sequence=sequence, product_or_service=Coding(system, code), quantity=Decimal(quantity))


def recount(text: str) -> str:
    """`text` with SE01 set to its segment count again (after a test edited the body)."""
    segments = text.split("~")[:-1]
    st = next(n for n, s in enumerate(segments) if s.startswith("ST*"))
    se = next(n for n, s in enumerate(segments) if s.startswith("SE*"))
    control = segments[se].split("*")[2]
    segments[se] = f"SE*{se - st + 1}*{control}"
    return "~".join(segments) + "~"
