"""The authorization aggregate: its items, status, clocks and version, and the events that change them.

Plain Python, no SQL and no FHIR. Every change to an authorization goes through one of the methods
below; each checks the transition against the written spec (`app.domain.transitions`), applies it,
bumps the version and returns a `Change`: the timeline entries and notifications it implies and
whether the approval's expiry moved. The services persist a `Change`; they never set a status.

What the methods build on lives beside this module, and is importable from here as before:
`items` (Item, the units used of it, UsageRefused), `changes` (Change, TimelineEntry,
received_change), `clocks` (an approval's expiry and span) and `information` (the entry of a
payer's request for documents).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.domain.changes import Change, TimelineEntry, notification_for, received_change
from app.domain.clocks import approval_expiry, authorized_span
from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.information import information_entries
from app.domain.items import USABLE, Item, UsageRefused, authorized_periods, authorized_units, count_units, overturn
from app.domain.lifecycle import Event, InvalidTransition, allows, roll_up
from app.domain.model import InformationRequest, ItemDecision, PayerReply, Period, ServiceItem

__all__ = [
    "APPEALABLE",
    "APPROVALS",
    "PEER_TO_PEER",
    "USABLE",
    "Authorization",
    "Change",
    "Item",
    "TimelineEntry",
    "UsageRefused",
    "authorized_units",
    "notification_for",
    "received_change",
]

APPROVALS = frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.MODIFIED})


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
        due = self.due_at.isoformat() if self.due_at else None
        return self._notable("overdue", now, {"due_at": due})

    def expiring(self, *, now: datetime) -> Change:
        """The approval ends soon (a clock event ahead of expiry; the status stays, the version moves)."""
        expires = self.expires_at.isoformat() if self.expires_at else None
        return self._notable("expiring", now, {"expires_at": expires})

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

    def _notable(self, name: str, now: datetime, detail: dict[str, Any] | None) -> Change:
        """An event that keeps the status but moves the version and is notified (`authorization.<name>`)."""
        self._stamp(now)
        entry = TimelineEntry(name, now, detail=detail)
        return Change(self.status, self.status, (entry,), (notification_for(name),))

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
            expiry_moved = self._approval_expiry(approval_validity, start=self.received_at.date())
        self._stamp(now)
        entry = TimelineEntry(timeline_type, now, before, after, detail)
        notifications = (notification_for(after.value),) if after is not before else ()
        asked = information if info_due_moved or after is not before else None  # a repeated request is no news
        entries = (entry, *information_entries(now, asked, after))
        return Change(before, after, entries, notifications, expiry_moved, info_due_moved=info_due_moved)

    def preauth_period(self) -> Period | None:
        """The span of what was authorized (for ClaimResponse.preAuthPeriod)."""
        return authorized_span(authorized_periods(self.items))

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
            overturn(self.items, decisions, preauth_ref=self.preauth_ref)
            expiry_moved = self._approval_expiry(approval_validity, start=now.date())
        self.status = target
        self._stamp(now)
        entry = TimelineEntry(target.value, now, before, target, detail)
        return Change(before, target, (entry,), (notification_for(target.value),), expiry_moved)

    def peer_to_peer(self, held: bool, *, now: datetime, detail: dict[str, Any] | None = None) -> Change:
        """A peer-to-peer review was requested (or held): a timeline event and a notification, no status change."""
        return self._notable("peer-to-peer-held" if held else "peer-to-peer-requested", now, detail)

    def appeal_overdue(self, *, now: datetime, due_at: datetime) -> Change:
        """The appeal's decision is past the payer's appeal deadline (a clock event; the status stays)."""
        return self._notable("appeal-overdue", now, {"due_at": due_at.isoformat()})

    def _approval_expiry(self, approval_validity: timedelta, *, start: date) -> bool:
        """The expiry of what is approved now (from `start` for `approval_validity` when no item has a period)."""
        expires_at = approval_expiry(authorized_periods(self.items), start=start, validity=approval_validity)
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
        counts, crossed = count_units(self.items, sequence, units, threshold)
        self._stamp(now)
        entries = [TimelineEntry("units-used", now, detail={**counts, **(detail or {})})]
        entries += [TimelineEntry(name, now, detail=counts) for name in crossed]
        return Change(self.status, self.status, tuple(entries), tuple(notification_for(name) for name in crossed))

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
        due = self.info_due_at.isoformat() if self.info_due_at else None
        return self._notable("info-overdue", now, {"due_at": due})


APPEALABLE = frozenset({S.DENIED, S.PARTIALLY_APPROVED, S.MODIFIED})
"""Statuses an appeal may be lodged from (the spec's `appealed` rows)."""
PEER_TO_PEER = APPEALABLE | {S.APPEAL_SUBMITTED}
"""Statuses in which a peer-to-peer review is recorded (before an appeal, or during one)."""
