"""Damaged 278 responses and odd requests: the codec answers with its own errors or a well-formed 278,
never anything else (the adapter turns those into PayerErrors; nothing reaches the client as a 5xx)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.model import Coding, Identifier, ServiceItem
from app.payers.testing import sample_request
from app.payers.x12_278 import (
    X12ProtocolError,
    X12SyntaxError,
    X12ValueError,
    check_answers,
    decode_response,
    read_interchange,
    to_reply,
)
from app.payers.x12_278.respond import Script, Scripted
from tests.payers.x12_278.support import TRACE, answered, encoded, recount

SCRIPT = Script(
    event=Scripted("A1", "AUTH-1"),
    items={2: Scripted("A2", "AUTH-2", quantity=Decimal(2)), 3: Scripted("A3", reason="0U")},
    rejections={"2000F-1": ("57", "N")},
)
SEGMENTS = answered(SCRIPT).split("~")[:-1]
ODD = st.sampled_from(["", "*", ":", "~", "ZZ", "-1", "99999999999999999999", "2000F", "HL", "\x00", "é", "NaN"])


@st.composite
def damaged(draw: st.DrawFn) -> str:
    segments = list(SEGMENTS)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        n = draw(st.integers(min_value=0, max_value=len(segments) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "element", "truncate", "swap"]))
        if action == "drop":
            segments.pop(n)
        elif action == "duplicate":
            segments.insert(n, segments[n])
        elif action == "truncate":
            segments[n] = segments[n][: draw(st.integers(min_value=0, max_value=len(segments[n])))]
        elif action == "swap":
            m = draw(st.integers(min_value=0, max_value=len(segments) - 1))
            segments[n], segments[m] = segments[m], segments[n]
        else:
            fields = segments[n].split("*")
            k = draw(st.integers(min_value=0, max_value=len(fields) - 1))
            fields[k] = draw(st.one_of(ODD, st.text(max_size=8)))
            segments[n] = "*".join(fields)
        if not segments:
            break
    text = "~".join(segments) + "~"
    if draw(st.booleans()) and sum(s.startswith(("ST*", "SE*")) for s in segments) == 2:
        try:
            return recount(text)  # the count fixed again: the damage reaches the loop walk
        except (StopIteration, IndexError):
            return text
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_a_damaged_response_is_read_or_refused_by_the_codec_alone(text: str) -> None:
    try:
        decoded = decode_response(text)
        check_answers(decoded, TRACE)
        to_reply(decoded, sample_request())
    except (X12SyntaxError, X12ProtocolError):
        pass


CODE = st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(codes=st.lists(CODE, min_size=1, max_size=4), member=CODE, quantity=st.decimals(0, 10_000, places=2))
def test_any_request_is_a_well_formed_278_or_refused_for_a_delimiter(
    codes: list[str], member: str, quantity: Decimal
) -> None:
    items = tuple(
        ServiceItem(sequence=n, product_or_service=Coding(None, code), quantity=quantity)
        for n, code in enumerate(codes, 1)
    )
    request = replace(sample_request(), items=items, member_id=Identifier(None, member))
    try:
        text = encoded(request)
    except X12ValueError:
        assert any(ch in "".join([*codes, member]) for ch in "*:~^")
        return
    read_interchange(text)  # envelope, counts and control numbers hold


ACTIONS = st.sampled_from(["A1", "A2", "A3", "A4", "A6", "C", "CT", "NA"])
ANSWER = st.builds(
    Scripted,
    action=ACTIONS,
    number=st.one_of(st.none(), st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)),
    reason=st.one_of(st.none(), st.from_regex(r"[0-9A-Z]{2}", fullmatch=True)),
    quantity=st.one_of(st.none(), st.decimals(1, 999, places=0)),
)


@settings(max_examples=150, deadline=None)
@given(answers=st.dictionaries(st.sampled_from([1, 2, 3]), ANSWER, min_size=3, max_size=3))
def test_what_the_payer_decides_per_service_comes_back_unchanged(answers: dict[int, Scripted]) -> None:
    reply = to_reply(decode_response(answered(Script(items=answers))), sample_request())
    for sequence, answer in answers.items():
        decision = reply.decision_for(sequence)
        assert decision is not None
        assert decision.action.value == answer.action
        assert decision.authorization_number == answer.number
        assert [c.code for c in decision.reason_codes] == ([answer.reason] if answer.reason else [])
        if answer.action in ("A1", "A2", "A6"):
            assert decision.authorized_quantity == (answer.quantity if answer.quantity is not None else 4)
        else:
            assert decision.authorized_quantity is None
