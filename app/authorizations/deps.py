"""What a use case is given: the few parts of the running service it uses, as Protocols.

Services and job handlers never import `app.runtime`: each declares the narrowest of these it
needs (`FollowUpDeps` sees the payers and settings, not the database engine; a CRD answer sees the
rules and sessions, not the payers' HTTP client). The `Runtime` the lifespan builds satisfies all
of them structurally, and a test may pass anything that does.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.coverage.book import RulesHolder
from app.coverage.programs import ProgramRegistry
from app.payers import PayerRegistry
from app.payers.contract import Clock
from app.settings import Settings


class Sessions(Protocol):
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...


class Database(Sessions, Protocol):
    @property
    def engine(self) -> AsyncEngine: ...  # SQLite's writer turn is per engine


class Clocked(Protocol):
    @property
    def clock(self) -> Clock: ...


class PayerAccess(Protocol):
    @property
    def payers(self) -> PayerRegistry: ...

    @property
    def settings(self) -> Settings: ...


class RulesInForce(Protocol):
    @property
    def payers(self) -> PayerRegistry: ...  # which payer's rules apply

    @property
    def coverage(self) -> RulesHolder: ...

    @property
    def programs(self) -> ProgramRegistry: ...


class FollowUpDeps(PayerAccess, Protocol):
    """A follow-up job: asks the payer, records in the job's own session."""


class LookupDeps(PayerAccess, Sessions, Protocol):
    """Reads and `$inquire`."""


class PayerCallDeps(PayerAccess, Sessions, Clocked, Protocol):
    """Use cases that store, call a payer outside the transaction and record (cancel, appeals)."""


class AttachmentDeps(PayerCallDeps, Database, Protocol):
    """Attachments: stored and forwarded, on SQLite in the writer's turn."""


class RequirementsDeps(RulesInForce, Sessions, Clocked, Protocol):
    """Coverage requirements answers: CRD hooks and `Claim/$validate`."""


class SubmitDeps(RequirementsDeps, AttachmentDeps, Protocol):
    """`Claim/$submit`: rules, storage, the payer, the clock (it is the whole hot path)."""
