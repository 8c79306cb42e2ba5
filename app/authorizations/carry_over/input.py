"""The input of a carried-over import, shared by the operations API and `epa carried-over import`.

Every field is bounded as the columns and the prepared FHIR Bundle need it: lengths from
`app.domain.bounds`, no control characters (PostgreSQL refuses NUL), no leading or trailing white
space (FHIR strings and codes), quantities within NUMERIC(12, 3).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.authorizations.carry_over.service import CarryOver
from app.domain import bounds
from app.domain.model import Coding, Identifier, Period
from app.fhir.prepared import CarriedService


def _plain(value: str) -> str:
    if bounds.has_control_characters(value):
        raise ValueError("control characters are not allowed")
    return value


PlainText = Annotated[str, AfterValidator(_plain)]

_TRIMMED = r"^\S(.*\S)?$"  # FHIR strings and codes: no leading or trailing white space


def _text(max_length: int, description: str) -> Any:
    return Field(min_length=1, max_length=max_length, pattern=_TRIMMED, description=description)


class ServiceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[PlainText, _text(bounds.CODE_LENGTH, "CPT/HCPCS (or other) code")]
    system: Annotated[PlainText | None, _text(bounds.CODE_SYSTEM_LENGTH, "Code system URI")] = None
    quantity: Annotated[Decimal | None, Field(gt=0, le=bounds.QUANTITY_MAX, decimal_places=3)] = None


class PeriodBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date


class CarryOverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payer: Annotated[PlainText, _text(128, "The new payer's id (as configured): it honours the authorization")]
    previous_payer: Annotated[PlainText, _text(256, "The patient's previous plan")]
    member: Annotated[PlainText, _text(bounds.MEMBER_ID_LENGTH, "The member id at the new plan")]
    authorization_number: Annotated[PlainText, _text(bounds.PREAUTH_REF_LENGTH, "The previous plan's number")]
    period: PeriodBody
    services: Annotated[list[ServiceBody], Field(min_length=1, max_length=50)]
    provider: Annotated[
        PlainText | None, _text(bounds.PROVIDER_KEY_LENGTH, 'The requesting provider, "system|value" (NPI)')
    ] = None


def carry_over_of(body: CarryOverBody) -> CarryOver:
    provider = None
    if body.provider is not None:
        system, _, value = body.provider.rpartition("|")
        provider = Identifier(system or None, value)
    return CarryOver(
        payer_id=body.payer,
        previous_payer=body.previous_payer,
        member_id=body.member,
        services=tuple(CarriedService(Coding(s.system, s.code), s.quantity) for s in body.services),
        authorization_number=body.authorization_number,
        period=Period(body.period.start, body.period.end),
        provider=provider,
    )
