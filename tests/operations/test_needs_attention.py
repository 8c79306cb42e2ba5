"""The "needs attention" worklist filter, asked of the store directly on both backends: an authorization
whose latest timeline entry is a failed payer call needs attention, one whose payer error was followed by
another entry does not (even one stamped a little earlier by another process's clock), and the other
reasons (open and due soon, a dead job) still count."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.operations.queries import AuthorizationFilter, list_summaries
from app.store.database import create_session_factory
from app.store.models import Event, Job
from tests.operations.test_authorizations_api import DEV, NOW, _row


async def _events(engine: AsyncEngine, authorization_id: uuid.UUID, *entries: tuple[str, datetime]) -> None:
    """Timeline entries in the order given (ids rising), each with its own time."""
    async with create_session_factory(engine).begin() as session:
        for kind, at in entries:
            session.add(Event(authorization_id=authorization_id, client_id=DEV, type=kind, at=at))
            await session.flush()


async def _attention(engine: AsyncEngine, **filters: Any) -> set[uuid.UUID]:
    where = AuthorizationFilter(attention_before=NOW + timedelta(hours=1), **filters)
    async with create_session_factory(engine)() as session:
        page = await list_summaries(session, client_id=DEV, where=where, now=NOW, limit=50)
    return {row.id for row in page.rows}


async def test_the_latest_entry_decides_whether_a_payer_error_needs_attention(engine: AsyncEngine) -> None:
    t = NOW - timedelta(days=40)  # an earlier month: on PostgreSQL, another partition of the events
    calm = await _row(engine)
    await _events(engine, calm, ("received", t), ("payer-answered", t + timedelta(minutes=1)))
    down = await _row(engine)
    await _events(engine, down, ("received", t), ("payer-unreachable", t + timedelta(minutes=1)))
    recovered = await _row(engine)
    await _events(
        engine, recovered, ("received", t), ("payer-timed-out", t), ("payer-answered", NOW - timedelta(days=1))
    )
    skewed = await _row(engine)  # the later entry's clock ran two hours behind: still the later entry
    await _events(engine, skewed, ("payer-refused", t), ("payer-answered", t - timedelta(hours=2)))
    again = await _row(engine)  # answered, then the next call failed: the error is the latest
    await _events(engine, again, ("payer-answered", t), ("payer-adapter-failed", NOW - timedelta(minutes=5)))

    assert await _attention(engine) == {down, again}
    assert await _attention(engine, payer_id="acme") == set()  # the other filters still apply
    assert await _attention(engine, include_replaced=True) == {down, again}


async def test_open_and_due_soon_and_dead_jobs_still_need_attention(engine: AsyncEngine) -> None:
    due = await _row(engine, status="pended", due_at=NOW + timedelta(minutes=30))
    later = await _row(engine, status="pended", due_at=NOW + timedelta(days=2))
    decided = await _row(engine, status="approved", due_at=NOW - timedelta(days=1))  # decided: no clock runs
    dead = await _row(engine)
    async with create_session_factory(engine).begin() as session:
        session.add(
            Job(
                kind="test.sleep",
                payload={},
                authorization_id=dead,
                state="dead",
                run_at=NOW,
                attempts=3,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    found = await _attention(engine)
    assert due in found
    assert dead in found
    assert later not in found
    assert decided not in found
