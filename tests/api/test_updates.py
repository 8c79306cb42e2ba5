"""Updates and cancels of a stored authorization, and the refusals a final status brings."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import Authorization
from tests.support.bundles import pas_request
from tests.support.pas import claim_response, review_actions, submit

CERTIFICATION_TYPE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType"


def _cancel_all(tag: str, claim_value: str) -> dict[str, Any]:
    bundle = pas_request("99212", tag=tag)
    claim = bundle["entry"][0]["resource"]
    claim.pop("item")
    claim["identifier"][0]["value"] = claim_value
    claim["extension"].append(
        {
            "url": CERTIFICATION_TYPE,
            "valueCodeableConcept": {"coding": [{"system": "https://codesystem.x12.org/005010/1322", "code": "3"}]},
        }
    )
    return bundle


async def _statuses(engine: AsyncEngine) -> list[tuple[str, bool]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Authorization.status, Authorization.replaced_by_id).order_by(Authorization.created_at)
        )
        return [(status, replaced is not None) for status, replaced in rows]


async def test_cancel_all_cancels_every_item_and_later_updates_are_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    first = await submit(client, pas_request("99212", "99211", tag="1"))
    assert first.status_code == 200
    cancel = await submit(client, _cancel_all("2", "CLAIM-1"))
    assert cancel.status_code == 200, cancel.text
    assert claim_response(cancel.json())["outcome"] == "complete"
    assert await _statuses(engine) == [("approved", True), ("cancelled", False)]

    again = await submit(client, _cancel_all("3", "CLAIM-1"))
    assert again.status_code == 422
    issue = again.json()["issue"][0]
    assert "cancelled" in issue["details"]["text"]
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier[0]"]


async def test_cancel_of_an_unknown_claim_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await submit(client, _cancel_all("9", "NO-SUCH-CLAIM"))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "not-found"
    assert await _statuses(engine) == []


async def test_denied_authorization_takes_no_update(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    denied = await submit(client, pas_request("A9270", tag="1"))
    assert review_actions(denied.json()) == {1: "A3"}
    response = await submit(client, _cancel_all("2", "CLAIM-1"))
    assert response.status_code == 422
    assert "denied" in response.json()["issue"][0]["details"]["text"]
    assert await _statuses(engine) == [("denied", False)]
