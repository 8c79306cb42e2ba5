"""The sandbox payer: an in-process payer for development, demos and conformance testing.

Decisions come from rules (`app.payers.sandbox.rules`); a pend is either decided after a
delay (computed from the clock and the schedule encoded in the payer reference) or held
until an operator releases it (`release_pended`). `inquire` re-evaluates the current rules,
so an operator can change what an identical Bundle gets without restarting anything.

A `request-info` outcome pends the item and asks for documents (due `info_due_days` after the
submit); once documents arrive (`submit_attachment`, or an inquiry that carries them) the item
gets the rule's `then` (approve when not given).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.codes import ReviewAction
from app.domain.model import Coding, InformationRequest, ItemDecision, PayerReply, PriorAuthRequest
from app.payers.appeals import AppealReference, AppealReply, PayerAppeal
from app.payers.config import PayerConfigError
from app.payers.contract import CONTRACT_VERSION, AdapterContext, Clock, PayerReference, PayerSubmission
from app.payers.errors import PayerRejected
from app.payers.sandbox.appeals import (
    AppealRule,
    answer,
    appeal_rule_for,
    decide_at_of,
    encode_reference,
    is_appeal_reference,
)
from app.payers.sandbox.decisions import certifies, decide_item, fault
from app.payers.sandbox.reference import SandboxReference, request_hash
from app.payers.sandbox.rules import FAULTS, Outcome, SandboxRules
from app.payers.sandbox.source import RulesFileError, RulesSource, default_rules

logger = logging.getLogger(__name__)


class SandboxSettings(BaseModel):
    """`[payer.settings]` of a sandbox payer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules_file: Path | None = None  # None (and no inline rules): the shipped default rules
    rules: SandboxRules | None = None  # inline rules, used instead of a file
    validity_days: int = Field(default=90, gt=0)  # authorized period of an approval
    hold_retry_seconds: float = Field(default=300, gt=0)  # retry_after of a pend awaiting release


