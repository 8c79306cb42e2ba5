"""The 278 response decoder: every HCR action, numbers, reasons, dates, quantities, AAA at any loop,
trace matching, and the responses it must refuse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.codes import ReviewAction
from app.domain.model import Period
from app.payers.testing import HCPCS, sample_request
from app.payers.x12_278 import (
    X12ProtocolError,
    X12SyntaxError,
    check_answers,
    decode_response,
    rejection_issues,
    to_reply,
)
from app.payers.x12_278.respond import Script, Scripted
from tests.payers.x12_278.support import TRACE, answered, encoded, recount

REASON = "https://codesystem.x12.org/external/886"
HALF_YEAR = Period(date(2027, 1, 1), date(2027, 6, 30))


def reply_to(script: Script):  # type: ignore[no-untyped-def]
    decoded = decode_response(answered(script))
    check_answers(decoded, TRACE)
    return to_reply(decoded, sample_request())


@pytest.mark.parametrize("action", ["A1", "A3", "A4", "C", "CT", "NA"])
def test_an_event_answer_applies_to_every_item(action: str) -> None:
    reply = reply_to(Script(event=Scripted(action)))
    assert [(d.sequence, d.action.value) for d in reply.decisions] == [(1, action), (2, action), (3, action)]


def test_certified_carries_the_certification_number_and_dates() -> None:
    reply = reply_to(Script(event=Scripted("A1", "AUTH-77", period=HALF_YEAR), administrative_reference="ADM-1"))
    assert reply.preauth_ref == "AUTH-77"
    assert reply.preauth_period == HALF_YEAR
    assert {d.authorization_number for d in reply.decisions} == {"AUTH-77"}
    assert {d.authorized_period for d in reply.decisions} == {HALF_YEAR}
    assert reply.decisions[0].authorized_quantity == Decimal(4)  # the request's HSD, echoed


def test_partial_denied_and_modified_per_service() -> None:
    script = Script(
        event=Scripted("A1", "AUTH-1"),
        items={
            1: Scripted("A2", "AUTH-2", quantity=Decimal(2)),
            2: Scripted("A3", reason="0U"),
            3: Scripted("A6", "AUTH-3", quantity=Decimal(1), service="E0301"),
        },
    )
    one, two, three = reply_to(script).decisions
    assert (one.action, one.authorization_number, one.authorized_quantity) == (ReviewAction.PARTIAL, "AUTH-2", 2)
    assert two.action is ReviewAction.NOT_CERTIFIED
    assert [(c.system, c.code) for c in two.reason_codes] == [(REASON, "0U")]
    assert (two.authorization_number, two.authorized_quantity) == (None, None)  # a denial inherits nothing
    assert three.action is ReviewAction.MODIFIED
    assert three.authorized_quantity == 1
    assert three.authorized_service is not None
    assert (three.authorized_service.system, three.authorized_service.code) == (
        HCPCS,
        "E0301",
    )


def test_a_service_without_hcr_takes_the_event_answer() -> None:
    reply = reply_to(Script(event=Scripted("A4"), items={2: Scripted("A1", "AUTH-2")}))
    assert [d.action.value for d in reply.decisions] == ["A4", "A1", "A4"]


def test_ref_bb_is_the_authorization_number_when_hcr02_is_empty() -> None:
    text = recount(answered(Script(event=Scripted("A1"))).replace("HCR*A1~", "HCR*A1~REF*BB*AUTH-BB~"))
    reply = to_reply(decode_response(text), sample_request())
    assert reply.preauth_ref == "AUTH-BB"


@pytest.mark.parametrize(
    ("loop", "expression"),
    [("2000A", "Claim.insurer"), ("2010B", "Claim.provider"), ("2010C", "Claim.insurance[0].coverage")],
)
def test_aaa_at_a_party_loop_names_what_was_refused(loop: str, expression: str) -> None:
    decoded = decode_response(answered(Script(rejections={loop: ("72", "C")})))
    (issue,) = rejection_issues(decoded.rejections, sample_request())
    assert issue.expression == expression
    assert "72" in issue.text
    assert "C" in issue.text
    assert loop in issue.text


def test_aaa_on_a_service_names_the_item() -> None:
    decoded = decode_response(answered(Script(event=Scripted("A4"), rejections={"2000F-2": ("57", "N")})))
    assert [(r.loop, r.sequence, r.reason, r.follow_up) for r in decoded.rejections] == [("2000F", 2, "57", "N")]
    (issue,) = rejection_issues(decoded.rejections, sample_request())
    assert issue.expression == "Claim.item[1]"


def test_a_response_to_another_request_is_refused() -> None:
    other = decode_response(answered(Script(event=Scripted("A1"), trace_override="OTHER")))
    assert other.reference == "OTHER"
    with pytest.raises(X12ProtocolError, match="another request"):
        check_answers(other, TRACE)
    check_answers(decode_response(answered(Script(event=Scripted("A1")))), TRACE)  # ours passes


def test_an_unknown_action_code_is_a_protocol_error() -> None:
    text = answered(Script(event=Scripted("A1"))).replace("HCR*A1", "HCR*Z9")
    with pytest.raises(X12ProtocolError, match="HCR01"):
        decode_response(text)


def test_a_response_without_any_decision_is_a_protocol_error() -> None:
    with pytest.raises(X12ProtocolError, match="no HCR"):
        to_reply(decode_response(answered(Script())), sample_request())


@pytest.mark.parametrize(
    "text",
    ["", "not x12 at all", "ISA*00*short~", "{}"],
    ids=["empty", "prose", "short-isa", "json"],
)
def test_what_does_not_parse_is_a_syntax_error(text: str) -> None:
    with pytest.raises(X12SyntaxError):
        decode_response(text)


def test_a_request_is_not_a_response() -> None:
    with pytest.raises(X12ProtocolError, match="BHT02"):
        decode_response(encoded())


def test_a_broken_group_count_is_a_syntax_error_naming_only_codes() -> None:
    text = answered(Script(event=Scripted("A1"))).replace("GE*1*501", "GE*2*501")
    with pytest.raises(X12SyntaxError) as caught:
        decode_response(text)
    assert "GS:5" in str(caught.value)
    assert "KIT-MEMBER" not in str(caught.value)
