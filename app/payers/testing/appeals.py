"""The appeal part of the contract (the optional `appeal` / `appeal_status` of `app.payers.appeals`):
outcomes come back, a pended appeal is followed up to its outcome, the same appeal twice gives the
same answer, and a payer fault is a `PayerError`. Skipped for an adapter that takes no appeals."""

from __future__ import annotations

import inspect
from typing import Literal

import pytest

from app.payers.sdk import (
    AppealingAdapter,
    AppealOutcome,
    AppealReference,
    AppealReply,
    PayerAppeal,
    PayerSubmission,
    ReviewAction,
    supports_appeals,
)
from app.payers.testing.faults import FAULT_ERRORS, FaultKind, only_payer_errors
from app.payers.testing.samples import sample_bundle, sample_request
from app.payers.testing.scripting import AppealScript


def appeal_of(submission: PayerSubmission, appeal_id: str = "kit-appeal-1") -> PayerAppeal:
    return PayerAppeal(
        submission.authorization_id,
        appeal_id,
        "kit-ref",
        submission.request,
        submission.bundle,
        "The service is medically necessary",
        False,
    )


class AppealContractSuite:
    """Mixed into `AdapterContractSuite`: the appeal part of the contract (skipped without it)."""

    @pytest.fixture
    def submission(self) -> PayerSubmission:
        request = sample_request()
        return PayerSubmission(authorization_id="kit-auth-1", request=request, bundle=sample_bundle(request))

    def _appealing(self, harness: object, script: AppealScript) -> AppealingAdapter:
        make = getattr(harness, "make_appealing_adapter", None)
        adapter = make(script) if make is not None else None
        if adapter is None:
            pytest.skip("the adapter takes no appeals, or cannot be scripted to answer this one")
        assert supports_appeals(adapter), "make_appealing_adapter returned an adapter without appeal/appeal_status"
        for name in ("appeal", "appeal_status"):
            assert inspect.iscoroutinefunction(getattr(adapter, name)), f"{name} must be async"
        assert isinstance(adapter, AppealingAdapter)
        return adapter

    @staticmethod
    async def _outcome(adapter: AppealingAdapter, appeal: PayerAppeal, reply: AppealReply) -> AppealReply:
        for _ in range(3):  # a pended appeal is followed up by appeal_status
            if reply.outcome is not AppealOutcome.PENDED:
                return reply
            assert reply.payer_reference, "a pended appeal carries the payer's reference for follow-ups"
            reference = AppealReference(
                appeal.authorization_id,
                appeal.appeal_id,
                reply.payer_reference,
                appeal.request,
                appeal.reason,
                appeal.expedited,
            )
            reply = await adapter.appeal_status(reference)
            assert isinstance(reply, AppealReply), f"appeal_status returns AppealReply, not {type(reply).__name__}"
        return reply

    @pytest.mark.parametrize("outcome", ["approved", "denied"])
    @pytest.mark.parametrize("pended_first", [False, True], ids=["at-once", "pended-first"])
    async def test_appeal_outcomes_come_back(
        self, harness: object, submission: PayerSubmission, outcome: Literal["approved", "denied"], pended_first: bool
    ) -> None:
        adapter = self._appealing(harness, AppealScript(outcome, pended_first))
        appeal = appeal_of(submission)
        first = await adapter.appeal(appeal)
        assert isinstance(first, AppealReply), f"appeal returns AppealReply, not {type(first).__name__}"
        if pended_first:
            assert first.outcome is AppealOutcome.PENDED
        final = await self._outcome(adapter, appeal, first)
        assert final.outcome.value == outcome
        sequences = {item.sequence for item in submission.request.items}
        assert {d.sequence for d in final.decisions} <= sequences, "decisions name the request's items"
        if outcome == "denied":
            assert not any(d.action is ReviewAction.CERTIFIED for d in final.decisions)

    async def test_sending_an_appeal_twice_gives_the_same_answer(
        self, harness: object, submission: PayerSubmission
    ) -> None:
        adapter = self._appealing(harness, AppealScript("approved"))
        first = await adapter.appeal(appeal_of(submission))
        again = await adapter.appeal(appeal_of(submission))
        assert (first.outcome, first.payer_reference) == (again.outcome, again.payer_reference)

    @pytest.mark.parametrize("kind", sorted(FAULT_ERRORS))
    async def test_appeal_faults_are_payer_errors(
        self, harness: object, submission: PayerSubmission, kind: FaultKind
    ) -> None:
        adapter = self._appealing(harness, AppealScript(fault=kind))
        await only_payer_errors(lambda: adapter.appeal(appeal_of(submission)), FAULT_ERRORS[kind])
