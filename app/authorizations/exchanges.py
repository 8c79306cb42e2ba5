"""What a payer adapter exchanged on the wire, kept with the timeline entry of the answer it gave.

An adapter that speaks a format other than the PAS Bundles the hub stores (the `x12-278` adapter)
puts the documents it sent and received in `PayerReply.raw` as `{"format", "request", "response",
"trace", "control_number"}`. The trace and control number go on the timeline (numbers the hub drew,
no PHI); the documents go in the same entry's detail under `EXCHANGE_KEY`, which the timeline view
leaves out and only the admin view of the exchanges shows (a 278 carries PHI). Nothing here logs.
"""

from __future__ import annotations

from typing import Any

from app.domain.model import PayerReply

EXCHANGE_KEY = "exchange"


def exchange_detail(reply: PayerReply | None) -> dict[str, Any]:
    """The timeline detail of the documents a reply was exchanged with (empty when it names none)."""
    raw = reply.raw if reply is not None else None
    if not isinstance(raw, dict):
        return {}
    request, response = raw.get("request"), raw.get("response")
    if not isinstance(request, str) or not isinstance(response, str):
        return {}
    detail: dict[str, Any] = {}
    trace, number = raw.get("trace"), raw.get("control_number")
    if isinstance(trace, str):
        detail["trace"] = trace
    if isinstance(number, int) and not isinstance(number, bool):
        detail["control_number"] = number
    document_format = raw.get("format")
    detail[EXCHANGE_KEY] = {
        "format": document_format if isinstance(document_format, str) else None,
        "request": request,
        "response": response,
    }
    return detail
