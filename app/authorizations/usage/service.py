"""Units and visits used: counted against what an approval authorized, with `exhausting` and
`exhausted` events, and a concurrent review prefilled from the count.

One report is one row of `authorization_usage` plus the item's running total (`units_used`, which
the concurrent-review check of `$submit` reads too). The aggregate (`Authorization.use`) decides
what the report means: the status never moves; `exhausting` fires once when the used share first
reaches the configured threshold and `exhausted` once when it reaches the authorized quantity, on
the timeline and as notifications (webhooks and Subscriptions). Use beyond the authorized
quantity is recorded and flagged `over`: the service was given, refusing the report would only
hide it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import orjson
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.errors import not_found
from app.authorizations.recording import save, state_of
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.usage.repository import UsageRepository
from app.domain import bounds
from app.domain.authorization import USABLE, Item, UsageRefused, authorized_units
from app.domain.codes import AuthorizationStatus
from app.errors import Conflict, Issue, Unprocessable
from app.fhir.charge_item import ChargeItemUsage
from app.fhir.prepared import ExtensionLine, extension_request
from app.store.models import Authorization, AuthorizationUsage


class UsageLine(BaseModel):
    """One item's count."""

    item: int
    product_code: str
    authorized: float
    used: float
    remaining: float
    over: bool = Field(description="More used than authorized (recorded, never refused).")


class UsageReport(BaseModel):
    """What one report recorded, and the events it fired."""

    authorization_id: uuid.UUID
    item: int
    units: float
    service_date: date | None
    line: UsageLine
    events: list[str] = Field(description="Timeline events this report added (units-used, exhausting, exhausted).")
    version: int
    report_id: int = Field(description="The report's id.")
    replayed: bool = Field(default=False, description="The reference was reported before: nothing counted again.")


class UsageSummary(BaseModel):
    authorization_id: uuid.UUID
    lines: list[UsageLine]
    reports: list[UsageEntry]


class UsageEntry(BaseModel):
    item: int
    units: float
    service_date: date | None
    recorded_at: datetime


UsageSummary.model_rebuild()


@dataclass(frozen=True, slots=True)
class UsageInput:
    units: Decimal
    item: int | None = None
    service_date: date | None = None
    reference: str | None = None  # the client's id of this report: sent again, it is not counted again


def _number(value: Decimal) -> float:
    return float(value)


def _line(item: Item) -> UsageLine:
    authorized = authorized_units(item) or Decimal(0)
    return UsageLine(
        item=item.sequence,
        product_code=item.service.code,
        authorized=_number(authorized),
        used=_number(item.units_used),
        remaining=_number(max(authorized - item.units_used, Decimal(0))),
        over=item.units_used > authorized,
    )


def _usable(item: Item) -> bool:
    return not item.cancelled and item.decision is not None and item.decision.action in USABLE


def _choose(items: list[Item], sequence: int | None) -> Item:
    if sequence is None:
        usable = [i for i in items if _usable(i)]
        if len(usable) == 1:
            return usable[0]
        text = "name the item (its sequence): this authorization has more than one authorized item"
        raise Unprocessable(text, issues=[Issue(text=text, code="required", expression="item")])
    found = next((i for i in items if i.sequence == sequence), None)
    if found is None:
        text = f"the authorization has no item {sequence}"
        raise Unprocessable(text, issues=[Issue(text=text, code="not-found", expression="item")])
    return found


def _check_date(item: Item, service_date: date | None, expression: str) -> None:
    period = item.decision.authorized_period if item.decision is not None else None
    if service_date is not None and period is not None and not period.contains(service_date):
        text = (
            f"the date of service {service_date.isoformat()} is outside the authorized period of item {item.sequence}"
        )
        raise Unprocessable(text, issues=[Issue(text=text, code="business-rule", expression=expression)])


async def record_usage(
    session: AsyncSession,
    authorization_id: uuid.UUID,
    report: UsageInput,
    *,
    client_id: str | None,
    now: datetime,
    threshold: Decimal,
    date_expression: str = "date",
) -> UsageReport:
    """Count `report` against the authorization's item (409 unless it is a current approval)."""
    repository = AuthorizationRepository(session, client_id)
    row = await repository.get_for_update(authorization_id)
    if row is None:
        raise not_found(authorization_id)
    if row.replaced_by_id is not None:
        raise Conflict(f"authorization {row.id} was replaced by {row.replaced_by_id}; report usage there")
    state = state_of(row)
    if report.reference is not None:
        earlier = await UsageRepository(session).by_reference(row.id, report.reference)
        if earlier is not None:
            return _replayed(row.id, state.version, state.items, earlier, report)
    try:
        item = _choose(state.items, report.item) if state.status in _APPROVALS else None
        if item is not None:
            _check_date(item, report.service_date, date_expression)
            if item.units_used + report.units > bounds.QUANTITY_MAX:
                text = f"the units used of item {item.sequence} would exceed {bounds.QUANTITY_MAX}"
                raise Unprocessable(text, issues=[Issue(text=text, code="value", expression="units")])
        sequence = item.sequence if item is not None else (report.item or 0)
        detail = {"date": report.service_date.isoformat()} if report.service_date else None
        change = state.use(sequence, report.units, now=now, threshold=threshold, detail=detail)
    except UsageRefused as exc:
        raise Conflict(str(exc)) from None
    assert item is not None  # use() refuses every authorization without an authorized item
    save(repository, row, state, change)
    usage = AuthorizationUsage(
        authorization_id=row.id,
        client_id=row.client_id,
        item_sequence=item.sequence,
        units=report.units,
        service_date=report.service_date,
        recorded_at=now,
        reference=report.reference,
    )
    await UsageRepository(session).add(usage)
    return UsageReport(
        authorization_id=row.id,
        item=item.sequence,
        units=_number(report.units),
        service_date=report.service_date,
        line=_line(item),
        events=[entry.type for entry in change.timeline],
        version=state.version,
        report_id=usage.id,
    )


