"""A payer with its own DTR service: CRD points the client there, and the hub does not answer DTR for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from app.main import create_app
from app.settings import Settings
from tests.documentation.test_questionnaire_package import PACKAGE, order, params
from tests.requirements.test_cds_hooks import call, device_request, hook_request

OWN_DTR = "https://dtr.payer.example/fhir"
PAYERS = f"""
[[payer]]
id = "sandbox"
adapter = "sandbox"
default = true
dtr_endpoint = "{OWN_DTR}"
"""


@pytest.fixture
async def own_dtr_client(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    payers = tmp_path / "payers.toml"
    payers.write_text(PAYERS)
    application = create_app(settings.model_copy(update={"payers_file": payers}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def card_links(answer: dict[str, object]) -> list[str]:
    cards = answer["cards"]
    assert isinstance(cards, list)
    return [link["url"] for card in cards for link in card.get("links", [])]


async def test_crd_links_the_payers_own_dtr_service_and_the_hub_refuses_dtr(own_dtr_client: httpx.AsyncClient) -> None:
    answer = (await call(own_dtr_client, "crd-order-sign", hook_request("order-sign", device_request("K0823")))).json()
    assert OWN_DTR in card_links(answer)
    response = await own_dtr_client.post(
        PACKAGE, content=orjson.dumps(params(order("K0823"))), headers={"content-type": "application/fhir+json"}
    )
    assert response.status_code == 422
    assert OWN_DTR in response.json()["issue"][0]["details"]["text"]
    assert response.json()["issue"][0]["expression"] == ["Parameters.parameter[0].resource.payor"]


async def test_without_its_own_service_the_hub_answers_and_crd_links_nothing_else(client: httpx.AsyncClient) -> None:
    answer = (await call(client, "crd-order-sign", hook_request("order-sign", device_request("K0823")))).json()
    assert OWN_DTR not in card_links(answer)
    response = await client.post(
        PACKAGE, content=orjson.dumps(params(order("K0823"))), headers={"content-type": "application/fhir+json"}
    )
    assert response.status_code == 200
