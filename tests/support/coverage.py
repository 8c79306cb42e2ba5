"""Helpers for tests of the coverage rules through the HTTP routes ($submit, $validate, CRD): PAS Bundles,
an app with given rules, DB reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.main import create_app
from app.settings import Settings
from app.store.models import Authorization, Event
from tests.support.bundles import make_item, make_pas_bundle

FHIR_JSON = {"content-type": "application/fhir+json"}
HCPCS = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
Json = dict[str, Any]


def pas_bundle(*codes: str, tag: str = "1", member: str = "MEMBER-123", served: str = "2030-05-10") -> Json:
    """A PAS request Bundle with one item per code (HCPCS Level II codes under the HCPCS system)."""
    bundle = make_pas_bundle(
        items=len(codes),
        claim_overrides={"identifier": [{"system": "http://provider.example.org/claims", "value": f"CLAIM-{tag}"}]},
        identifier={"system": "http://provider.example.org/bundles", "value": f"BUNDLE-{tag}"},
    )
    claim = bundle["entry"][0]["resource"]
    claim["item"] = [make_item(n, code=code) for n, code in enumerate(codes, 1)]
    for element in claim["item"]:
        code = element["productOrService"]["coding"][0]
        if not code["code"].isdigit():
            code["system"], code["display"] = HCPCS, "Item"
        element["servicedDate"] = served
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Coverage":
            entry["resource"]["subscriberId"] = member
    return bundle


def claim_of(bundle: Json) -> Json:
    claim: Json = bundle["entry"][0]["resource"]
    return claim


async def post_fhir(client: httpx.AsyncClient, path: str, bundle: Json) -> httpx.Response:
    return await client.post(path, content=orjson.dumps(bundle), headers=FHIR_JSON)


@asynccontextmanager
async def client_with_rules(settings: Settings, directory: Path, rules: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose sandbox payer has the given rules file (TOML text)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sandbox.toml").write_text(rules, encoding="utf-8")
    application = create_app(settings.model_copy(update={"coverage_rules_dir": directory}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def authorizations(engine: AsyncEngine) -> list[Authorization]:
    async with AsyncSession(engine) as session:
        found = await session.execute(select(Authorization).order_by(Authorization.created_at))
        return list(found.scalars())


async def event_types(engine: AsyncEngine) -> list[tuple[str, Any]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(Event.type, Event.detail).order_by(Event.id))).all()
    return [(row.type, row.detail) for row in rows]
