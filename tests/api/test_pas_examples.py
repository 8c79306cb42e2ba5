"""The public PAS examples through the real endpoint (skipped when ../shared/pas-examples is absent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import Authorization, Event, Job
from tests.support.pas import (
    ACCEPTED_EXAMPLES,
    REJECTED_EXAMPLES,
    claim_response,
    load_example,
    review_actions,
    submit,
    with_fresh_identifiers,
)

R4B = pytest.importorskip("fhir.resources.R4B.bundle")


async def _rows(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        counts = [
            (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Authorization, Event, Job)
        ]
    return counts[0], counts[1], counts[2]


def _entries_by_full_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"] if "fullUrl" in entry}


@pytest.mark.parametrize("name", ACCEPTED_EXAMPLES)
async def test_public_examples_answer_a_valid_response(
    client: httpx.AsyncClient, shared_examples: Path, name: str
) -> None:
    request = with_fresh_identifiers(load_example(shared_examples / name))
    response = await submit(client, request)
    assert response.status_code == 200, response.text
    body = response.json()
    R4B.Bundle.model_validate(body)
    resource = claim_response(body)
    submitted = {item["sequence"] for item in request["entry"][0]["resource"].get("item", [])}
    assert set(review_actions(body)) == submitted
    # every resource the ClaimResponse references is included once, with the request's fullUrl and identifiers
    included = _entries_by_full_url(body)
    assert len(included) == len(body["entry"])
    requested = _entries_by_full_url(request)
    for field in ("patient", "insurer", "requestor"):
        reference = resource[field]["reference"]
        assert reference in included
        assert included[reference].get("identifier") == requested[reference].get("identifier")


@pytest.mark.parametrize("name", REJECTED_EXAMPLES)
async def test_negative_examples_are_400_and_store_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, shared_examples: Path, name: str
) -> None:
    before = await _rows(engine)
    response = await submit(client, (shared_examples / name).read_bytes())
    assert 400 <= response.status_code < 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert all(issue.get("expression") or issue["code"] in ("structure", "exception") for issue in outcome["issue"])
    assert await _rows(engine) == before


async def test_update_after_its_original_echoes_every_item_with_the_cancel_marked(
    client: httpx.AsyncClient, shared_examples: Path
) -> None:
    original = load_example(shared_examples / "ig-2.2.1/Bundle-HomecareAuthorizationBundleExample.json")
    update = load_example(shared_examples / "ig-2.2.1/Bundle-HomecareAuthorizationUpdateBundleExample.json")
    original["identifier"] = {"system": "urn:test", "value": "original"}
    update["identifier"] = {"system": "urn:test", "value": "update"}
    first = await submit(client, original)
    assert first.status_code == 200, first.text
    assert review_actions(first.json()) == {1: "A1", 2: "A1"}
    second = await submit(client, update)
    assert second.status_code == 200, second.text
    body = second.json()
    R4B.Bundle.model_validate(body)
    assert review_actions(body) == {1: "A1", 2: "C", 3: "A1"}

    inquiry = load_example(shared_examples / "ig-2.2.1/Bundle-PASClaimInquiryBundleExample.json")
    answer = await client.post(
        "/fhir/Claim/$inquire", content=orjson.dumps(inquiry), headers={"content-type": "application/fhir+json"}
    )
    assert answer.status_code == 200, answer.text
    parameters = answer.json()
    assert parameters["resourceType"] == "Parameters"
    returned = [p["resource"] for p in parameters.get("parameter", []) if p["name"] == "return"]
    # the replaced original answers with its replacement: the update's ClaimResponse, once
    ids = [claim_response(bundle)["id"] for bundle in returned]
    assert claim_response(body)["id"] in ids
    assert claim_response(first.json())["id"] not in ids
