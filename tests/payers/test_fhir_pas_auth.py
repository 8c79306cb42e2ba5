"""SMART Backend Services for `fhir-pas`: signed client assertions, token caching, 401 refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import jwt
import orjson
import pytest
import respx

from app.domain.codes import ReviewAction
from app.domain.model import ItemDecision
from app.payers.errors import PayerProtocolError, PayerUnavailable
from app.payers.fhir_pas.auth import ASSERTION_TYPE
from tests.payers.builders import Clock, item, request, submission
from tests.payers.fhir_pas_support import BASE, TOKEN_URL, ec_key_pem, fhir_pas, settings
from tests.support.payer_answers import claim_response_bundle

SUBMIT = f"{BASE}/Claim/$submit"
SUB = submission(request(item(1, "E0100")))
KEY_PEM, PUBLIC_KEY = ec_key_pem()


@pytest.fixture
async def payer() -> AsyncIterator[respx.MockRouter]:
    async with respx.mock(assert_all_called=False) as router:
        yield router


def token_answer(value: str, expires_in: int = 300) -> httpx.Response:
    return httpx.Response(
        200, content=orjson.dumps({"access_token": value, "token_type": "bearer", "expires_in": expires_in})
    )


def approved() -> httpx.Response:
    return httpx.Response(200, content=claim_response_bundle((ItemDecision(1, ReviewAction.CERTIFIED),)))


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


async def test_client_assertion_is_a_signed_short_lived_jwt(payer: respx.MockRouter) -> None:
    token = payer.post(TOKEN_URL).mock(return_value=token_answer("T1"))
    submit = payer.post(SUBMIT).mock(return_value=approved())
    async with httpx.AsyncClient() as http:
        await fhir_pas(http, settings(auth_pem=KEY_PEM)).submit(SUB)
    sent = form(token.calls.last.request)
    assert sent["grant_type"] == "client_credentials"
    assert sent["client_assertion_type"] == ASSERTION_TYPE
    assert sent["scope"] == "system/Claim.write"
    assert jwt.get_unverified_header(sent["client_assertion"])["kid"] == "k1"
    claims = jwt.decode(
        sent["client_assertion"], PUBLIC_KEY, algorithms=["ES384"], audience=TOKEN_URL, options={"verify_exp": False}
    )
    assert claims["iss"] == claims["sub"] == "epa-hub"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["jti"]
    assert submit.calls.last.request.headers["Authorization"] == "Bearer T1"


async def test_token_is_cached_until_shortly_before_expiry(payer: respx.MockRouter) -> None:
    token = payer.post(TOKEN_URL).mock(side_effect=[token_answer("T1", 300), token_answer("T2", 300)])
    submit = payer.post(SUBMIT).mock(return_value=approved())
    clock = Clock()
    async with httpx.AsyncClient() as http:
        adapter = fhir_pas(http, settings(auth_pem=KEY_PEM), clock=clock)
        await adapter.submit(SUB)
        clock.advance(seconds=200)
        await adapter.submit(SUB)
        assert token.call_count == 1
        clock.advance(seconds=45)  # within 60 s of expiry: renew
        await adapter.submit(SUB)
    assert token.call_count == 2
    assert submit.calls.last.request.headers["Authorization"] == "Bearer T2"
    assertions = [form(call.request)["client_assertion"] for call in token.calls]
    jtis = {jwt.decode(a, options={"verify_signature": False})["jti"] for a in assertions}
    assert len(jtis) == 2


async def test_401_refreshes_the_token_once_then_succeeds(payer: respx.MockRouter) -> None:
    token = payer.post(TOKEN_URL).mock(side_effect=[token_answer("OLD"), token_answer("NEW")])
    submit = payer.post(SUBMIT).mock(side_effect=[httpx.Response(401), approved()])
    async with httpx.AsyncClient() as http:
        reply = await fhir_pas(http, settings(auth_pem=KEY_PEM)).submit(SUB)
    assert reply.decisions[0].action is ReviewAction.CERTIFIED
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in submit.calls] == ["Bearer OLD", "Bearer NEW"]


async def test_401_after_refresh_is_unavailable(payer: respx.MockRouter) -> None:
    payer.post(TOKEN_URL).mock(return_value=token_answer("T"))
    submit = payer.post(SUBMIT).mock(return_value=httpx.Response(401))
    async with httpx.AsyncClient() as http:
        with pytest.raises(PayerUnavailable, match="credentials"):
            await fhir_pas(http, settings(auth_pem=KEY_PEM)).submit(SUB)
    assert submit.call_count == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(400, json={"error": "invalid_client"}), PayerUnavailable),
        (httpx.Response(200, text="not json"), PayerProtocolError),
        (httpx.ConnectError("refused"), PayerUnavailable),
    ],
)
async def test_token_endpoint_failures_are_payer_errors(
    payer: respx.MockRouter, answer: httpx.Response | Exception, error: type[Exception]
) -> None:
    payer.post(TOKEN_URL).mock(side_effect=[answer])
    async with httpx.AsyncClient() as http:
        with pytest.raises(error):
            await fhir_pas(http, settings(auth_pem=KEY_PEM)).submit(SUB)
