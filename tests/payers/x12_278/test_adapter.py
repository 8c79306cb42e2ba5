"""The x12-278 adapter end to end against the fake clearinghouse on loopback, with both CORE envelopes:
every scripted case, the CORE fields, inquiries (X215), acknowledgments, errors and the logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from app.domain.codes import ReviewAction
from app.payers.contract import AdapterContext, PayerReference, PayerSubmission
from app.payers.errors import PayerProtocolError, PayerRejected, PayerTimeout, PayerUnavailable
from app.payers.testing import sample_bundle, sample_request
from app.payers.x12_278 import X12Adapter, core, create_adapter, read_interchange
from app.payers.x12_278.respond import Script, Scripted
from tests.payers.x12_278.clearinghouse import Answer, Clearinghouse, running


@pytest.fixture(params=["mime", "soap"])
async def house(request: pytest.FixtureRequest) -> AsyncIterator[Clearinghouse]:
    async with running(Clearinghouse(envelope=request.param)) as served:
        yield served


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def adapter(house: Clearinghouse, http: httpx.AsyncClient, folder: Path, **settings: object) -> X12Adapter:
    context = AdapterContext(payer_id="acme-x12", http=http, config_dir=folder)
    return create_adapter(house.settings(**settings), context)


def submission() -> PayerSubmission:
    request = sample_request()
    return PayerSubmission("auth-1", request, sample_bundle(request))


def follow_up(sub: PayerSubmission, payer_reference: str | None) -> PayerReference:
    return PayerReference(sub.authorization_id, payer_reference, sub.request, sub.bundle)


CASES = {
    "certified": (Script(event=Scripted("A1", "AUTH-1")), ["A1", "A1", "A1"]),
    "partial": (
        Script(event=Scripted("A1", "AUTH-1"), items={2: Scripted("A2", "AUTH-2", quantity=Decimal(1))}),
        ["A1", "A2", "A1"],
    ),
    "denied": (Script(event=Scripted("A3", reason="0U")), ["A3", "A3", "A3"]),
    "modified": (
        Script(items={1: Scripted("A6", "AUTH-6", service="E0101")}, event=Scripted("A1", "AUTH-1")),
        ["A6", "A1", "A1"],
    ),
    "contact-payer": (Script(event=Scripted("CT")), ["CT", "CT", "CT"]),
    "no-action-required": (Script(event=Scripted("NA")), ["NA", "NA", "NA"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_answer_comes_back_as_item_decisions(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path, case: str
) -> None:
    script, actions = CASES[case]
    house.submit = Answer(script=script)
    reply = await adapter(house, http, tmp_path).submit(submission())
    assert [d.action.value for d in reply.decisions] == actions
    if case == "partial":
        assert reply.decision_for(2).authorized_quantity == 1  # type: ignore[union-attr]
    if case == "denied":
        assert [c.code for c in reply.decisions[0].reason_codes] == ["0U"]
    if case == "modified":
        assert reply.decisions[0].authorized_service.code == "E0101"  # type: ignore[union-attr]


async def test_the_core_message_carries_the_rule_fields_and_a_well_formed_278(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A1", "AUTH-1")))
    await adapter(house, http, tmp_path).submit(submission())
    (sent,) = house.received
    assert sent.payload_type == "X12_278_Request_005010X217E1_2"
    assert (sent.processing_mode, sent.rule_version) == ("RealTime", "2.2.0")
    assert (sent.sender_id, sent.receiver_id) == ("EPAHUB", "CLEARHOUSE")
    assert uuid.UUID(sent.payload_id).version == 4
    assert sent.timestamp.endswith("Z")
    interchange = read_interchange(sent.payload)  # counts and control numbers checked by pyx12
    assert interchange.transactions[0].implementation == "005010X217"


async def test_pended_then_certified_on_a_215_inquiry_that_names_the_request(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A4"), administrative_reference="ADM-77"))
    house.inquiry = Answer(script=Script(event=Scripted("A1", "AUTH-9")))
    x12 = adapter(house, http, tmp_path, follow_up_seconds=900)
    sub = submission()
    pended = await x12.submit(sub)
    assert {d.action for d in pended.decisions} == {ReviewAction.PENDED}
    assert pended.retry_after is not None
    assert pended.retry_after.total_seconds() == 900
    decided = await x12.inquire(follow_up(sub, pended.payer_reference))
    assert {d.action for d in decided.decisions} == {ReviewAction.CERTIFIED}
    assert decided.preauth_ref == "AUTH-9"
    inquiry = house.received[1]
    assert inquiry.payload_type == core.PAYLOAD_INQUIRY_REQUEST
    assert read_interchange(inquiry.payload).transactions[0].implementation == "005010X215"
    assert "REF*NT*ADM-77~" in inquiry.payload
    submitted_trace = house.received[0].payload.split("BHT*0007*13*")[1].split("*")[0]
    assert f"BHT*0007*13*{submitted_trace}*" in inquiry.payload  # the inquiry names the request's trace


async def test_an_update_is_a_revision_and_a_cancel_a_cancellation_with_the_authorization_number(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A1", "AUTH-5")))
    x12 = adapter(house, http, tmp_path)
    sub = submission()
    first = await x12.submit(sub)
    updated = replace(sub, request=replace(sub.request, related_claim=sub.request.claim_identifiers[0]))
    await x12.submit(updated)
    assert "UM*HS*S*" in house.received[1].payload
    house.submit = Answer(script=Script(event=Scripted("C")))
    cancelled = await x12.cancel(follow_up(sub, first.payer_reference))
    assert {d.action for d in cancelled.decisions} == {ReviewAction.CANCELLED}
    assert "UM*HS*3*" in house.received[2].payload
    assert "REF*BB*AUTH-5~" in house.received[2].payload


async def test_control_numbers_never_repeat_across_adapters_sharing_the_file(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A1")))
    for _ in range(2):  # a restart: a new adapter on the same control file
        await adapter(house, http, tmp_path).submit(submission())
    numbers = [read_interchange(m.payload).control_number for m in house.received]
    groups = [read_interchange(m.payload).group_control_numbers for m in house.received]
    assert numbers == ["000000001", "000000002"]
    assert groups == [("1",), ("2",)]


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (Answer("ta1", code="024"), PayerProtocolError, ["TA1 R", "024"]),
        (Answer("999", code="7"), PayerProtocolError, ["999 R", "IK4:2:7", "IK5:5"]),
        (Answer("core-error", code="PayloadTypeIllegal"), PayerProtocolError, ["PayloadTypeIllegal"]),
        (Answer("core-error", code="ServerBusy"), PayerUnavailable, ["ServerBusy"]),
        (Answer("http", status=503), PayerUnavailable, ["503"]),
        (Answer("garbage"), PayerProtocolError, ["unusable"]),
        (Answer("slow", delay=1.0), PayerTimeout, ["in time"]),
        (Answer(script=Script(event=Scripted("Z9"))), PayerProtocolError, ["HCR01"]),
        (
            Answer(script=Script(event=Scripted("A1"), trace_override="ANOTHER")),
            PayerProtocolError,
            ["another request"],
        ),
        (Answer(script=Script()), PayerProtocolError, ["no HCR"]),
    ],
    ids=[
        "ta1",
        "999",
        "core-error",
        "core-busy",
        "down",
        "garbage",
        "slow",
        "unknown-code",
        "other-request",
        "no-decision",
    ],
)
async def test_transport_outcomes_and_unusable_answers_are_payer_errors_with_their_codes(
    house: Clearinghouse,
    http: httpx.AsyncClient,
    tmp_path: Path,
    answer: Answer,
    error: type[Exception],
    words: list[str],
) -> None:
    house.submit = answer
    with pytest.raises(error) as caught:
        await adapter(house, http, tmp_path, timeout_seconds=0.3).submit(submission())
    for word in words:
        assert word in str(caught.value)


async def test_aaa_rejections_name_the_loop_and_item(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    house.submit = Answer(
        script=Script(event=Scripted("A4"), rejections={"2010C": ("75", "C"), "2000F-3": ("57", "N")})
    )
    with pytest.raises(PayerRejected) as caught:
        await adapter(house, http, tmp_path).submit(submission())
    issues = caught.value.issues
    assert [i.expression for i in issues] == ["Claim.insurance[0].coverage", "Claim.item[2]"]
    assert "75" in issues[0].text
    assert "57" in issues[1].text


async def test_wrong_credentials_are_refused_as_unavailable(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    with pytest.raises(PayerUnavailable, match="UnAuthorized"):
        await adapter(house, http, tmp_path, password="wrong").submit(submission())


async def test_nothing_from_the_278_reaches_the_logs(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A1", "AUTH-SECRET")))
    caplog.set_level(logging.DEBUG)
    await adapter(house, http, tmp_path).submit(submission())
    house.submit = Answer("garbage")
    with pytest.raises(PayerProtocolError):
        await adapter(house, http, tmp_path).submit(submission())
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("epa"))
    assert "x12 278 sent" in logged
    for secret in ("KIT-MEMBER-1", "AUTH-SECRET", "E0100", "s3cret"):
        assert secret not in logged


async def test_an_inquiry_after_a_timeout_names_the_submitted_requests_trace(
    house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    house.submit = Answer("slow", delay=1.0)
    house.inquiry = Answer(script=Script(event=Scripted("A1", "AUTH-1")))
    x12 = adapter(house, http, tmp_path, timeout_seconds=0.3)
    sub = submission()
    with pytest.raises(PayerTimeout):
        await x12.submit(sub)
    reply = await x12.inquire(follow_up(sub, None))  # the payer never answered: no payer_reference
    assert {d.action for d in reply.decisions} == {ReviewAction.CERTIFIED}
    submitted, inquiry = (m.payload.split("BHT*0007*13*")[1].split("*")[0] for m in house.received)
    assert inquiry == submitted
