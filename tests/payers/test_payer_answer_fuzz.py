"""A payer's answer is untrusted: whatever a `fhir-pas` payer answers, `$submit` never answers 5xx.

The payer is a respx route; the request goes through the app over HTTP, on both backends. An
answer whose values do not fit the store (a 300-character preAuthRef, a 600-character
identifier, a NUL in a reason, a quantity of 1e40) is a payer protocol error: the request is
stored, answered pended with its Location, and followed up; the worker's follow-up meets the
same answer and keeps the request pended instead of failing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import respx
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.codes import ReviewAction
from app.domain.model import ItemDecision
from app.jobs.loop import Worker
from app.main import create_app
from app.settings import Settings
from app.store.models import Authorization, Job
from app.worker import default_handlers
from tests.support.bundles import pas_request
from tests.support.logs import MEMBER_ID, CapturedLogs, captured_logs, phi_in
from tests.support.pas import FHIR_JSON, review_actions
from tests.support.payer_answers import claim_response_bundle

PAYER = "https://payer.example/fhir"
Json = dict[str, Any]

APPROVED: Json = orjson.loads(
    claim_response_bundle(
        (ItemDecision(1, ReviewAction.CERTIFIED, authorization_number="AUTH-1"),), preauth_ref="AUTH-1"
    )
)


def _claim_response(bundle: Json) -> Json:
    resource: Json = bundle["entry"][0]["resource"]
    return resource


def _review(bundle: Json) -> list[Json]:
    extensions: list[Json] = _claim_response(bundle)["item"][0]["adjudication"][0]["extension"][0]["extension"]
    return extensions


def _long_preauth_ref(bundle: Json) -> None:
    _claim_response(bundle)["preAuthRef"] = "P" * 300


def _long_identifier(bundle: Json) -> None:
    _claim_response(bundle)["identifier"][0]["value"] = "I" * 600


def _long_authorization_number(bundle: Json) -> None:
    _review(bundle)[1]["valueString"] = "N" * 129


def _nul_in_reason(bundle: Json) -> None:
    _review(bundle).append(
        {"url": "reasonCode", "valueCodeableConcept": {"coding": [{"code": "X\x00"}], "text": "why\x00"}}
    )


def _huge_authorized_quantity(bundle: Json) -> None:
    _claim_response(bundle)["addItem"] = [
        {"itemSequence": [1], "productOrService": {"coding": [{"code": "E0999"}]}, "quantity": {"value": 1e40}}
    ]


def _preauth_ref_not_a_string(bundle: Json) -> None:
    _claim_response(bundle)["preAuthRef"] = {"value": "AUTH-1"}


def _item_sequence_in_add_item_not_a_list(bundle: Json) -> None:
    _claim_response(bundle)["addItem"] = [{"itemSequence": 1}]


OVERSIZED: dict[str, Callable[[Json], None]] = {
    "preAuthRef of 300": _long_preauth_ref,
    "identifier of 600": _long_identifier,
    "authorization number of 129": _long_authorization_number,
    "NUL in a reason": _nul_in_reason,
    "authorized quantity 1e40": _huge_authorized_quantity,
    "preAuthRef not a string": _preauth_ref_not_a_string,
    "addItem.itemSequence not a list": _item_sequence_in_add_item_not_a_list,
}


@pytest.fixture
def payer_settings(settings: Settings, tmp_path: Path) -> Settings:
    payers = tmp_path / "payers.toml"
    payers.write_text(
        f'[[payer]]\nid = "acme"\nadapter = "fhir-pas"\ndefault = true\n\n[payer.settings]\nbase_url = "{PAYER}"\n'
    )
    return settings.model_copy(update={"payers_file": payers})


@pytest.fixture
def payer() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with captured_logs() as handler:
        yield handler


@pytest.fixture
def http(
    payer_settings: Settings, engine: AsyncEngine, payer: respx.MockRouter, logs: CapturedLogs
) -> Iterator[TestClient]:
    with TestClient(create_app(payer_settings)) as client:
        yield client


def _answer(payer: respx.MockRouter, document: Json | bytes) -> None:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()  # ints beyond 64 bits too
    response = httpx.Response(200, content=body, headers={"content-type": "application/fhir+json"})
    for operation in ("$submit", "$inquire"):
        payer.post(f"{PAYER}/Claim/{operation}").mock(return_value=response)


_counter = iter(range(1_000_000))


def _submit(http: TestClient) -> httpx.Response:
    bundle = pas_request("99212", tag=f"fuzz-{next(_counter)}", member=MEMBER_ID)
    response: httpx.Response = http.post("/fhir/Claim/$submit", content=orjson.dumps(bundle), headers=FHIR_JSON)
    return response


def test_an_approval_that_fits_is_recorded(http: TestClient, payer: respx.MockRouter) -> None:
    _answer(payer, APPROVED)
    response = _submit(http)
    assert response.status_code == 200, response.text
    assert review_actions(response.json()) == {1: "A1"}


@pytest.mark.parametrize("case", sorted(OVERSIZED))
def test_a_payer_answer_that_does_not_fit_leaves_the_request_pended_and_followed_up(
    http: TestClient, payer: respx.MockRouter, logs: CapturedLogs, case: str
) -> None:
    answer = copy.deepcopy(APPROVED)
    OVERSIZED[case](answer)
    _answer(payer, answer)

    response = _submit(http)
    assert response.status_code == 200, response.text
    assert review_actions(response.json()) == {1: "A4"}
    assert response.headers["location"].startswith("http")

    runtime = http.app.state.runtime  # type: ignore[attr-defined]

    async def follow_up_once() -> tuple[str, str]:
        async with runtime.sessions() as session:  # the app's own sessions: its event loop, not the test's
            await session.execute(update(Job).values(run_at=runtime.clock()))
            await session.commit()
        await Worker(runtime.sessions, default_handlers(runtime), clock=runtime.clock).run_once()
        async with runtime.sessions() as session:
            status = (await session.execute(select(Authorization.status))).scalar_one()
            job = (await session.execute(select(Job).where(Job.kind == "authorization.follow_up"))).scalar_one()
        return status, job.state

    status, job_state = http.portal.call(follow_up_once)  # type: ignore[union-attr]
    assert status == "pended"
    assert job_state == "queued"  # asked again later, not dead and not crashed
    assert phi_in(logs.texts) == []


ODD_PAYER_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from(["P" * 300, "I" * 600, "x\x00y", "\x1b[31m", "", "A" * 129]),
    st.text(max_size=8),
    st.just({}),
    st.just([]),
    st.just([1, "2"]),
)


def _containers(node: Any) -> list[Any]:
    found, stack = [node], [node]
    while stack:
        current = stack.pop()
        for child in current.values() if isinstance(current, dict) else current:
            if isinstance(child, dict | list):
                found.append(child)
                stack.append(child)
    return found


@st.composite
def mutated_answers(draw: st.DrawFn) -> Json:
    answer = copy.deepcopy(APPROVED)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        containers = _containers(answer)
        target = containers[draw(st.integers(min_value=0, max_value=len(containers) - 1))]
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if draw(st.booleans()):
                target[key] = copy.deepcopy(draw(ODD_PAYER_VALUES))
            else:
                del target[key]
        elif isinstance(target, list) and target:
            target[draw(st.integers(min_value=0, max_value=len(target) - 1))] = copy.deepcopy(draw(ODD_PAYER_VALUES))
    return answer


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=mutated_answers())
def test_mutated_payer_answers_never_get_the_client_a_server_error(
    http: TestClient, payer: respx.MockRouter, logs: CapturedLogs, answer: Json
) -> None:
    payer.routes.clear()
    _answer(payer, answer)
    response = _submit(http)
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.headers["location"]
        assert set(review_actions(response.json())) == {1}
    assert phi_in(logs.texts) == []
