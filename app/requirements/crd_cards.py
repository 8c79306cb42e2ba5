"""The cards of a CRD answer: the Instructions card's lines, its summary, and the routed reason text."""

from __future__ import annotations

from typing import Any

from app.coverage.evaluate import Determination
from app.coverage.program_format import Routing
from app.fhir.crd import Order, card

SOURCE_LABEL = "ePA hub coverage requirements (CRD)"
_PA_TEXT = {
    "auth-needed": "prior authorization required",
    "no-auth": "no prior authorization needed",
    "performpa": "the performing provider must obtain prior authorization",
    "conditional": "prior authorization depends on the payer's review",
    "satisfied": "an existing authorization covers it",
}


def routed_reason(reason: str | None, routing: Routing) -> str:
    """The coverage-information reason of an order a program routes: who reviews it, under which program."""
    text = f"prior authorization is reviewed by {routing.contractor} ({routing.program}; {routing.source})"
    return (f"{reason}; {text}" if reason else text)[:300]


def order_line(order: Order, determination: Determination, pa: str | None, routing: Routing | None = None) -> str:
    assert order.item is not None
    code = order.item.product_or_service.code
    if determination.covered == "not-covered":
        return f"{code}: not covered ({determination.reason})"
    text = f"{code}: {_PA_TEXT[pa or 'conditional']}"
    if determination.gold_card:
        text += " (gold card)"
    if determination.exemption is not None or routing is not None:
        text += f": {determination.reason}"
    if determination.documentation:
        text += "; documentation: " + ", ".join(d.text for d in determination.documentation)
    if determination.referral:
        text += "; a referral is required"
    return text


def instructions(lines: list[str], topic_system: str) -> dict[str, Any]:
    needs = sum(1 for line in lines if "prior authorization required" in line or "must obtain" in line)
    summary = (
        f"Prior authorization needed for {needs} of {len(lines)} order(s)"
        if needs
        else f"Coverage requirements for {len(lines)} order(s)"
    )
    detail = "\n".join(f"- {line}" for line in lines)
    return card(
        summary,
        card_type="instructions",
        label=SOURCE_LABEL,
        detail=detail,
        indicator="info",
        topic_system=topic_system,
    )
