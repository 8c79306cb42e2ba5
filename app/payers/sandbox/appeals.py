"""The sandbox's appeal rules and answers: which appeal is approved, denied or pended, and when.

In the rules file (first matching rule wins; every given condition must hold):

    appeal_default = "approve"          # outcome of an appeal no rule matches

    [[appeal]]
    reason_contains = ["upheld"]        # a keyword of the appeal's reason (case-insensitive)
    member = ["SBX-DENY"]               # Coverage member id(s)
    expedited = true                    # only expedited (or only standard) appeals
    outcome = "deny"                    # approve | deny | pend (or unavailable | timeout | reject: a fault)
    after_seconds = 120                 # pend: decided after this long (then = approve | deny)
    then = "approve"
    peer_to_peer = "requested"          # the payer asks for a peer-to-peer review (or "held")
    reason_text = "Sandbox: denial upheld"

The appeal's payer reference encodes when a pended appeal is decided, so no process keeps state:
`sbxa-<appeal hash>-<decide at, epoch s | "final">`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain.codes import ReviewAction
from app.domain.model import ItemDecision, Period, PriorAuthRequest
from app.payers.appeals import AppealOutcome, AppealReply, PeerToPeer

AppealOutcomeName = Literal["approve", "deny", "pend", "unavailable", "timeout", "reject"]
_PATTERN = re.compile(r"^sbxa-(?P<hash>[0-9a-f]{10})-(?P<decide>\d+|final)$")
_OUTCOMES = {"approve": AppealOutcome.APPROVED, "deny": AppealOutcome.DENIED, "pend": AppealOutcome.PENDED}


def _as_tuple(value: Any) -> Any:
    return (str(value),) if isinstance(value, str | int) else value


class AppealRule(BaseModel):
    """An appeal outcome with conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member: tuple[str, ...] | None = None
    reason_contains: tuple[str, ...] | None = None
    expedited: bool | None = None
    outcome: AppealOutcomeName
    after_seconds: float = Field(default=120, ge=0)
    then: Literal["approve", "deny"] = "approve"
    peer_to_peer: Literal["requested", "held"] | None = None
    reason_text: str | None = None
    retry_after_seconds: float | None = Field(default=None, ge=0)  # faults: the payer's Retry-After

    @field_validator("member", "reason_contains", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_tuple(value)

    def applies(self, request: PriorAuthRequest, reason: str | None, expedited: bool) -> bool:
        if self.member is not None and (request.member_id is None or request.member_id.value not in self.member):
            return False
        if self.reason_contains is not None:
            text = (reason or "").casefold()
            if not any(word.casefold() in text for word in self.reason_contains):
                return False
        return self.expedited is None or self.expedited is expedited


def appeal_rule_for(
    rules: tuple[AppealRule, ...],
    default: AppealOutcomeName,
    request: PriorAuthRequest,
    reason: str | None,
    expedited: bool,
) -> AppealRule:
    for rule in rules:
        if rule.applies(request, reason, expedited):
            return rule
    return AppealRule(outcome=default)


def appeal_hash(appeal_id: str) -> str:
    return hashlib.sha256(appeal_id.encode()).hexdigest()[:10]


def encode_reference(appeal_id: str, decide_at: datetime | None) -> str:
    tail = "final" if decide_at is None else str(int(decide_at.timestamp()))
    return f"sbxa-{appeal_hash(appeal_id)}-{tail}"


def is_appeal_reference(reference: str) -> bool:
    return _PATTERN.match(reference) is not None


def decide_at_of(reference: str) -> datetime | None:
    """When a pended appeal is decided (None: it was decided at once, or the text is no sandbox reference)."""
    match = _PATTERN.match(reference)
    if match is None or match["decide"] == "final":
        return None
    return datetime.fromtimestamp(int(match["decide"]), UTC)


def answer(
    rule: AppealRule,
    *,
    request: PriorAuthRequest,
    authorization_id: str,
    reference: str,
    outcome: AppealOutcomeName,
    now: datetime,
    validity_days: int,
    retry_after: timedelta | None = None,
) -> AppealReply:
    """The sandbox's answer to an appeal with `outcome` (the rule's, or its `then` once a pend is due)."""
    decisions: tuple[ItemDecision, ...] = ()
    if outcome == "approve":
        number = f"SBX-{hashlib.sha256(authorization_id.encode()).hexdigest()[:10].upper()}"
        period = Period(now.date(), now.date() + timedelta(days=validity_days - 1))
        decisions = tuple(
            ItemDecision(item.sequence, ReviewAction.CERTIFIED, authorization_number=number, authorized_period=period)
            for item in request.items
            if not item.cancelled
        )
    return AppealReply(
        outcome=_OUTCOMES[outcome],
        decisions=decisions,
        payer_reference=reference,
        retry_after=retry_after,
        peer_to_peer=PeerToPeer(rule.peer_to_peer) if rule.peer_to_peer else None,
        reason_text=rule.reason_text if outcome != "approve" or rule.outcome == "approve" else None,
        raw={"sandbox": "appeal", "payer_reference": reference, "outcome": outcome},
    )
