"""The `fhir-pas` adapter against a mocked payer (respx): every answer maps to its documented outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import httpx
import orjson
import pytest
import respx

from app.domain.codes import ReviewAction
from app.domain.model import Coding, ItemDecision, Period
from app.payers.errors import PayerProtocolError, PayerRejected, PayerTimeout, PayerUnavailable
from app.payers.fhir_pas import FhirPasAdapter, cancellation_bundle
from tests.payers.builders import RecordingSleep, item, reference, request, submission
from tests.payers.fhir_pas_support import BASE, fhir_pas, settings
from tests.support.payer_answers import claim_response_bundle, operation_outcome

SUBMIT = f"{BASE}/Claim/$submit"
INQUIRE = f"{BASE}/Claim/$inquire"
FHIR = {"Content-Type": "application/fhir+json"}
SUB = submission(request(item(1, "E0100", 4), item(2, "E0200", 2)))


@pytest.fixture
async def payer() -> AsyncIterator[respx.MockRouter]:
    async with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def adapter(payer: respx.MockRouter, sleep: RecordingSleep) -> AsyncIterator[FhirPasAdapter]:
    async with httpx.AsyncClient() as http:
        yield fhir_pas(http, settings(), sleep=sleep)


def answer(*decisions: ItemDecision, status: int = 200, **kwargs: str) -> httpx.Response:
    return httpx.Response(status, content=claim_response_bundle(decisions, **kwargs), headers=FHIR)


async def test_approval_carries_numbers_and_periods(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    period = Period(date(2025, 3, 3), date(2025, 6, 1))
    route = payer.post(SUBMIT).mock(
        return_value=answer(
            ItemDecision(1, ReviewAction.CERTIFIED, authorization_number="AUTH-1", authorized_period=period),
            ItemDecision(2, ReviewAction.CERTIFIED, authorization_number="AUTH-2"),
            preauth_ref="PA-77",
        )
    )
    reply = await adapter.submit(SUB)
    assert [d.action for d in reply.decisions] == [ReviewAction.CERTIFIED] * 2
    assert reply.decisions[0].authorization_number == "AUTH-1"
    assert reply.decisions[0].authorized_period == period
    assert (reply.preauth_ref, reply.payer_reference) == ("PA-77", "PAYER-REF-1")
    sent = route.calls.last.request
    assert sent.content == SUB.bundle  # forwarded as the EHR sent it
    assert sent.headers["Content-Type"] == "application/fhir+json"
    assert sent.headers["X-Partner"] == "epa-hub"


async def test_denial_carries_the_payer_reason(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    reason = Coding("https://codesystem.x12.org/external/886", "N1")
    payer.post(SUBMIT).mock(
        return_value=answer(
            ItemDecision(1, ReviewAction.NOT_CERTIFIED, reason_codes=(reason,), reason_text="Not medically necessary"),
            ItemDecision(2, ReviewAction.CERTIFIED),
        )
    )
    reply = await adapter.submit(SUB)
    denied = reply.decisions[0]
    assert denied.action is ReviewAction.NOT_CERTIFIED
    assert denied.reason_codes == (Coding(reason.system, "N1"),)
    assert denied.reason_text == "Not medically necessary"


async def test_pended_then_approved_on_inquire(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    pended = answer(ItemDecision(1, ReviewAction.PENDED), ItemDecision(2, ReviewAction.PENDED))
    pended.headers["Retry-After"] = "30"
    payer.post(SUBMIT).mock(return_value=pended)
    inquire = payer.post(INQUIRE).mock(
        return_value=answer(ItemDecision(1, ReviewAction.CERTIFIED), ItemDecision(2, ReviewAction.CERTIFIED))
    )
    first = await adapter.submit(SUB)
    assert [d.action for d in first.decisions] == [ReviewAction.PENDED] * 2
    assert first.retry_after is not None
    assert first.retry_after.total_seconds() == 30
    later = await adapter.inquire(reference(SUB, first.payer_reference))
    assert [d.action for d in later.decisions] == [ReviewAction.CERTIFIED] * 2
    assert later.retry_after is None
    assert inquire.call_count == 1


async def test_modified_reads_the_authorized_version(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    payer.post(SUBMIT).mock(
        return_value=answer(
            ItemDecision(
                1,
                ReviewAction.MODIFIED,
                authorized_quantity=Decimal(2),
                authorized_service=Coding("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "E0150"),
            ),
            ItemDecision(2, ReviewAction.CERTIFIED),
        )
    )
    modified = (await adapter.submit(SUB)).decisions[0]
    assert modified.action is ReviewAction.MODIFIED
    assert modified.authorized_quantity == Decimal(2)
    assert modified.authorized_service is not None
    assert modified.authorized_service.code == "E0150"


async def test_400_operation_outcome_is_a_rejection_with_the_payer_issues(
    payer: respx.MockRouter, adapter: FhirPasAdapter
) -> None:
    body = operation_outcome("Member not eligible on date of service", expression="Coverage.subscriberId")
    payer.post(SUBMIT).mock(return_value=httpx.Response(400, content=body, headers=FHIR))
    with pytest.raises(PayerRejected) as caught:
        await adapter.submit(SUB)
    assert caught.value.status_code == 400
    [issue] = caught.value.issues
    assert (issue.text, issue.code, issue.expression) == (
        "Member not eligible on date of service",
        "business-rule",
        "Coverage.subscriberId",
    )


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured_then_the_call_succeeds(
    payer: respx.MockRouter, adapter: FhirPasAdapter, sleep: RecordingSleep, status: int
) -> None:
    route = payer.post(SUBMIT).mock(
        side_effect=[
            httpx.Response(status, headers={"Retry-After": "2"}),
            answer(ItemDecision(1, ReviewAction.CERTIFIED), ItemDecision(2, ReviewAction.CERTIFIED)),
        ]
    )
    reply = await adapter.submit(SUB)
    assert reply.decisions[0].action is ReviewAction.CERTIFIED
    assert route.call_count == 2
    assert sleep.waits == [2.0]


@pytest.mark.parametrize("status", [429, 503])
async def test_long_retry_after_goes_back_to_the_service(
    payer: respx.MockRouter, adapter: FhirPasAdapter, sleep: RecordingSleep, status: int
) -> None:
    route = payer.post(SUBMIT).mock(return_value=httpx.Response(status, headers={"Retry-After": "120"}))
    with pytest.raises(PayerUnavailable) as caught:
        await adapter.submit(SUB)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after.total_seconds() == 120
    assert route.call_count == 1
    assert sleep.waits == []


async def test_persistent_429_gives_up_after_max_attempts(
    payer: respx.MockRouter, adapter: FhirPasAdapter, sleep: RecordingSleep
) -> None:
    route = payer.post(SUBMIT).mock(return_value=httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(PayerUnavailable):
        await adapter.submit(SUB)
    assert route.call_count == 3
    assert sleep.waits == [1.0, 1.0]


async def test_500_is_unavailable_and_not_retried(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    route = payer.post(SUBMIT).mock(return_value=httpx.Response(500, text="boom"))
    with pytest.raises(PayerUnavailable):
        await adapter.submit(SUB)
    assert route.call_count == 1


async def test_connect_error_is_retried_with_backoff_then_unavailable(
    payer: respx.MockRouter, adapter: FhirPasAdapter, sleep: RecordingSleep
) -> None:
    route = payer.post(SUBMIT).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(PayerUnavailable) as caught:
        await adapter.submit(SUB)
    assert route.call_count == 3
    assert len(sleep.waits) == 2
    assert all(0 <= w <= 4 for w in sleep.waits)  # jittered exponential backoff, capped
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_connect_error_then_success(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    payer.post(SUBMIT).mock(
        side_effect=[httpx.ConnectError("refused"), answer(ItemDecision(1, ReviewAction.CERTIFIED))]
    )
    assert (await adapter.submit(SUB)).decisions[0].action is ReviewAction.CERTIFIED


async def test_read_timeout_is_a_timeout_and_not_retried(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    route = payer.post(SUBMIT).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(PayerTimeout):
        await adapter.submit(SUB)
    assert route.call_count == 1


async def test_body_that_is_not_json_is_a_protocol_error(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    payer.post(SUBMIT).mock(return_value=httpx.Response(200, text="<html>Service Temporarily Down</html>"))
    with pytest.raises(PayerProtocolError, match="not JSON"):
        await adapter.submit(SUB)


async def test_bundle_not_starting_with_a_claim_response_is_a_protocol_error(
    payer: respx.MockRouter, adapter: FhirPasAdapter
) -> None:
    payer.post(SUBMIT).mock(return_value=answer(ItemDecision(1, ReviewAction.CERTIFIED), first="Patient"))
    with pytest.raises(PayerProtocolError, match="Patient"):
        await adapter.submit(SUB)


async def test_unknown_review_action_is_a_protocol_error(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    body = claim_response_bundle((ItemDecision(1, ReviewAction.CERTIFIED),)).replace(b'"A1"', b'"ZZ"')
    payer.post(SUBMIT).mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(PayerProtocolError, match="ZZ"):
        await adapter.submit(SUB)


async def test_404_without_operation_outcome_is_a_protocol_error(
    payer: respx.MockRouter, adapter: FhirPasAdapter
) -> None:
    payer.post(SUBMIT).mock(return_value=httpx.Response(404, text="Not Found"))
    with pytest.raises(PayerProtocolError, match="404"):
        await adapter.submit(SUB)


async def test_cancel_marks_every_item_cancelled(payer: respx.MockRouter, adapter: FhirPasAdapter) -> None:
    route = payer.post(SUBMIT).mock(
        return_value=answer(ItemDecision(1, ReviewAction.CANCELLED), ItemDecision(2, ReviewAction.CANCELLED))
    )
    reply = await adapter.cancel(reference(SUB, "PAYER-REF-1"))
    assert [d.action for d in reply.decisions] == [ReviewAction.CANCELLED] * 2
    sent = orjson.loads(route.calls.last.request.content)
    for sent_item in sent["entry"][0]["resource"]["item"]:
        assert sent_item["extension"][-1]["valueCodeableConcept"]["coding"][0]["code"] == "3"


def test_a_bundle_that_already_cancels_is_forwarded_unchanged() -> None:
    req = request(item(1, "E0100", cancelled=True))
    assert cancellation_bundle(b"original", req) == b"original"


async def test_timeouts_are_applied_per_request(payer: respx.MockRouter) -> None:
    route = payer.post(SUBMIT).mock(return_value=answer(ItemDecision(1, ReviewAction.CERTIFIED)))
    async with httpx.AsyncClient() as http:
        await fhir_pas(http, settings(timeout_seconds=4, connect_timeout_seconds=1)).submit(SUB)
    timeout = route.calls.last.request.extensions["timeout"]
    assert (timeout["read"], timeout["connect"]) == (4, 1)


async def test_parameters_wrapped_inquire_answer_is_understood(
    payer: respx.MockRouter, adapter: FhirPasAdapter
) -> None:
    bundle = orjson.loads(claim_response_bundle((ItemDecision(1, ReviewAction.CERTIFIED),)))
    wrapped = {"resourceType": "Parameters", "parameter": [{"name": "return", "resource": bundle}]}
    payer.post(INQUIRE).mock(return_value=httpx.Response(200, content=orjson.dumps(wrapped)))
    reply = await adapter.inquire(reference(SUB, "PAYER-REF-1"))
    assert reply.decisions[0].action is ReviewAction.CERTIFIED


class Trickle(httpx.AsyncByteStream):
    """An answer that arrives a chunk at a time, each within any read timeout, for `chunks` chunks."""

    def __init__(self, chunks: int, size: int = 100, pause: float = 0.0) -> None:
        self.chunks, self.size, self.pause = chunks, size, pause

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            if self.pause:
                await asyncio.sleep(self.pause)
            yield b" " * self.size


async def test_an_answer_that_never_ends_is_a_timeout_by_the_call_deadline(payer: respx.MockRouter) -> None:
    payer.post(SUBMIT).mock(return_value=httpx.Response(200, headers=FHIR, stream=Trickle(400, pause=0.01)))
    async with httpx.AsyncClient() as http:
        adapter = fhir_pas(http, settings(deadline_seconds=0.3))
        with pytest.raises(PayerTimeout, match="deadline"):
            await adapter.submit(SUB)


async def test_an_answer_past_the_size_cap_is_a_protocol_error(payer: respx.MockRouter) -> None:
    route = payer.post(SUBMIT).mock(return_value=httpx.Response(200, headers=FHIR, stream=Trickle(50, size=1000)))
    async with httpx.AsyncClient() as http:
        adapter = fhir_pas(http, settings(max_answer_bytes=20_000))
        with pytest.raises(PayerProtocolError, match="larger than 20000 bytes"):
            await adapter.submit(SUB)
    assert route.call_count == 1  # not retried: the payer may have acted on it
