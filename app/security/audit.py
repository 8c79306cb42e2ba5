"""The audit trail: who (client) did what (operation, resource ids), when, with what outcome.

Routes collect entries on an `AuditRecorder` while they work; the audit middleware writes them
once the response status is known, in a transaction of their own (so failed requests, whose
unit of work rolls back, are audited too). A use case that commits its own answer (`$submit`)
stages its entry in that same transaction instead (`stage_audit`) and marks it `stored` once the
commit went through, so the middleware skips it: one commit per request. Entries hold ids and
codes only, never PHI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.security import repository
from app.store.models import AuditRecord

log = logging.getLogger(__name__)

MAX_IDS_PER_ENTRY = 100


@dataclass(slots=True)
class AuditEntry:
    client_id: str
    operation: str
    resource_type: str | None
    resource_ids: list[str] = field(default_factory=list)
    stored: bool = False  # written in the use case's own committed transaction

    def add(self, *ids: object) -> None:
        """Add resource ids learnt after `record()` (e.g. the id of what was just created)."""
        room = MAX_IDS_PER_ENTRY - len(self.resource_ids)
        self.resource_ids.extend(str(i)[:128] for i in ids[: max(room, 0)])


@dataclass(slots=True)
class AuditRecorder:
    """Collects what one request did. `record()` before doing the work, so refusals are audited too."""

    client_id: str
    entries: list[AuditEntry] = field(default_factory=list)

    def record(self, operation: str, resource_type: str | None = None, ids: Iterable[object] = ()) -> AuditEntry:
        """Note one operation, e.g. `record("claim.submit", "Claim", [authorization.id])`.

        Resource ids are the service's own ids (never member ids, names or other PHI).
        """
        entry = AuditEntry(
            client_id=self.client_id[:128],
            operation=operation[:64],
            resource_type=resource_type[:64] if resource_type else None,
        )
        entry.add(*ids)
        self.entries.append(entry)
        return entry


def _rows(entries: Iterable[AuditEntry], outcome: int, request_id: str | None) -> list[AuditRecord]:
    now = datetime.now(UTC)
    return [
        AuditRecord(
            at=now,
            client_id=entry.client_id,
            operation=entry.operation,
            resource_type=entry.resource_type,
            resource_ids=list(entry.resource_ids),
            outcome=outcome,
            request_id=request_id,
        )
        for entry in entries
        if not entry.stored
    ]


def stage_audit(session: AsyncSession, entries: Iterable[AuditEntry], outcome: int, request_id: str | None) -> None:
    """Add the entries' rows to `session`'s transaction; mark them `stored` after it commits."""
    repository.add_audit_records(session, _rows(entries, outcome, request_id))


async def write_audit(
    sessions: async_sessionmaker[AsyncSession], entries: Iterable[AuditEntry], outcome: int, request_id: str | None
) -> None:
    """The entries not yet stored, in a transaction of their own."""
    rows = _rows(entries, outcome, request_id)
    if not rows:
        return
    async with sessions() as session:
        repository.add_audit_records(session, rows)
        await session.commit()


@dataclass(frozen=True, slots=True)
class AuditQuery:
    client_id: str | None = None
    operation: str | None = None
    since: datetime | None = None
    before_id: int | None = None  # the cursor: records older than this one
    limit: int = 100


async def find_audit(session: AsyncSession, query: AuditQuery) -> list[AuditRecord]:
    """Newest first. Pass the last returned id as `before_id` for the next page."""
    return await repository.find_audit_records(
        session,
        client_id=query.client_id,
        operation=query.operation,
        since=query.since,
        before_id=query.before_id,
        limit=query.limit,
    )


def next_audit_cursor(records: Sequence[AuditRecord], limit: int) -> str | None:
    """The `before_id` of the next page, or None when this page was the last (shorter than `limit`)."""
    return str(records[-1].id) if len(records) == limit else None
