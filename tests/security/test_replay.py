"""Assertion ids (`jti`) are taken once per client, in one statement of their own: a live copy is a replay,
an expired one is taken over, concurrent uses of one id let exactly one through, and expired ids are
pruned at most once per period (on both backends)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.registry import add_client, read_client
from app.security.replay import ReplayGuard, use_assertion_once
from app.store.database import create_session_factory
from app.store.models import UsedAssertion
from tests.support.auth import client_key


def _soon(seconds: int = 120) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def _held(engine: AsyncEngine) -> dict[tuple[str, str], datetime]:
    async with create_session_factory(engine)() as session:
        rows = (
            await session.execute(select(UsedAssertion.client_id, UsedAssertion.jti, UsedAssertion.expires_at))
        ).all()
    return {(client, jti): expires for client, jti, expires in rows}


async def test_an_id_is_taken_once_per_client(engine: AsyncEngine) -> None:
    guard = ReplayGuard()
    assert await use_assertion_once(engine, guard, "ehr-a", "j-1", _soon())
    assert not await use_assertion_once(engine, guard, "ehr-a", "j-1", _soon())
    assert await use_assertion_once(engine, guard, "ehr-b", "j-1", _soon())  # another client's ids are its own
    assert set(await _held(engine)) == {("ehr-a", "j-1"), ("ehr-b", "j-1")}


async def test_an_expired_copy_is_taken_over_with_the_new_expiry(engine: AsyncEngine) -> None:
    guard = ReplayGuard(prune_every_seconds=3600)
    assert await use_assertion_once(engine, guard, "ehr-a", "other", _soon(-60))  # prunes nothing yet (first call)
    assert await use_assertion_once(engine, guard, "ehr-a", "j-1", _soon(-30))  # expired already
    later = _soon(200)
    assert await use_assertion_once(engine, guard, "ehr-a", "j-1", later)  # not a replay: its copy expired
    held = await _held(engine)
    assert abs((held[("ehr-a", "j-1")] - later).total_seconds()) < 1
    assert not await use_assertion_once(engine, guard, "ehr-a", "j-1", _soon())  # now it is live again


async def test_concurrent_uses_of_one_id_let_exactly_one_through(engine: AsyncEngine) -> None:
    guard = ReplayGuard()
    results = await asyncio.gather(*(use_assertion_once(engine, guard, "ehr-a", "race", _soon()) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_expired_ids_are_pruned_at_most_once_per_period(engine: AsyncEngine) -> None:
    guard = ReplayGuard(prune_every_seconds=3600)
    assert await use_assertion_once(engine, guard, "ehr-a", "first", _soon())  # the first call prunes (nothing)
    assert await use_assertion_once(engine, guard, "ehr-a", "old", _soon(-10))
    assert await use_assertion_once(engine, guard, "ehr-a", "new", _soon())
    assert ("ehr-a", "old") in await _held(engine)  # within the period: kept, though expired

    due = ReplayGuard(prune_every_seconds=0)
    assert await use_assertion_once(engine, due, "ehr-a", "newer", _soon())
    held = await _held(engine)
    assert ("ehr-a", "old") not in held
    assert {("ehr-a", "first"), ("ehr-a", "new"), ("ehr-a", "newer")} <= set(held)
    async with create_session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(UsedAssertion)) == 3


async def test_a_registration_is_read_as_stored_now(engine: AsyncEngine) -> None:
    assert await read_client(engine, "ehr-a") is None
    assert await read_client(engine, "x" * 129) is None  # longer than any client id: not looked up
    async with create_session_factory(engine)() as session:
        await add_client(session, "ehr-a", scopes=["system/Claim.write"], jwks=client_key("ES384").jwks)
        await session.commit()
    registration = await read_client(engine, "ehr-a")
    assert registration is not None
    assert registration.client_id == "ehr-a"
    assert registration.enabled
    assert registration.scopes == ["system/Claim.write"]
    assert registration.jwks is not None
    assert registration.jwks["keys"][0]["kty"] == "EC"
    assert registration.created_at.tzinfo is not None
