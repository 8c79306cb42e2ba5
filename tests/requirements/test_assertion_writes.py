"""The coverage assertions of concurrent CRD calls are stored together, each call answered only once its rows
are committed, and one call's failing rows never fail another's (app/requirements/repository.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.requirements.repository import add_assertions
from app.store.models import CoverageAssertion


def assertion(**values: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "client_id": "client-a",
        "payer_id": "sandbox",
        "hook": "order-sign",
        "order_reference": "DeviceRequest/dr-1",
        "product_system": "https://bluebutton.cms.gov/resources/codesystem/hcpcs",
        "product_code": "E0250",
        "covered": "covered",
        "pa_needed": "auth-needed",
        "doc_needed": None,
        "rule_id": None,
        "rules_version": None,
        "satisfied_pa_id": None,
        "authorization_id": None,
        "linked_at": None,
        "created_at": datetime.now(UTC),
        **values,
    }


@contextmanager
def counted_inserts(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO COVERAGE_ASSERTIONS"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def stored_ids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(CoverageAssertion.id))).scalars())


async def test_a_call_returns_once_its_assertions_are_stored(engine: AsyncEngine) -> None:
    rows = [assertion(), assertion(order_reference="DeviceRequest/dr-2")]
    await add_assertions(engine, rows)
    assert await stored_ids(engine) == {row["id"] for row in rows}


async def test_concurrent_calls_share_one_statement_and_each_finds_its_rows_stored(engine: AsyncEngine) -> None:
    calls = [[assertion(), assertion()] for _ in range(8)]
    with counted_inserts(engine) as statements:
        await asyncio.gather(*(add_assertions(engine, rows) for rows in calls))
    assert await stored_ids(engine) == {row["id"] for rows in calls for row in rows}
    assert 1 <= len(statements) < len(calls)  # the calls that arrived together went in one statement


async def test_calls_arriving_while_a_statement_is_in_flight_go_in_the_next(engine: AsyncEngine) -> None:
    first = asyncio.ensure_future(add_assertions(engine, [assertion()]))
    await asyncio.sleep(0)  # the first call's statement is under way
    later = [[assertion()] for _ in range(5)]
    await asyncio.gather(first, *(add_assertions(engine, rows) for rows in later))
    assert len(await stored_ids(engine)) == 6


async def test_one_calls_failing_rows_do_not_fail_the_calls_stored_with_it(engine: AsyncEngine) -> None:
    taken = assertion()
    await add_assertions(engine, [taken])
    good = [[assertion()] for _ in range(3)]
    duplicate = [assertion(id=taken["id"], created_at=taken["created_at"])]  # its key is taken: its statement fails
    outcomes = await asyncio.gather(
        add_assertions(engine, good[0]),
        add_assertions(engine, duplicate),
        add_assertions(engine, good[1]),
        add_assertions(engine, good[2]),
        return_exceptions=True,
    )
    assert [type(o) for o in outcomes] == [type(None), IntegrityError, type(None), type(None)]
    assert await stored_ids(engine) == {taken["id"], *(rows[0]["id"] for rows in good)}


async def test_a_call_cancelled_while_it_waits_does_not_stop_the_others(engine: AsyncEngine) -> None:
    rows = [assertion() for _ in range(3)]
    waiting = [asyncio.ensure_future(add_assertions(engine, [row])) for row in rows]
    await asyncio.sleep(0)  # all three are waiting for their statement
    waiting[0].cancel()  # its client went away
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert outcomes[1:] == [None, None]
    assert await stored_ids(engine) == {row["id"] for row in rows}  # its rows were in the statement already


async def test_no_rows_send_no_statement(engine: AsyncEngine) -> None:
    with counted_inserts(engine) as statements:
        await add_assertions(engine, [])
    assert statements == []
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(CoverageAssertion))).scalar_one() == 0
