"""Units used, the FHIR way: a `ChargeItem` that names the authorization's ClaimResponse.

    {"resourceType": "ChargeItem", "status": "billable",
     "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97110"}]},
     "subject": {"reference": "Patient/..."},
     "occurrenceDateTime": "2030-05-10",
     "quantity": {"value": 2},
     "supportingInformation": [{"reference": "ClaimResponse/<authorization id>"}]}

`code` picks the authorized item (its service, or the one an A6 decision authorized instead),
`quantity.value` is the units, `occurrence[x]` the date of service, and `supportingInformation` the
ClaimResponse the `$submit` answer named (relative or absolute reference). Status `billable` or
`billed` (the service was given); anything else is refused. The first `identifier` makes the report
idempotent: the same ChargeItem sent again is not counted again. Validated once (R4B ChargeItem model,
then these rules); every problem is one OperationOutcome issue naming its FHIRPath.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B.chargeitem import ChargeItem
from pydantic import ValidationError

from app.domain import bounds
from app.errors import InvalidRequest, Issue
from app.fhir.limits import ParseLimits, check_json_limits

GIVEN = frozenset({"billable", "billed"})
_CLAIM_RESPONSE = re.compile(r"(?:^|/)ClaimResponse/([0-9a-fA-F-]{36})$")


@dataclass(frozen=True, slots=True)
class ChargeItemUsage:
    authorization_id: uuid.UUID
    code: str
    units: Decimal
    service_date: date | None
    reference: str | None  # the first ChargeItem.identifier ("system|value"): sent again, not counted again


def _bad(text: str, expression: str, code: str = "invalid") -> InvalidRequest:
    return InvalidRequest(text, issues=[Issue(text=text, code=code, expression=expression)])


def _authorization(resource: dict[str, Any]) -> uuid.UUID:
    for position, reference in enumerate(resource.get("supportingInformation") or []):
        found = _CLAIM_RESPONSE.search(str((reference or {}).get("reference", "")))
        if found:
            try:
                return uuid.UUID(found.group(1))
            except ValueError:
                raise _bad("not a ClaimResponse id", f"ChargeItem.supportingInformation[{position}]") from None
    text = "supportingInformation must reference the authorization's ClaimResponse (ClaimResponse/<id>)"
    raise _bad(text, "ChargeItem.supportingInformation", "required")


def _units(resource: dict[str, Any]) -> Decimal:
    value = (resource.get("quantity") or {}).get("value")
    try:
        units = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        units = None
    if units is None or not units.is_finite() or units <= 0 or units > bounds.QUANTITY_MAX:
        raise _bad(
            f"quantity.value must be a number of units above 0 and at most {bounds.QUANTITY_MAX}",
            "ChargeItem.quantity.value",
        )
    if units != units.quantize(Decimal(1).scaleb(-bounds.QUANTITY_SCALE)):
        raise _bad(f"quantity.value has more than {bounds.QUANTITY_SCALE} decimals", "ChargeItem.quantity.value")
    return units


def _service_date(model: ChargeItem) -> date | None:
    when = model.occurrenceDateTime
    if when is None and model.occurrencePeriod is not None:
        when = model.occurrencePeriod.start
    if isinstance(when, datetime):
        return when.date()
    if isinstance(when, date):
        return when
    return None  # a partial date (year, year-month) says no day of service


def parse_charge_item(resource: dict[str, Any]) -> ChargeItemUsage:
    """Validate a ChargeItem reporting units used (R4B model, then the rules above)."""
    if resource.get("resourceType") != "ChargeItem":
        raise _bad("the body must be a ChargeItem resource", "ChargeItem")
    check_json_limits(resource, ParseLimits(), "ChargeItem")  # nesting, sizes, no control characters
    try:
        model = ChargeItem.model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(text=str(e.get("msg")), expression=".".join(["ChargeItem", *(str(p) for p in e.get("loc", ()))]))
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidRequest("the ChargeItem is not valid FHIR R4", issues=issues or None) from None
    if model.status not in GIVEN:
        raise _bad("status must be billable or billed (the service was given)", "ChargeItem.status", "not-supported")
    codes = [c.code for c in (model.code.coding or []) if c.code]
    if not codes:
        raise _bad("code must carry the service's code", "ChargeItem.code", "required")
    if len(codes[0]) > bounds.CODE_LENGTH:
        raise _bad(f"the code is longer than {bounds.CODE_LENGTH} characters", "ChargeItem.code")
    return ChargeItemUsage(
        _authorization(resource), str(codes[0]), _units(resource), _service_date(model), _reference(model)
    )


def _reference(model: ChargeItem) -> str | None:
    for identifier in model.identifier or []:
        if identifier.value:
            key = f"{identifier.system or ''}|{identifier.value}"
            if len(key) > bounds.USAGE_REFERENCE_LENGTH:
                text = f"the identifier is longer than {bounds.USAGE_REFERENCE_LENGTH} characters (system|value)"
                raise _bad(text, "ChargeItem.identifier")
            return key
    return None
