"""SMART scopes of the DTR operations, and the questionnaires reloaded with the rules (the old stay if broken)."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import CLAIM_WRITE, QUESTIONNAIRE_READ, VALUESET_READ
from app.settings import Settings
from tests.documentation.test_catalog import SHIPPED, SHIPPED_RULES
from tests.documentation.test_questionnaire_package import PACKAGE, order, params, questionnaires_of
from tests.support.auth import bearer, client_assertion, client_key, register_client, request_token, token_url
from tests.support.secure import secure_settings_for

FHIR = {"content-type": "application/fhir+json"}
VS = "https://epa-hub.example.org/fhir/dtr/sandbox/ValueSet/power-mobility-diagnoses"


@pytest.fixture
async def secure_app(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    application = create_app(secure_settings_for(database_url, tmp_path))
    async with application.router.lifespan_context(application):
        yield application


async def _token(app: FastAPI, http: httpx.AsyncClient, client_id: str, scopes: list[str]) -> dict[str, str]:
    key = await register_client(app, client_id, scopes, key=client_key("ES384"))
    response = await request_token(http, client_assertion(client_id, key, token_url(app)), scopes)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def test_the_dtr_operations_need_the_questionnaire_and_value_set_scopes(secure_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=secure_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        dtr = await _token(secure_app, http, "dtr-app", [QUESTIONNAIRE_READ, VALUESET_READ])
        pas_only = await _token(secure_app, http, "pas-only", [CLAIM_WRITE])
        body = orjson.dumps(params(order("K0823")))
        assert (await http.post(PACKAGE, content=body, headers={**FHIR, **dtr})).status_code == 200
        assert (await http.post(PACKAGE, content=body, headers={**FHIR, **pas_only})).status_code == 403
        expand = "/fhir/ValueSet/$expand"
        assert (await http.get(expand, params={"url": VS}, headers=dtr)).status_code == 200
        assert (await http.get(expand, params={"url": VS}, headers=pas_only)).status_code == 403


async def test_a_reload_with_a_broken_questionnaire_file_is_refused_and_the_old_stay(
    settings: Settings, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(SHIPPED_RULES, rules / "sandbox.toml")
    folder = rules / "questionnaires" / "sandbox"
    shutil.copytree(SHIPPED, folder)
    application = create_app(settings.model_copy(update={"coverage_rules_dir": rules}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            first = (await http.post(PACKAGE, content=orjson.dumps(params(order("K0823"))), headers=FHIR)).json()
            assert questionnaires_of(first) == [
                f"{json.loads((folder / 'Questionnaire-power-mobility.json').read_text())['url']}|1.0.0"
            ]
            library = json.loads((folder / "Library-EpaDtrCommon.json").read_text())
            library["content"] = library["content"][:1]  # the ELM goes missing
            (folder / "Library-EpaDtrCommon.json").write_text(json.dumps(library))
            refused = await http.post("/coverage-rules/reload")
            assert refused.status_code == 422
            assert "Library-EpaDtrCommon.json: Library.content" in refused.text
            again = (await http.post(PACKAGE, content=orjson.dumps(params(order("K0823"))), headers=FHIR)).json()
            (bundle,) = [p["resource"] for p in again["parameter"]]
            assert len(bundle["entry"]) == 5  # the package in force is the old, whole one
