"""`$submit`'s hot path: one narrow look-up before the write, and the write as Core statements (no ORM flush)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, UOWTransaction

from app.authorizations import submit_prior_auth
from app.fhir.submit import parse_submit
from app.runtime import Runtime
from app.security.audit import AuditEntry
from app.security.principal import DEVELOPMENT_PRINCIPAL
from app.store.models import AuditRecord, Authorization, AuthorizationIdentifier, AuthorizationItem, Event, Job
from tests.support.bundles import pas_request


class Watch:
    """The SQL statements the engine sends and the new objects each ORM flush finds."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.flushed_new: list[int] = []

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(" ".join(statement.split()))

    def flush(self, session: Session, _context: UOWTransaction, _instances: Any) -> None:
        self.flushed_new.append(len(session.new))

    def writes(self) -> list[str]:
        return [statement for statement in self.statements if _writes(statement)]

    def reads_before_first_insert(self) -> list[str]:
        reads: list[str] = []
        for statement in self.statements:
            if _writes(statement):
                break
            if statement.upper().startswith(("SELECT", "WITH")):
                reads.append(statement)
        return reads


def _writes(statement: str) -> bool:
    """An INSERT, or a statement whose common table expressions insert (PostgreSQL's one-statement write)."""
    upper = statement.upper()
    return upper.startswith("INSERT") or (upper.startswith("WITH") and "AS (INSERT INTO" in upper)


@pytest.fixture
def watch(runtime: Runtime) -> Iterator[Watch]:
    watched = Watch()
    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", watched.statement)
    event.listen(Session, "before_flush", watched.flush)
    try:
        yield watched
    finally:
        event.remove(Session, "before_flush", watched.flush)
        event.remove(engine, "before_cursor_execute", watched.statement)


async def _submit(runtime: Runtime, bundle: dict[str, Any]) -> int:
    audit = AuditEntry(client_id=DEVELOPMENT_PRINCIPAL.client_id, operation="claim.submit", resource_type="Claim")
    result = await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(orjson.dumps(bundle)), audit)
    assert audit.stored
    return result.status_code


async def _count(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_new_request_is_looked_up_in_one_statement_that_loads_no_documents(
    runtime: Runtime, watch: Watch
) -> None:
    await _submit(runtime, pas_request("E0486", "E0470", tag="1"))
    watch.statements.clear()
    # the same member and codes again: the look-up also finds the first request's items as duplicates
    await _submit(runtime, pas_request("E0486", "E0470", tag="2"))
    reads = watch.reads_before_first_insert()
    assert len(reads) == 1, reads
    assert "request_document" not in reads[0]
    assert "response_document" not in reads[0]
    assert "MATERIALIZED" in reads[0]  # the duplicates part starts from the member's authorizations


async def test_a_new_request_is_written_without_the_orm_unit_of_work(runtime: Runtime, watch: Watch) -> None:
    assert await _submit(runtime, pas_request("E0486", "E0470", "E0471")) == 200
    assert not any(watch.flushed_new), "an ORM flush inserted the new rows"
    async with runtime.sessions() as session:
        authorization = (await session.execute(select(Authorization))).scalar_one()
        assert authorization.response_document is not None
        items = (await session.execute(select(AuthorizationItem.sequence, AuthorizationItem.authorization_id))).all()
        assert sorted(items) == [(n, authorization.id) for n in (1, 2, 3)]
        events = (await session.execute(select(Event.type).where(Event.authorization_id == authorization.id))).all()
        assert events
        jobs = await session.scalar(select(func.count()).where(Job.authorization_id == authorization.id))
        assert jobs
    assert await _count(runtime, AuthorizationIdentifier) >= 1
    assert await _count(runtime, AuditRecord) == 1


async def test_a_new_request_is_written_in_one_statement_on_postgresql(runtime: Runtime, watch: Watch) -> None:
    assert await _submit(runtime, pas_request("E0486", "E0470", "E0471", tag="9")) == 200
    writes = watch.writes()
    tables = ("authorizations", "authorization_items", "authorization_identifiers", "events", "jobs", "audit_records")
    if runtime.engine.dialect.name == "postgresql":
        assert len(writes) == 1, writes
        assert all(f"INSERT INTO {table} " in writes[0] for table in tables)
    else:  # SQLite: no data-modifying common table expressions; one executemany per table, the audit row included
        assert sorted(statement.split()[2] for statement in writes) == sorted(tables)


async def test_a_replay_answers_the_stored_response_and_writes_nothing_new(runtime: Runtime, watch: Watch) -> None:
    bundle = pas_request("E0486", tag="7")
    await _submit(runtime, bundle)
    authorizations = await _count(runtime, Authorization)
    audit_rows = await _count(runtime, AuditRecord)
    await _submit(runtime, bundle)
    assert await _count(runtime, Authorization) == authorizations
    assert await _count(runtime, AuditRecord) == audit_rows + 1  # the replay is audited too


async def test_a_new_request_does_not_write_its_r4b_model_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[object] = []
    original = Bundle.model_dump_json

    def counted(self: Bundle, *args: Any, **kwargs: Any) -> str:
        written.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Bundle, "model_dump_json", counted)
    assert await _submit(runtime, pas_request("E0486", tag="8")) == 200
    assert written == []


async def test_a_retry_with_other_number_spelling_replays(runtime: Runtime) -> None:
    bundle = pas_request("E0486", tag="9")
    claim = bundle["entry"][0]["resource"]
    claim["item"][0]["quantity"] = {"value": 2}
    first = await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(orjson.dumps(bundle)))
    again = orjson.dumps(bundle).replace(b'"quantity":{"value":2}', b'"quantity":{"value":2.0}')
    assert b"2.0" in again
    replayed = await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(again))
    assert replayed.replayed
    assert replayed.body == first.body


async def test_a_request_stored_with_the_canonical_hash_still_replays(runtime: Runtime) -> None:
    bundle = pas_request("E0486", tag="10")
    parsed = parse_submit(orjson.dumps(bundle))
    first = await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parsed)
    async with runtime.sessions.begin() as session:  # as rows stored before the sorted-JSON hash hold it
        row = await session.get(Authorization, first.authorization_id)
        assert row is not None
        row.request_hash = hashlib.sha256(parsed.canonical()).hexdigest()
    replayed = await submit_prior_auth(
        runtime, DEVELOPMENT_PRINCIPAL, parse_submit(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    )
    assert replayed.replayed
    assert replayed.body == first.body
