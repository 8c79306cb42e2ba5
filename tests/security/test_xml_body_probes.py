"""XML bodies on every FHIR route that takes one, as an attacker would send them: malformed, in the
wrong namespace, entity tricks, deep or wide, valid FHIR of the wrong type, a real request cut short.
None may answer 5xx; every refusal is one OperationOutcome. (The JSON side of these routes is what
the schemathesis run generates from the OpenAPI schema.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import ADMIN, ALL_SCOPES
from tests.api.test_fhir_xml import as_xml
from tests.support.auth import bearer, token_for
from tests.support.bundles import pas_request
from tests.support.secure import secure_settings_for

ROUTES = [
    ("POST", "/fhir/Claim/$submit"),
    ("POST", "/fhir/Claim/$inquire"),
    ("POST", "/fhir/Claim/$validate"),
    ("POST", "/fhir/$submit-attachment"),
    ("POST", "/fhir/Subscription"),
    ("PUT", f"/fhir/Subscription/{uuid.uuid4()}"),
    ("POST", "/fhir/ChargeItem"),
]
NS = "http://hl7.org/fhir"
REQUEST = as_xml(pas_request("99212", tag="probe"))
BODIES = {
    "empty": b"",
    "not xml": b"{not: xml}",
    "unclosed": f"<Bundle xmlns='{NS}'><type value='collection'/>".encode(),
    "no namespace": b"<Bundle><type value='collection'/></Bundle>",
    "unknown resource": f"<Nothing xmlns='{NS}'/>".encode(),
    "external entity": b"<?xml version='1.0'?><!DOCTYPE b [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
    + f"<Bundle xmlns='{NS}'><id value='&x;'/></Bundle>".encode(),
    "entity expansion": b"<?xml version='1.0'?><!DOCTYPE b [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]>"
    + f"<Bundle xmlns='{NS}'><id value='&b;&b;&b;'/></Bundle>".encode(),
    "deep": f"<Bundle xmlns='{NS}'>".encode() + b"<extension url='u'>" * 300 + b"</extension>" * 300 + b"</Bundle>",
    "wide": f"<Patient xmlns='{NS}'>".encode() + b"<identifier><value value='v'/></identifier>" * 1200 + b"</Patient>",
    "wrong type": f"<Patient xmlns='{NS}'><active value='true'/></Patient>".encode(),
    "bad value": f"<Bundle xmlns='{NS}'><type value='not-a-type'/></Bundle>".encode(),
    "cut short": REQUEST[: len(REQUEST) // 2],
    "whole request": REQUEST,
    "utf-16": REQUEST.decode().replace("<?xml version='1.0' encoding='utf-8'?>", "").encode("utf-16"),
}


Probed = tuple[httpx.AsyncClient, str]


@pytest.fixture
async def probed(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[Probed]:
    settings = secure_settings_for(
        database_url, tmp_path, rate_limit_per_minute=0, token_rate_limit_per_address_per_minute=0
    )
    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            token = await token_for(http, application, "prober", sorted(ALL_SCOPES | {ADMIN}), admin=True)
            yield http, token


async def test_no_xml_body_answers_5xx_on_any_fhir_route(probed: Probed) -> None:
    http, token = probed
    failures: list[str] = []
    for method, path in ROUTES:
        for name, body in BODIES.items():
            headers = {**bearer(token), "content-type": "application/fhir+xml"}
            response = await http.request(method, path, content=body, headers=headers)
            refused_well = response.status_code < 400 or (
                response.headers.get("content-type", "").startswith("application/fhir+json")
                and response.json().get("resourceType") == "OperationOutcome"
            )
            if response.status_code >= 500 or not refused_well:
                failures.append(f"{method} {path} {name}: {response.status_code}")
            if name == "wide" and response.status_code != 413:  # the repeat limit holds on every route
                failures.append(f"{method} {path} {name}: {response.status_code}, not 413")
    assert failures == []