def _replayed(
    authorization_id: uuid.UUID, version: int, items: list[Item], earlier: AuthorizationUsage, report: UsageInput
) -> UsageReport:
    """The answer to a report sent again: the same units for the same item, or 409."""
    same = earlier.units == report.units and report.item in (None, earlier.item_sequence)
    if not same or earlier.service_date != report.service_date:
        raise Conflict(f"usage reference {report.reference!r} was reported before with other units, item or date")
    item = next(i for i in items if i.sequence == earlier.item_sequence)
    return UsageReport(
        authorization_id=authorization_id,
        item=earlier.item_sequence,
        units=_number(earlier.units),
        service_date=earlier.service_date,
        line=_line(item),
        events=[],
        version=version,
        report_id=earlier.id,
        replayed=True,
    )


_APPROVALS = frozenset(s for s in AuthorizationStatus if s.grants)


async def _current(session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None) -> Authorization:
    row = await AuthorizationRepository(session, client_id).get(authorization_id)
    if row is None:
        raise not_found(authorization_id)
    return row


async def usage_summary(session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None) -> UsageSummary:
    """Every authorized item's count, and the reports in the order they came."""
    row = await _current(session, authorization_id, client_id)
    state = state_of(row)
    reports = await UsageRepository(session).of_authorization(row.id)
    return UsageSummary(
        authorization_id=row.id,
        lines=[_line(item) for item in state.items if _usable(item)],
        reports=[
            UsageEntry(
                item=r.item_sequence, units=_number(r.units), service_date=r.service_date, recorded_at=r.recorded_at
            )
            for r in reports
        ],
    )


async def extension_bundle(
    session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None, now: datetime
) -> bytes:
    """A concurrent review of a current approval (PAS request Bundle, certificationType 4) asking for
    as many units again as each authorized item had, with the used and remaining units noted."""
    row = await _current(session, authorization_id, client_id)
    if row.replaced_by_id is not None or row.status not in _APPROVALS:
        raise Conflict(f"authorization {row.id} is not a current approval; there is nothing to extend")
    state = state_of(row)
    lines = []
    for item in state.items:
        authorized = authorized_units(item)
        if not _usable(item) or authorized is None or authorized <= 0:
            continue
        period = item.authorized_period
        next_start = period.end + timedelta(days=1) if period is not None and period.end is not None else None
        lines.append(
            ExtensionLine(item.sequence, item.service.code, authorized, item.units_used, authorized, next_start)
        )
    if not lines:
        raise Conflict(f"authorization {row.id} has no item with authorized units to extend")
    numbers = [i.decision.authorization_number for i in state.items if i.decision and i.decision.authorization_number]
    bundle = extension_request(
        orjson.loads(row.request_document),
        identifier=f"{row.id}-extension-{row.version}",
        created=now,
        preauth_ref=row.preauth_ref or (numbers[0] if numbers else None),
        lines=lines,
    )
    return orjson.dumps(bundle)


async def record_charge_item(
    session: AsyncSession, charge: ChargeItemUsage, *, client_id: str | None, now: datetime, threshold: Decimal
) -> UsageReport:
    """The FHIR path: a ChargeItem's code picks the authorized item (its service, or the A6 one)."""
    row = await _current(session, charge.authorization_id, client_id)
    items = [i for i in state_of(row).items if _usable(i)]
    matching = [
        i
        for i in items
        if charge.code
        in (
            i.service.code,
            i.decision.authorized_service.code if i.decision and i.decision.authorized_service else None,
        )
    ]
    if not matching and row.status in _APPROVALS:
        text = f"no authorized item of this authorization is for {charge.code}"
        raise Unprocessable(text, issues=[Issue(text=text, code="not-found", expression="ChargeItem.code")])
    sequence = matching[0].sequence if matching else None
    return await record_usage(
        session,
        charge.authorization_id,
        UsageInput(charge.units, sequence, charge.service_date, charge.reference),
        client_id=client_id,
        now=now,
        threshold=threshold,
        date_expression="ChargeItem.occurrence",
    )
