"""Facts about a request beyond `PriorAuthRequest` that coverage checks need, and per-item facts.

`BundleFacts` (`app.domain.facts`) is filled by the FHIR layer from the request Bundle;
`item_facts` combines it with one item for `evaluate`.
"""

from __future__ import annotations

from datetime import date

from app.coverage.evaluate import ItemFacts
from app.domain.facts import BundleFacts
from app.domain.model import PriorAuthRequest, ServiceItem


def age_on(birth_date: date | None, day: date) -> int | None:
    """Age in whole years on `day` (None without a birth date)."""
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def service_date(item: ServiceItem, fallback: date) -> date:
    """The item's first service date, else `fallback` (the request's creation date)."""
    return item.serviced.start if item.serviced and item.serviced.start else fallback


def item_facts(request: PriorAuthRequest, facts: BundleFacts, item: ServiceItem) -> ItemFacts:
    """Everything `evaluate` needs for one item of `request`."""
    day = service_date(item, request.created.date())
    pointed = set(item.diagnosis_sequences)
    diagnoses = tuple(d.code.code for d in request.diagnoses if not pointed or d.sequence in pointed)
    npis: list[str] = []
    if item.performer is not None:
        npis.append(item.performer.value)
    npis += [p.value for p in request.provider if p.system == "http://hl7.org/fhir/sid/us-npi"]
    return ItemFacts(
        item=item,
        service_date=day,
        diagnosis_codes=diagnoses,
        age=age_on(facts.birth_date, day),
        provider_npis=tuple(dict.fromkeys(npis)),
        specialties=facts.specialties,
        kind=request.kind,
        state=facts.service_state,
        plan_type=facts.plan_type,
    )