class SandboxAdapter:
    """A scripted payer. Holds no state another process needs."""

    contract_version = CONTRACT_VERSION  # built in-tree, so always the hub's own
    answers_in_process = True  # decides from its rules, no I/O: its answer is recorded with the request

    def __init__(self, payer_id: str, rules: RulesSource, settings: SandboxSettings, clock: Clock) -> None:
        self._payer_id = payer_id
        self._rules = rules
        self._settings = settings
        self._clock = clock

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        now = self._clock()
        rules = self._rules.current()
        outcomes = self._raise_faults(rules, submission.request)
        pended = [o for item, o in outcomes if o.outcome == "pend" and not item.cancelled]
        held = any(o.after_seconds is None for o in pended)
        decide_at = None
        if pended and not held:
            decide_at = now + timedelta(seconds=max(o.after_seconds or 0 for o in pended))
        reference = SandboxReference(request_hash(submission.authorization_id), now, decide_at, held and bool(pended))
        if submission.attachments:  # an update that carries the documents asked for
            outcomes = [(i, o.later if o.outcome == "request-info" else o) for i, o in outcomes]
        reply = self._reply(submission.request, reference, outcomes, now)
        logger.info("sandbox submit", extra={"payer_id": self._payer_id, "payer_reference": reply.payer_reference})
        return reply

    async def inquire(self, reference: PayerReference) -> PayerReply:
        if reference.payer_reference is None:  # the submit never reached us: answer as a submit
            return await self.submit(PayerSubmission(reference.authorization_id, reference.request, reference.bundle))
        now = self._clock()
        rules = self._rules.current()
        item_outcomes = self._raise_faults(rules, reference.request)  # a payer that is down cannot look anything up
        ref = self._decode(reference.payer_reference)
        released = rules.release.get(reference.payer_reference)
        due = ref.decide_at is not None and now >= ref.decide_at
        outcomes = []
        for item, outcome in item_outcomes:
            if outcome.outcome == "pend" and released is not None:
                outcome = released
            elif (outcome.outcome == "pend" and due) or (outcome.outcome == "request-info" and reference.attachments):
                outcome = outcome.later
            outcomes.append((item, outcome))
        for _, outcome in outcomes:
            if (error := fault(outcome)) is not None:
                raise error
        return self._reply(reference.request, ref, outcomes, now)

    async def cancel(self, reference: PayerReference) -> PayerReply:
        decisions = tuple(
            ItemDecision(sequence=i.sequence, action=ReviewAction.CANCELLED) for i in reference.request.items
        )
        return PayerReply(
            decisions=decisions,
            payer_reference=reference.payer_reference,
            disposition="Cancelled",
            raw={"sandbox": "cancel", "payer_reference": reference.payer_reference},
        )

    async def submit_attachment(self, reference: PayerReference) -> PayerReply:
        """Documents for a request: a `request-info` item is decided as its rule's `then` says."""
        return await self.inquire(reference)

    async def aclose(self) -> None:
        return None

    async def appeal(self, appeal: PayerAppeal) -> AppealReply:
        """Decide an appeal by the appeal rules: at once, or pended until `after_seconds` have passed."""
        now = self._clock()
        rules = self._rules.current()
        rule = appeal_rule_for(rules.appeal, rules.appeal_default, appeal.request, appeal.reason, appeal.expedited)
        self._raise_appeal_fault(rule)
        if rule.outcome == "pend":
            decide_at = now + timedelta(seconds=rule.after_seconds)
            reference = encode_reference(appeal.appeal_id, decide_at)
            retry = max(decide_at - now, timedelta(seconds=1))
            return self._appeal_answer(rule, appeal.request, appeal.authorization_id, reference, "pend", now, retry)
        reference = encode_reference(appeal.appeal_id, None)
        return self._appeal_answer(rule, appeal.request, appeal.authorization_id, reference, rule.outcome, now)

    async def appeal_status(self, reference: AppealReference) -> AppealReply:
        if reference.appeal_reference is None:  # the appeal never reached us: answer as an appeal
            return await self.appeal(
                PayerAppeal(
                    reference.authorization_id,
                    reference.appeal_id,
                    None,
                    reference.request,
                    b"",
                    reference.reason,
                    reference.expedited,
                )
            )
        if not is_appeal_reference(reference.appeal_reference):
            raise PayerRejected(f"unknown appeal reference {reference.appeal_reference!r}", status_code=404)
        now = self._clock()
        rules = self._rules.current()
        rule = appeal_rule_for(
            rules.appeal, rules.appeal_default, reference.request, reference.reason, reference.expedited
        )
        decide_at = decide_at_of(reference.appeal_reference)
        args = (rule, reference.request, reference.authorization_id, reference.appeal_reference)
        if rule.outcome != "pend":
            return self._appeal_answer(*args, rule.outcome, now)
        if decide_at is None or now >= decide_at:
            return self._appeal_answer(*args, rule.then, now)
        return self._appeal_answer(*args, "pend", now, max(decide_at - now, timedelta(seconds=1)))

    @staticmethod
    def _raise_appeal_fault(rule: AppealRule) -> None:
        if rule.outcome in FAULTS:
            error = fault(
                Outcome(
                    outcome=rule.outcome, reason_text=rule.reason_text, retry_after_seconds=rule.retry_after_seconds
                )
            )
            if error is not None:
                raise error

    def _appeal_answer(
        self,
        rule: Any,
        request: PriorAuthRequest,
        authorization_id: str,
        reference: str,
        outcome: Any,
        now: datetime,
        retry_after: timedelta | None = None,
    ) -> AppealReply:
        reply = answer(
            rule,
            request=request,
            authorization_id=authorization_id,
            reference=reference,
            outcome=outcome,
            now=now,
            validity_days=self._settings.validity_days,
            retry_after=retry_after,
        )
        logger.info(
            "sandbox appeal",
            extra={"payer_id": self._payer_id, "payer_reference": reference, "outcome": reply.outcome.value},
        )
        return reply

    def _decode(self, text: str) -> SandboxReference:
        ref = SandboxReference.decode(text)
        if ref is None:
            raise PayerRejected(f"unknown payer reference {text!r}", status_code=404)
        return ref

    @staticmethod
    def _raise_faults(rules: SandboxRules, request: PriorAuthRequest) -> list[tuple[Any, Outcome]]:
        outcomes = list(rules.outcomes(request))
        for item, outcome in outcomes:
            if not item.cancelled and (error := fault(outcome)) is not None:
                raise error
        return outcomes

    def _reply(
        self, request: PriorAuthRequest, ref: SandboxReference, outcomes: list[tuple[Any, Outcome]], now: datetime
    ) -> PayerReply:
        number = ref.authorization_number
        decisions = tuple(
            decide_item(
                item, o, today=now.date(), validity_days=self._settings.validity_days, authorization_number=number
            )
            for item, o in outcomes
        )
        retry_after = None
        if any(d.action is ReviewAction.PENDED for d in decisions):
            if ref.decide_at is not None and ref.decide_at > now:
                retry_after = ref.decide_at - now
            else:
                retry_after = timedelta(seconds=self._settings.hold_retry_seconds)
        certified = any(certifies(d) for d in decisions)
        raw = {
            "sandbox": True,
            "payer_reference": ref.encode(),
            "decisions": {str(d.sequence): d.action.value for d in decisions},
        }
        return PayerReply(
            decisions=decisions,
            payer_reference=ref.encode(),
            preauth_ref=number if certified else None,
            retry_after=retry_after,
            disposition="Pended" if retry_after is not None else "Decided by sandbox rules",
            raw=raw,
            information_request=self._information_request(ref, outcomes),
        )

    @staticmethod
    def _information_request(ref: SandboxReference, outcomes: list[tuple[Any, Outcome]]) -> InformationRequest | None:
        asking = [o for item, o in outcomes if o.outcome == "request-info" and not item.cancelled]
        if not asking:
            return None
        codes = tuple(dict.fromkeys(Coding(o.info_system, code) for o in asking for code in o.info_codes))
        text = next((o.info_text for o in asking if o.info_text), None)
        due_at = ref.submitted_at + timedelta(days=min(o.info_due_days for o in asking))
        questionnaire = next((o.info_questionnaire for o in asking if o.info_questionnaire), None)
        return InformationRequest(codes=codes, text=text, due_at=due_at, questionnaire=questionnaire)


def create_adapter(settings: Mapping[str, Any], context: AdapterContext) -> SandboxAdapter:
    """Entry point `sandbox`: build a sandbox payer from its settings."""
    parsed = SandboxSettings.model_validate(settings)
    if parsed.rules is not None:
        source = RulesSource.fixed(parsed.rules)
    elif parsed.rules_file is not None:
        try:
            source = RulesSource.from_file(context.resolve(parsed.rules_file))
        except RulesFileError as exc:
            raise PayerConfigError(str(exc)) from None
    else:
        source = RulesSource.fixed(default_rules())
    return SandboxAdapter(context.payer_id, source, parsed, context.clock)
