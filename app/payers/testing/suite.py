"""`AdapterContractSuite`, what an adapter package subclasses as `Test...`: conformance to the
contract, decisions round-tripped on submit and inquire, faults that are `PayerError`s and
nothing else, an idempotent cancel, and documents that reach the payer (plus the appeal suite)."""

from __future__ import annotations

import hashlib
import inspect

import orjson
import pytest

from app.payers.contract import receives_attachments
from app.payers.sdk import (
    CONTRACT_VERSION,
    Attachment,
    PayerAdapter,
    PayerReference,
    PayerRejected,
    PayerReply,
    PayerSubmission,
    ReviewAction,
)
from app.payers.testing.appeals import AppealContractSuite
from app.payers.testing.decisions import ROUND_TRIPS, assert_decisions, decision
from app.payers.testing.faults import FAULT_ERRORS, FaultKind, only_payer_errors
from app.payers.testing.samples import sample_bundle, sample_request
from app.payers.testing.scripting import ContractHarness, Decide, Fail, describe


class AdapterContractSuite(AppealContractSuite):
    """Subclass as `Test...` and provide a `harness` fixture."""

    @pytest.fixture
    def submission(self) -> PayerSubmission:
        request = sample_request()
        return PayerSubmission(authorization_id="kit-auth-1", request=request, bundle=sample_bundle(request))

    def _adapter(self, harness: ContractHarness, script: Decide | Fail) -> PayerAdapter:
        adapter = harness.make_adapter(script)
        if adapter is None:
            pytest.skip(f"the adapter cannot be scripted to {describe(script)}")
        return adapter

    async def test_conforms_to_the_protocol(self, harness: ContractHarness) -> None:
        adapter = self._adapter(harness, ROUND_TRIPS["all-approved"])
        assert isinstance(adapter, PayerAdapter)
        assert adapter.contract_version == CONTRACT_VERSION, (
            f"the adapter was built for contract {adapter.contract_version}, this hub speaks {CONTRACT_VERSION}"
        )
        for name in ("submit", "inquire", "cancel", "aclose"):
            assert inspect.iscoroutinefunction(getattr(adapter, name)), f"{name} must be async"
        await adapter.aclose()

    @pytest.mark.parametrize("case", sorted(ROUND_TRIPS))
    async def test_decisions_round_trip(self, harness: ContractHarness, submission: PayerSubmission, case: str) -> None:
        script = ROUND_TRIPS[case]
        adapter = self._adapter(harness, script)
        reply = await adapter.submit(submission)
        assert_decisions(reply, script.decisions)
        reference = PayerReference(
            submission.authorization_id, reply.payer_reference, submission.request, submission.bundle
        )
        again = await adapter.inquire(reference)
        assert_decisions(again, script.on_inquire or script.decisions)
        await adapter.aclose()

    @pytest.mark.parametrize("kind", sorted(FAULT_ERRORS))
    async def test_faults_are_payer_errors(
        self, harness: ContractHarness, submission: PayerSubmission, kind: FaultKind
    ) -> None:
        adapter = self._adapter(harness, Fail(kind))
        error = await only_payer_errors(lambda: adapter.submit(submission), FAULT_ERRORS[kind])
        if isinstance(error, PayerRejected):
            assert error.issues, "a rejection carries the payer's issues"
        reference = PayerReference(submission.authorization_id, "kit-ref", submission.request, submission.bundle)
        await only_payer_errors(lambda: adapter.inquire(reference), FAULT_ERRORS[kind])
        await adapter.aclose()

    async def test_cancel_is_idempotent(self, harness: ContractHarness, submission: PayerSubmission) -> None:
        cancelled = tuple(decision(n, ReviewAction.CANCELLED) for n in (1, 2, 3))
        adapter = self._adapter(harness, Decide(cancelled))
        reference = PayerReference(submission.authorization_id, "kit-ref", submission.request, submission.bundle)
        first = await adapter.cancel(reference)
        second = await adapter.cancel(reference)
        assert_decisions(first, cancelled)
        assert first.decisions == second.decisions
        await adapter.aclose()

    async def test_attachments_reach_the_payer(self, harness: ContractHarness, submission: PayerSubmission) -> None:
        """Pended, then documents: `submit_attachment` (optional) or `inquire` carries them; the answer returns."""
        pended = tuple(decision(n, ReviewAction.PENDED) for n in (1, 2, 3))
        approved = tuple(decision(n, ReviewAction.CERTIFIED, authorization_number="AUTH-1") for n in (1, 2, 3))
        adapter = self._adapter(harness, Decide(pended, on_inquire=approved))
        reply = await adapter.submit(submission)
        assert_decisions(reply, pended)
        content = orjson.dumps({"resourceType": "DocumentReference", "status": "current", "content": []})
        document = Attachment("DocumentReference", content, hashlib.sha256(content).hexdigest())
        reference = PayerReference(
            submission.authorization_id,
            reply.payer_reference,
            submission.request,
            submission.bundle,
            attachments=(document,),
        )
        if receives_attachments(adapter):
            send = adapter.submit_attachment  # type: ignore[attr-defined]
            assert inspect.iscoroutinefunction(send), "submit_attachment must be async"
            answer = await send(reference)
        else:
            answer = await adapter.inquire(reference)
        assert isinstance(answer, PayerReply)
        assert_decisions(answer, approved)
        await adapter.aclose()
