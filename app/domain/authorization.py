"""The authorization aggregate: its items, status, clocks and version, and the events that change them.

Plain Python, no SQL and no FHIR. Every change to an authorization goes through one of the methods
below; each checks the transition against the written spec (`app.domain.transitions`), applies it,
bumps the version and returns a `Change`: the timeline entries and notifications it implies and
whether the approval's expiry moved. The services persist a `Change`; they never set a status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.domain.clocks import expiry
from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.lifecycle import Event, InvalidTransition, allows, roll_up
from app.domain.model import Coding, InformationRequest, ItemDecision, PayerReply, Period, ServiceItem

APPROVALS = frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.MODIFIED})


@dataclass(slots=True)
class Item:
    """One service line of an authorization, keyed by the request's item.sequence."""

    sequence: int
    service: Coding
    quantity: Any = None  # Decimal | None (kept as stored)
    serviced: Period | None = None
    cancelled: bool = False
    decision: ItemDecision | None = None
    units_used: Decimal = Decimal(0)  # units (or visits) used so far against the authorized quantity

    @classmethod
    def requested(cls, item: ServiceItem) -> Item:
        return cls(item.sequence, item.product_or_service, item.quantity, item.serviced, item.cancelled)

    @property
    def action(self) -> A:
        """The item's X12 306 action as it stands (A4 until decided, C once cancelled)."""
        if self.cancelled:
            return A.CANCELLED
        return self.decision.action if self.decision is not None else A.PENDED

    @property
    def finally_decided(self) -> bool:
        return self.decision is not None and self.decision.action.is_final

    def decide(self, decision: ItemDecision) -> None:
        """Apply a decision; a cancelled item stays cancelled whatever a payer says."""
        if self.cancelled:
            self.decision = ItemDecision(self.sequence, A.CANCELLED)
            return
        self.decision = decision
        if decision.action is A.CANCELLED:
            self.cancelled = True

    def cancel(self) -> None:
        self.cancelled = True
        self.decision = ItemDecision(self.sequence, A.CANCELLED)

    @property
    def authorized_period(self) -> Period | None:
        if self.cancelled or self.decision is None or self.decision.authorized_period is None:
            return None
        return self.decision.authorized_period


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    type: str
    at: datetime
    from_status: S | None = None
    to_status: S | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What one event did: for the timeline, the notifications and the clocks."""

    before: S
    after: S
    timeline: tuple[TimelineEntry, ...]
    notifications: tuple[str, ...] = ()  # event types (`authorization.<name>`)
    expiry_moved: bool = False  # plan the expiring / expired clock events again
    versioned: bool = True  # the version (and so the ETag) moved
    info_due_moved: bool = False  # plan the information request's due clock again

    @property
    def status_changed(self) -> bool:
        return self.before is not self.after


def notification_for(name: str) -> str:
    """The event type of a transition into a status, or of a clock event (`authorization.<name>`)."""
    return f"authorization.{name}"


def received_change(*, now: datetime, detail: dict[str, Any] | None = None) -> Change:
    """What receiving a new request records: the `received` entry and its notification."""
    entry = TimelineEntry("received", now, to_status=S.RECEIVED, detail=detail)
    return Change(S.RECEIVED, S.RECEIVED, (entry,), (notification_for(S.RECEIVED.value),), versioned=False)


@dataclass(slots=True)
class Authorization:
    """One prior-auth request's state. Build it with `received` or from storage; change it by its methods."""

    status: S
    items: list[Item]
    received_at: datetime
    updated_at: datetime
    version: int = 1
    due_at: datetime | None = None
    decided_at: datetime | None = None
    expires_at: datetime | None = None
    payer_reference: str | None = None
    preauth_ref: str | None = None
    replaced: bool = False
    info_due_at: datetime | None = None  # an open information request's due time
    info_request: InformationRequest | None = None  # set by the answer that asked (not loaded from storage)

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def received(
        cls,
        items: Iterable[ServiceItem],
        *,
        now: datetime,
        due_at: datetime | None,
        earlier: Iterable[Item] = (),
        cancel_all: bool = False,
        payer_reference: str | None = None,
        preauth_ref: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> tuple[Authorization, Change]:
        """A new request: its items, plus earlier items (with their decisions) an update did not mention."""
        submitted = {item.sequence: Item.requested(item) for item in items}
        kept = [
            Item(i.sequence, i.service, i.quantity, i.serviced, i.cancelled, i.decision)
            for i in earlier
            if i.sequence not in submitted
        ]
        authorization = cls(
            status=S.RECEIVED,
            items=sorted([*submitted.values(), *kept], key=lambda i: i.sequence),
            received_at=now,
            updated_at=now,
            due_at=due_at,
            payer_reference=payer_reference,
            preauth_ref=preauth_ref,
        )
        if cancel_all:
            for item in authorization.items:
                item.cancelled = True
        return authorization, received_change(now=now, detail=detail)

    # --- events -------------------------------------------------------------------------------

    def answer(
        self,
        decisions: Mapping[int, ItemDecision],
        *,
        now: datetime,
        timeline_type: str,
        approval_validity: timedelta,
        reply: PayerReply | None = None,
        keep_final: bool = False,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """The payer (or its published rules) decided items; `keep_final` keeps final decisions already made."""
        for item in self.items:
            decision = decisions.get(item.sequence)
            if item.cancelled:
                item.decide(ItemDecision(item.sequence, A.CANCELLED))
            elif decision is not None and not (keep_final and item.finally_decided):
                item.decide(decision)
        if reply is not None:
            self.payer_reference = reply.payer_reference or self.payer_reference
            self.preauth_ref = reply.preauth_ref or self.preauth_ref
        information = reply.information_request if reply is not None else None
        return self._settle(Event.ANSWERED, now, timeline_type, approval_validity, detail, information)

    def reject(self, *, now: datetime, detail: dict[str, Any] | None = None) -> Change:
        """The payer refused the request itself: status error."""
        before = self._check(Event.REJECTED, S.ERROR)
        self.status = S.ERROR
        self._stamp(now)
        entry = TimelineEntry("payer-rejected", now, before, S.ERROR, detail)
        return Change(before, S.ERROR, (entry,), (notification_for(S.ERROR.value),))

    def cancel(self, *, now: datetime, reply: PayerReply | None = None, detail: dict[str, Any] | None = None) -> Change:
        """Withdrawn by the practice or operations: every item cancelled (whatever the payer answers)."""
        self._check(Event.CANCELLED, S.CANCELLED)
        for item in self.items:
            item.cancel()
        if reply is not None:
            self.payer_reference = reply.payer_reference or self.payer_reference
            self.preauth_ref = reply.preauth_ref or self.preauth_ref
        return self._settle(Event.CANCELLED, now, "cancelled", timedelta(0), detail)

    def expire(self, *, now: datetime) -> Change:
        before = self._check(Event.EXPIRED, S.EXPIRED)
        self.status = S.EXPIRED
        self._stamp(now)
        entry = TimelineEntry("expired", now, before, S.EXPIRED)
        return Change(before, S.EXPIRED, (entry,), (notification_for(S.EXPIRED.value),))

    def can(self, event: Event, target: S) -> bool:
        return not self.replaced and allows(self.status, event, target)

    def replace(self, *, now: datetime, by: str) -> Change:
        """A PASClaimUpdate or cancel-all superseded this version; the status stays."""
        before = self._check(Event.REPLACED, self.status)
        self.replaced = True
        self._stamp(now)
        entry = TimelineEntry("replaced", now, detail={"by": by})
        return Change(before, before, (entry,))

    def overdue(self, *, now: datetime) -> Change:
        """The decision is past its due time (a clock event; the status stays)."""
        self._stamp(now)
        due = self.due_at.isoformat() if self.due_at else None
        entry = TimelineEntry("overdue", now, detail={"due_at": due})
        return Change(self.status, self.status, (entry,), (notification_for("overdue"),))

    def expiring(self, *, now: datetime) -> Change:
        """The approval ends soon (a clock event ahead of expiry; the status stays, the version moves)."""
        self._stamp(now)
        expires = self.expires_at.isoformat() if self.expires_at else None
        entry = TimelineEntry("expiring", now, detail={"expires_at": expires})
        return Change(self.status, self.status, (entry,), (notification_for("expiring"),))

    def note(self, type_: str, *, now: datetime, detail: dict[str, Any] | None = None) -> Change:
        """A fact for the timeline that changes no state (e.g. the payer was told of a cancel)."""
        return Change(self.status, self.status, (TimelineEntry(type_, now, detail=detail),), versioned=False)

    # --- internals ----------------------------------------------------------------------------

    def _check(self, event: Event, target: S) -> S:
        if not allows(self.status, event, target):
            raise InvalidTransition(self.status, target)
        return self.status

    def _stamp(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1

    def _settle(
        self,
        event: Event,
        now: datetime,
        timeline_type: str,
        approval_validity: timedelta,
        detail: dict[str, Any] | None,
        information: InformationRequest | None = None,
    ) -> Change:
        before = self.status
        after = roll_up(item.action for item in self.items)
        after, info_due_moved = self._information(before, after, information)
        if after is not before:
            self._check(event, after)
        self.status = after
        if not after.is_open and self.decided_at is None:
            self.decided_at = now  # the decision time never moves (a later cancel or expiry keeps it)
        expiry_moved = False
        if after in APPROVALS:
            periods = [p for p in (i.authorized_period for i in self.items) if p is not None and p.end is not None]
            if not periods:
                start = self.received_at.date()
                periods = [Period(start, start + approval_validity)]
            expires_at = expiry(periods)
            if expires_at != self.expires_at:
                self.expires_at, expiry_moved = expires_at, True
        self._stamp(now)
        entry = TimelineEntry(timeline_type, now, before, after, detail)
        notifications = (notification_for(after.value),) if after is not before else ()
        asked = information if info_due_moved or after is not before else None  # a repeated request is no news
        entries = (entry, *self._information_entries(now, asked, after))
        return Change(before, after, entries, notifications, expiry_moved, info_due_moved=info_due_moved)

    def preauth_period(self) -> Period | None:
        """The span of what was authorized (for ClaimResponse.preAuthPeriod)."""
        periods = [p for p in (i.authorized_period for i in self.items) if p is not None and p.end is not None]
        if not periods:
            return None
        starts: list[date] = [p.start for p in periods if p.start is not None]
        ends: list[date] = [p.end for p in periods if p.end is not None]
        return Period(min(starts) if starts else None, max(ends) if ends else None)

    def decisions(self) -> dict[int, ItemDecision]:
        """Every item's decision as it stands: its own, else C for a cancelled item and A4 for an undecided one."""
        result: dict[int, ItemDecision] = {}
        for item in self.items:
            if item.decision is not None:
                result[item.sequence] = item.decision
            else:
                result[item.sequence] = ItemDecision(item.sequence, A.CANCELLED if item.cancelled else A.PENDED)
        return result

    # --- appeals ------------------------------------------------------------------------------

    def appeal(self, *, now: datetime, detail: dict[str, Any] | None = None) -> Change:
        """The practice appeals the payer's decision: `appeal-submitted`; the items keep their decisions."""
        before = self._check(Event.APPEALED, S.APPEAL_SUBMITTED)
        self.status = S.APPEAL_SUBMITTED
        self._stamp(now)
        entry = TimelineEntry("appeal-submitted", now, before, S.APPEAL_SUBMITTED, detail)
        return Change(before, S.APPEAL_SUBMITTED, (entry,), (notification_for(S.APPEAL_SUBMITTED.value),))

    def decide_appeal(
        self,
        *,
        approved: bool,
        now: datetime,
        approval_validity: timedelta,
        decisions: Mapping[int, ItemDecision] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """The payer's decision on appeal. Approved: the items take the decisions the payer gave, or, when it
        gave none (a decision that came by another channel), every item it had not certified in full becomes
        certified (A1); the approval gets its validity. Denied: the items keep their decisions."""
        target = S.APPEAL_APPROVED if approved else S.APPEAL_DENIED
        before = self._check(Event.APPEAL_DECIDED, target)
        expiry_moved = False
        if approved:
            for item in self.items:
                given = (decisions or {}).get(item.sequence)
                if item.cancelled or item.action is A.NO_ACTION_REQUIRED:
                    continue
                if given is not None:
                    item.decide(given)
                elif not decisions and item.action is not A.CERTIFIED:
                    number = item.decision.authorization_number if item.decision is not None else None
                    item.decide(
                        ItemDecision(item.sequence, A.CERTIFIED, authorization_number=number or self.preauth_ref)
                    )
            expiry_moved = self._approval_expiry(approval_validity, start=now.date())
        self.status = target
        self._stamp(now)
        entry = TimelineEntry(target.value, now, before, target, detail)
        return Change(before, target, (entry,), (notification_for(target.value),), expiry_moved)

    def peer_to_peer(self, held: bool, *, now: datetime, detail: dict[str, Any] | None = None) -> Change:
        """A peer-to-peer review was requested (or held): a timeline event and a notification, no status change."""
        name = "peer-to-peer-held" if held else "peer-to-peer-requested"
        self._stamp(now)
        entry = TimelineEntry(name, now, detail=detail)
        return Change(self.status, self.status, (entry,), (notification_for(name),))

    def appeal_overdue(self, *, now: datetime, due_at: datetime) -> Change:
        """The appeal's decision is past the payer's appeal deadline (a clock event; the status stays)."""
        self._stamp(now)
        entry = TimelineEntry("appeal-overdue", now, detail={"due_at": due_at.isoformat()})
        return Change(self.status, self.status, (entry,), (notification_for("appeal-overdue"),))

    def _approval_expiry(self, approval_validity: timedelta, *, start: date) -> bool:
        """The expiry of what is approved now (from `start` for `approval_validity` when no item has a period)."""
        periods = [p for p in (i.authorized_period for i in self.items) if p is not None and p.end is not None]
        if not periods:
            periods = [Period(start, start + approval_validity)]
        expires_at = expiry(periods)
        if expires_at == self.expires_at:
            return False
        self.expires_at = expires_at
        return True

    # --- units and visits used -------------------------------------------------------------------

    def use(
        self,
        sequence: int,
        units: Decimal,
        *,
        now: datetime,
        threshold: Decimal,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """Units (or visits) of an approved item were used: count them; `exhausting` fires once when the
        used share first reaches `threshold` (a fraction, e.g. 0.8), `exhausted` once when it reaches all.

        Use beyond the authorized quantity is recorded and flagged (`over`), never refused: the service
        was given. The status stays; the version moves (the item's count changed).
        """
        if self.replaced or not self.status.grants:
            raise UsageRefused(f"an authorization that is {self.status} takes no usage")
        item = next((i for i in self.items if i.sequence == sequence), None)
        if item is None or item.cancelled or item.decision is None or item.decision.action not in USABLE:
            raise UsageRefused(f"item {sequence} is not an authorized item of this authorization")
        authorized = authorized_units(item)
        if authorized is None or authorized <= 0:
            raise UsageRefused(f"item {sequence} has no authorized quantity to count against")
        before, after = item.units_used, item.units_used + units
        item.units_used = after
        self._stamp(now)
        counts = {
            "item": sequence,
            "units": str(units),
            "used": str(after),
            "authorized": str(authorized),
            "remaining": str(max(authorized - after, Decimal(0))),
            "over": after > authorized,
        }
        entries = [TimelineEntry("units-used", now, detail={**counts, **(detail or {})})]
        notifications: list[str] = []
        for name, level in (("exhausting", authorized * threshold), ("exhausted", authorized)):
            if before < level <= after:
                entries.append(TimelineEntry(name, now, detail=counts))
                notifications.append(notification_for(name))
        return Change(self.status, self.status, tuple(entries), tuple(notifications))

    # --- information requests (PAS 2.2.1 + CDex) ---------------------------------------------

    def _information(self, before: S, after: S, information: InformationRequest | None) -> tuple[S, bool]:
        """An answer that pends and asks for documents means info-requested; one that merely pends keeps an
        open request so. Any other answer settles the request. Returns the status and whether the due moved."""
        if after is S.PENDED and information is not None:
            moved = information.due_at != self.info_due_at or before is not S.INFO_REQUESTED
            self.info_due_at, self.info_request = information.due_at, information
            return S.INFO_REQUESTED, moved and information.due_at is not None
        if after is S.PENDED and before is S.INFO_REQUESTED:
            return S.INFO_REQUESTED, False
        if after is not S.INFO_REQUESTED:
            self.info_due_at = None
        return after, False

    @staticmethod
    def _information_entries(
        now: datetime, information: InformationRequest | None, after: S
    ) -> tuple[TimelineEntry, ...]:
        if information is None or after is not S.INFO_REQUESTED:
            return ()
        detail: dict[str, Any] = {
            "codes": [f"{c.system or ''}|{c.code}" for c in information.codes],
            "due_at": information.due_at.isoformat() if information.due_at else None,
        }
        if information.questionnaire:
            detail["questionnaire"] = information.questionnaire
        if information.text:
            detail["text"] = information.text
        return (TimelineEntry("info-requested", now, detail=detail),)

    def attach(self, count: int, *, now: datetime, detail: dict[str, Any] | None = None) -> Change:
        """The provider sent documents: an information request goes back to the payer's review (pended);
        documents sent while the payer reviews anyway are recorded, the status stays."""
        if self.status is S.INFO_REQUESTED:
            before = self._check(Event.ATTACHED, S.PENDED)
            self.status, self.info_due_at = S.PENDED, None
        elif self.status.is_open and not self.replaced:
            before = self.status
        else:
            raise InvalidTransition(self.status, S.PENDED)
        self._stamp(now)
        entry = TimelineEntry("attachments-received", now, before, self.status, {"count": count, **(detail or {})})
        notifications = (notification_for(self.status.value),) if self.status is not before else ()
        return Change(before, self.status, (entry,), notifications)

    def information_overdue(self, *, now: datetime) -> Change:
        """The documents the payer asked for are past their due time (a clock event; the status stays)."""
        self._stamp(now)
        due = self.info_due_at.isoformat() if self.info_due_at else None
        entry = TimelineEntry("info-overdue", now, detail={"due_at": due})
        return Change(self.status, self.status, (entry,), (notification_for("info-overdue"),))


APPEALABLE = frozenset({S.DENIED, S.PARTIALLY_APPROVED, S.MODIFIED})
"""Statuses an appeal may be lodged from (the spec's `appealed` rows)."""
PEER_TO_PEER = APPEALABLE | {S.APPEAL_SUBMITTED}
"""Statuses in which a peer-to-peer review is recorded (before an appeal, or during one)."""


USABLE = frozenset({A.CERTIFIED, A.PARTIAL, A.MODIFIED})


class UsageRefused(ValueError):
    """Usage the authorization cannot take (not approved, replaced, an item without authorized units)."""


def authorized_units(item: Item) -> Decimal | None:
    """What an item's use counts against: the decision's authorized quantity, else the requested one."""
    if item.decision is not None and item.decision.authorized_quantity is not None:
        return Decimal(item.decision.authorized_quantity)
    return Decimal(item.quantity) if item.quantity is not None else None
