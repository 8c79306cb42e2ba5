"""Which payer replies keep the documents exchanged on the wire with their timeline entry."""

from __future__ import annotations

from app.authorizations.exchanges import EXCHANGE_KEY, exchange_detail
from app.domain.model import PayerReply


def test_an_adapters_request_and_response_go_in_the_detail_with_trace_and_control_number() -> None:
    raw = {"format": "x12-278", "request": "ISA*...~", "response": "ISA*...~", "trace": "T-1", "control_number": 7}
    detail = exchange_detail(PayerReply(decisions=(), raw=raw))
    assert detail == {
        "trace": "T-1",
        "control_number": 7,
        EXCHANGE_KEY: {"format": "x12-278", "request": "ISA*...~", "response": "ISA*...~"},
    }


def test_replies_without_exchanged_documents_add_nothing() -> None:
    fhir_answer = {"resourceType": "Bundle", "entry": []}  # what fhir-pas keeps
    sandbox = {"sandbox": "cancel", "payer_reference": "R-1"}
    half = {"request": "ISA*...~", "response": None, "trace": "T-1"}
    for raw in (fhir_answer, sandbox, half, None, "text"):
        assert exchange_detail(PayerReply(decisions=(), raw=raw)) == {}
    assert exchange_detail(None) == {}
