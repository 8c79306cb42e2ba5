"""FHIR XML bodies cannot stall the service: read only after authentication, converted in a worker
thread, and refused quickly (413/400 with an OperationOutcome) past the element, depth and repeat limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api import fhir_claims, fhir_format
from app.fhir import xml
from app.main import create_app
from tests.support.secure import secure_settings_for

XML = {"content-type": "application/fhir+xml"}


def patient_with(identifiers: int, *, depth: int = 0) -> bytes:
    """A FHIR XML Patient with `identifiers` identifiers, and an extension nested `depth` levels deep."""
    nested = '<extension url="http://example.org/x">' * depth + "</extension>" * depth
    ids = "".join(f'<identifier><value value="v{i}"/></identifier>' for i in range(identifiers))
    return f'<Patient xmlns="http://hl7.org/fhir">{nested}{ids}<active value="true"/></Patient>'.encode()


def bundle_with(patients: int, identifiers: int) -> bytes:
    """A collection Bundle of `patients` Patients, each with `identifiers` identifiers."""
    entry = "<entry><resource>" + patient_with(identifiers).decode() + "</resource></entry>"
    return f'<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>{entry * patients}</Bundle>'.encode()


class WatchedBody:
    """A streamed request body that records whether the service started to read it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.read = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read.set()
        for start in range(0, len(self.body), 65536):
            yield self.body[start : start + 65536]


@pytest.fixture
async def secure_app(database_url: str, tmp_path: Path, engine: object) -> AsyncIterator[FastAPI]:
    application = create_app(secure_settings_for(database_url, tmp_path))
    async with application.router.lifespan_context(application):
        yield application


async def test_an_xml_body_without_a_token_is_refused_before_it_is_read(secure_app: FastAPI) -> None:
    body = WatchedBody(patient_with(5000))
    transport = httpx.ASGITransport(app=secure_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/fhir/Claim/$submit", content=body, headers=XML)
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not body.read.is_set()


async def test_too_many_elements_is_413_with_an_operation_outcome(client: httpx.AsyncClient) -> None:
    response = await client.post("/fhir/Claim/$submit", content=bundle_with(30, 400), headers=XML)
    assert response.status_code == 413
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "more than 20000 elements" in outcome["issue"][0]["details"]["text"]
    assert outcome["issue"][0]["expression"] == ["Bundle.entry.resource.Patient.identifier.value"]


async def test_one_element_repeated_too_often_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/fhir/Claim/$submit", content=patient_with(1500), headers=XML)
    assert response.status_code == 413
    issue = response.json()["issue"][0]
    assert "identifier more than 1000 times" in issue["details"]["text"]
    assert issue["expression"] == ["Patient.identifier"]


async def test_elements_nested_too_deep_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/fhir/Claim/$submit", content=patient_with(1, depth=60), headers=XML)
    assert response.status_code == 400
    assert "deeper than 48" in response.json()["issue"][0]["details"]["text"]


async def test_other_requests_are_answered_while_an_xml_body_is_converted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = WatchedBody(bundle_with(19, 500))  # within the limits; seconds of conversion
    finished: list[str] = []

    def watched_conversion(*args: Any) -> bytes:
        try:
            return xml.xml_to_json(*args)
        finally:
            finished.append("converted")

    for module in (fhir_claims, fhir_format):  # wherever the service converts XML bodies
        monkeypatch.setattr(module, "xml_to_json", watched_conversion, raising=False)

    async def convert() -> None:
        response = await client.post("/fhir/Claim/$submit", content=body, headers=XML)
        assert response.status_code == 400  # a collection Bundle is no PAS request

    async def meanwhile() -> None:
        await body.read.wait()
        await asyncio.sleep(0.05)  # the conversion has started
        assert (await client.get("/healthz")).status_code == 200
        finished.append("healthz")

    await asyncio.gather(convert(), meanwhile())
    assert finished == ["healthz", "converted"]
