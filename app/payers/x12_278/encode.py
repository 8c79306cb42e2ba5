"""Encode a stored PAS request (the typed `PriorAuthRequest`) into a 005010X217 278 request.

    ISA GS ST BHT(0007,13)
      2000A HL*20  2010A NM1*X3 (payer id)
      2000B HL*21  2010B NM1*1P (requester, NPI)
      2000C HL*22  2010C NM1*IL (member id) DMG
      2000D HL*23  2010D NM1*QC DMG                 only when the patient is not the subscriber
      2000E HL*EV  TRN UM REF*BB/NT DTP*AAH HI       the patient event
        2000F HL*SS  TRN UM DTP*472 SV1|SV2|SV3 HSD  one per item
    SE GE IEA

Updates are revisions (UM02 `S`), cancels cancellations (`3`); the level codes, qualifiers and
service segments come from `tables.toml`. Every TRN carries the trace number: the event's is
`trace`, each service's `trace-<item sequence>`, so the response's echo names the item it answers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.codes import AuthorizationKind
from app.domain.model import Diagnosis, Identifier, Period, PriorAuthRequest, ServiceItem
from app.payers.x12_278.envelope import Control, Parties, d8, number, wrap
from app.payers.x12_278.people import People, Person
from app.payers.x12_278.segments import Segment, render, safe_text, segment
from app.payers.x12_278.tables import Tables, tables

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TRACE_PREFIX = "EPA"
MAX_DIAGNOSES = 12


@dataclass(frozen=True, slots=True)
class Purpose:
    """What the 278 asks: a new request, a revision (update) or a cancellation, with the payer's
    references to the request it revises or cancels (REF*BB authorization, REF*NT administrative)."""

    cancel: bool = False
    previous_authorization: str | None = None
    administrative_reference: str | None = None


def trace_for(key: str) -> str:
    """The trace number (BHT03, TRN02) of the 278 the hub sends for `key` (an authorization id and what
    the 278 does): stable, so a retried request carries the same trace, and no PHI."""
    return TRACE_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:27].upper()


def certification_type(request: PriorAuthRequest, purpose: Purpose, t: Tables) -> str:
    """UM02: cancel `3` > revision `S` > extension `4` (a concurrent review) > initial `I`."""
    if purpose.cancel or request.cancels_all:
        return t.certification_types["cancel"]
    if request.is_update:
        return t.certification_types["update"]
    if request.kind is AuthorizationKind.CONCURRENT:
        return t.certification_types["concurrent"]
    return t.certification_types["initial"]


def _span(items: tuple[ServiceItem, ...]) -> Period | None:
    starts = [i.serviced.start for i in items if i.serviced and i.serviced.start]
    ends = [i.serviced.end or i.serviced.start for i in items if i.serviced and (i.serviced.end or i.serviced.start)]
    if not starts and not ends:
        return None
    return Period(min(starts) if starts else None, max(e for e in ends if e) if ends else None)


def _dates(qualifier: str, period: Period | None) -> Segment | None:
    if period is None or (period.start is None and period.end is None):
        return None
    start: date = period.start or period.end  # type: ignore[assignment]
    end: date = period.end or start
    if start == end:
        return segment("DTP", qualifier, "D8", d8(start))
    return segment("DTP", qualifier, "RD8", f"{d8(start)}-{d8(end)}")


def _name(entity: str, person: Person | None, id_qualifier: str, identifier: str | None) -> Segment:
    person = person or Person()
    kind = "2" if person.organization else "1"
    last = safe_text(person.last, 60) if person.last else None
    first = safe_text(person.first, 35) if person.first and not person.organization else None
    return segment("NM1", entity, kind, last, first, None, None, None, id_qualifier if identifier else None, identifier)


def _demographics(person: Person | None, t: Tables) -> Segment | None:
    if person is None or person.birth_date is None:
        return None
    gender = t.genders.get(person.gender or "", None)
    return segment("DMG", "D8", d8(person.birth_date), gender)


def _diagnoses(diagnoses: tuple[Diagnosis, ...], t: Tables) -> Segment | None:
    if not diagnoses:
        return None
    ordered = sorted(diagnoses, key=lambda d: d.sequence)[:MAX_DIAGNOSES]
    parts: list[tuple[str, ...]] = []
    for n, diagnosis in enumerate(ordered):
        principal, other = t.diagnosis_qualifiers.get(diagnosis.code.system or "", ("ABK", "ABF"))
        parts.append((principal if n == 0 else other, diagnosis.code.code.replace(".", "")))
    return segment("HI", *parts)


def _service(item: ServiceItem, t: Tables) -> list[Segment]:
    code = item.product_or_service
    line = t.service_lines.get(code.system or "") or t.service_lines["http://www.ama-assn.org/go/cpt"]
    modifiers = tuple(m.code for m in item.modifiers[:4])
    quantity = number(item.quantity) if item.quantity is not None else None
    amount = number(item.unit_price * (item.quantity or 1)) if item.unit_price is not None else "0"
    out: list[Segment] = []
    if line.segment == "SV1":
        unit = "UN" if quantity else None
        out.append(segment("SV1", (line.qualifier, code.code, *modifiers), amount, unit, quantity))
    elif line.segment == "SV2":
        out.append(segment("SV2", code.code, None, amount, "UN" if quantity else None, quantity))
    else:
        out.append(segment("SV3", (line.qualifier, code.code, *modifiers), amount))
    if quantity is not None:
        out.append(segment("HSD", "FL", quantity))
    return out


def _npi(identifiers: tuple[Identifier, ...]) -> tuple[str, str | None]:
    for identifier in identifiers:
        if identifier.system == NPI_SYSTEM:
            return "XX", identifier.value
    return ("46", identifiers[0].value) if identifiers else ("XX", None)


def transaction_body(
    request: PriorAuthRequest, parties: Parties, trace: str, people: People, purpose: Purpose, at: datetime
) -> list[Segment]:
    """BHT through the last 2000F: the 278 request's body (without ST/SE); `at` is its creation time."""
    t = tables()
    env = t.envelope
    loops = t.loops
    cert = certification_type(request, purpose, t)
    body: list[Segment] = [segment("BHT", env.bht_structure, env.bht_request, trace, d8(at), at.strftime("%H%M"))]
    hl = 0

    def open_loop(loop: str, parent: int | None, children: bool) -> int:
        nonlocal hl
        hl += 1
        body.append(segment("HL", str(hl), str(parent) if parent else None, loops[loop].hl, "1" if children else "0"))
        return hl

    umo = open_loop("2000A", None, True)
    payer_name = safe_text(parties.payer_name or parties.payer_id, 60)
    body.append(segment("NM1", loops["2000A"].entity, "2", payer_name, None, None, None, None, "PI", parties.payer_id))
    requester = open_loop("2000B", umo, True)
    qualifier, npi = _npi(request.provider)
    body.append(_name(loops["2000B"].entity or "1P", people.requester, qualifier, npi))
    subscriber = open_loop("2000C", requester, True)
    member = request.member_id.value if request.member_id else None
    body.append(_name(loops["2000C"].entity or "IL", people.subscriber, "MI", member))
    if people.dependent is None and (dmg := _demographics(people.subscriber, t)):
        body.append(dmg)
    parent = subscriber
    if people.dependent is not None:
        parent = open_loop("2000D", subscriber, True)
        body.append(_name(loops["2000D"].entity or "QC", people.dependent, "", None))
        if dmg := _demographics(people.dependent, t):
            body.append(dmg)
    event = open_loop("2000E", parent, bool(request.items))
    body.append(segment("TRN", "1", trace, parties.trace_company_id))
    first = request.items[0] if request.items else None
    category = (first.request_type if first else None) or t.request_categories[request.kind.value]
    service_type = first.category.code if first and first.category else "1"
    place = (first.place_of_service.code, "B") if first and first.place_of_service else None
    body.append(segment("UM", category, cert, service_type, place, None, request.level_of_service))
    if purpose.previous_authorization:
        body.append(segment("REF", "BB", safe_text(purpose.previous_authorization, 50)))
    if purpose.administrative_reference:
        body.append(segment("REF", "NT", safe_text(purpose.administrative_reference, 50)))
    if span := _dates("AAH", _span(request.items)):
        body.append(span)
    if hi := _diagnoses(request.diagnoses, t):
        body.append(hi)
    for item in request.items:
        open_loop("2000F", event, False)
        body.append(segment("TRN", "1", f"{trace}-{item.sequence}", parties.trace_company_id))
        item_cert = t.certification_types["cancel"] if item.cancelled else cert
        item_category = item.request_type or category
        body.append(segment("UM", item_category, item_cert, item.category.code if item.category else None))
        if dates := _dates("472", item.serviced):
            body.append(dates)
        body.extend(_service(item, t))
    return body


def encode_request(
    request: PriorAuthRequest,
    parties: Parties,
    control: Control,
    *,
    trace: str,
    people: People | None = None,
    purpose: Purpose | None = None,
    newline: bool = False,
    inquiry: bool = False,
) -> str:
    """The 278 request interchange for `request` (X12 text); `inquiry`: the same loops as a 005010X215
    inquiry about a request sent before (the payer's references in `purpose`)."""
    body = transaction_body(request, parties, trace, people or People(), purpose or Purpose(), control.at)
    env = tables().envelope
    segments = wrap(body, parties, control, env.inquiry_implementation if inquiry else env.implementation)
    return render(segments, newline=newline)
