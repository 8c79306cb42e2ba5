"""Idempotency by content: a retry of the same Bundle is the same request however it is serialised."""

from __future__ import annotations

import json

import httpx
import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import Authorization
from tests.support.bundles import pas_request
from tests.support.pas import submit


def _reordered(value: object) -> object:
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


async def test_a_retry_with_other_whitespace_and_key_order_replays_the_first_answer(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bundle = pas_request("99212", "E0486")
    first = await submit(client, orjson.dumps(bundle))
    again = json.dumps(_reordered(bundle), indent=3).encode()
    assert again != orjson.dumps(bundle)
    second = await submit(client, again)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(Authorization))).scalar_one() == 1


async def test_the_same_identifier_with_other_content_is_still_a_conflict(client: httpx.AsyncClient) -> None:
    bundle = pas_request("99212")
    await submit(client, bundle)
    bundle["entry"][0]["resource"]["item"][0]["quantity"] = {"value": 2}
    assert (await submit(client, bundle)).status_code == 409
