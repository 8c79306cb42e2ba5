"""A payer's answer is untrusted input: every value the hub stores from it must fit its column.

`check_reply_fits` refuses a `PayerReply` whose references, numbers, codes or texts would not
fit `app.domain.bounds` (or are not strings at all) with `PayerProtocolError`: the services keep
the stored request pended and follow it up, exactly as for an answer they cannot read, and the
client gets the pended answer instead of a database error. The error names the field, never its
value. Adapters call it on what they built (the FHIR PAS adapter does, in `parse_response`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain import bounds
from app.domain.model import Coding, ItemDecision, PayerReply
from app.payers.errors import PayerProtocolError

MAX_TEXT_LENGTH = 10_000  # reason texts and dispositions (stored as TEXT; bounded all the same)


def _text(value: Any, limit: int, field: str) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise PayerProtocolError(f"the payer's {field} is not a string")
    if len(value) > limit:
        raise PayerProtocolError(f"the payer's {field} is longer than {limit} characters")
    if bounds.has_control_characters(value):
        raise PayerProtocolError(f"the payer's {field} holds a control character")


def _quantity(value: Decimal | None, field: str) -> None:
    if value is not None and not (isinstance(value, Decimal) and bounds.quantity_fits(value)):
        raise PayerProtocolError(f"the payer's {field} is not a number within +-{bounds.QUANTITY_MAX}")


def _coding(coding: Coding, field: str) -> None:
    _text(coding.system, bounds.CODE_SYSTEM_LENGTH, f"{field} system")
    _text(coding.code, bounds.CODE_LENGTH, f"{field} code")
    _text(coding.display, MAX_TEXT_LENGTH, f"{field} display")


def _decision(decision: ItemDecision) -> None:
    if not isinstance(decision.sequence, int) or not 0 < decision.sequence <= bounds.INT32_MAX:
        raise PayerProtocolError("the payer's itemSequence is not a positive 32-bit integer")
    for reason in decision.reason_codes:
        _coding(reason, "reason")
    _text(decision.reason_text, MAX_TEXT_LENGTH, "reason text")
    _text(decision.authorization_number, bounds.PREAUTH_REF_LENGTH, "authorization number")
    _quantity(decision.authorized_quantity, "authorized quantity")
    if decision.authorized_service is not None:
        _coding(decision.authorized_service, "authorized service")


def check_reply_fits(reply: PayerReply) -> PayerReply:
    """`reply` when every stored value fits; PayerProtocolError naming the first field that does not."""
    _text(reply.payer_reference, bounds.PAYER_REFERENCE_LENGTH, "ClaimResponse identifier")
    _text(reply.preauth_ref, bounds.PREAUTH_REF_LENGTH, "preAuthRef")
    _text(reply.disposition, MAX_TEXT_LENGTH, "disposition")
    for decision in reply.decisions:
        _decision(decision)
    return reply
