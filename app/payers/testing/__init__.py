"""The contract kit: tests any adapter package runs against its own adapter.

    from app.payers.testing import AdapterContractSuite, ContractHarness, Decide, Fail

    class MyHarness:                      # puts your adapter in each situation the kit needs
        def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None: ...

    class TestMyAdapterContract(AdapterContractSuite):
        @pytest.fixture
        def harness(self) -> ContractHarness:
            return MyHarness()

`make_adapter` returns an adapter whose payer answers as scripted: `Decide(decisions,
on_inquire=...)` or `Fail(kind)`; return None when your payer cannot be put in that
situation (the test is skipped). Use `httpx.MockTransport` or respx for HTTP payers.

The kit needs pytest>=8.2 and pytest-asyncio>=0.24 (declare them as your package's `test`
extra, as examples/payer-adapter does) and these pytest settings, which run every async
test on its own loop and raise no deprecation warning:

    [tool.pytest.ini_options]
    asyncio_mode = "auto"
    asyncio_default_fixture_loop_scope = "function"
    asyncio_default_test_loop_scope = "function"

Checked: conformance to `PayerAdapter` and the contract version; decisions round-trip (action, reasons, authorized
quantity, authorization number) on submit and inquire; every fault is a `PayerError` of
the right kind and no other exception (httpx included) escapes; cancel is idempotent; documents
the provider sends reach the payer, by the optional `submit_attachment` when the adapter has it,
else by `inquire` (with `PayerReference.attachments`), and the payer's answer comes back.

Appeals (the optional `appeal` / `appeal_status` of `app.payers.appeals`): give the harness a
`make_appealing_adapter(script: AppealScript) -> PayerAdapter | None` (the `AppealHarness` Protocol)
and the kit checks that the adapter has both methods, that an approved or denied appeal comes back so,
that a pended one is followed up by `appeal_status` to its outcome, that sending the same appeal twice
gives the same answer, and that a payer fault on an appeal is a `PayerError`. Without the method (an
adapter whose payer takes appeals by another channel) those tests are skipped.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

import orjson
import pytest

from app.payers.contract import receives_attachments
from app.payers.sdk import (
    CONTRACT_VERSION,
    AppealingAdapter,
    AppealOutcome,
    AppealReference,
    AppealReply,
    Attachment,
    Coding,
    Identifier,
    ItemDecision,
    PayerAdapter,
    PayerAppeal,
    PayerError,
    PayerProtocolError,
    PayerReference,
    PayerRejected,
    PayerReply,
    PayerSubmission,
    PayerTimeout,
    PayerUnavailable,
    PriorAuthRequest,
    ReviewAction,
    ServiceItem,
    supports_appeals,
)

__all__ = [
    "FAULT_ERRORS",
    "ROUND_TRIPS",
    "AdapterContractSuite",
    "AppealHarness",
    "AppealScript",
    "ContractHarness",
    "Decide",
    "Fail",
    "FaultKind",
    "assert_decisions",
    "sample_bundle",
    "sample_request",
]

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
FaultKind = Literal["unavailable", "timeout", "reject", "garbage"]
FAULT_ERRORS: dict[FaultKind, type[PayerError]] = {
    "unavailable": PayerUnavailable,
    "timeout": PayerTimeout,
    "reject": PayerRejected,
    "garbage": PayerProtocolError,
}


@dataclass(frozen=True, slots=True)
class Decide:
    """The payer decides `decisions` on submit, and `on_inquire` (default: the same) on inquire."""

    decisions: tuple[ItemDecision, ...]
    on_inquire: tuple[ItemDecision, ...] | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    """The payer fails: unreachable, too slow, rejects with an OperationOutcome, or answers garbage."""

    kind: FaultKind


class ContractHarness(Protocol):
    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None: ...


@dataclass(frozen=True, slots=True)
class AppealScript:
    """The payer answers an appeal with `outcome` (approved or denied), first pended when `pended_first`
    (then `appeal_status` brings the outcome), or fails with `fault`."""

    outcome: Literal["approved", "denied"] = "approved"
    pended_first: bool = False
    fault: FaultKind | None = None


class AppealHarness(Protocol):
    """The optional harness method for adapters that send appeals."""

    def make_appealing_adapter(self, script: AppealScript) -> PayerAdapter | None: ...


def sample_request() -> PriorAuthRequest:
    """A three-item request (codes E0100, E0200, E0300) the kit submits."""
    items = tuple(
        ServiceItem(sequence=n, product_or_service=Coding(HCPCS, f"E0{n}00"), quantity=Decimal(4)) for n in (1, 2, 3)
    )
    return PriorAuthRequest(
        bundle_identifier=Identifier("urn:epa-hub:contract-kit", "bundle-1"),
        claim_identifiers=(Identifier("urn:epa-hub:contract-kit", "claim-1"),),
        insurer=(Identifier("http://hl7.org/fhir/sid/us-npi", "1234567893"),),
        payor=(),
        provider=(Identifier("http://hl7.org/fhir/sid/us-npi", "1234567890"),),
        member_id=Identifier(None, "KIT-MEMBER-1"),
        patient_identifiers=(),
        created=datetime(2025, 1, 6, 12, 0, tzinfo=UTC),
        items=items,
    )


def sample_bundle(request: PriorAuthRequest) -> bytes:
    """A minimal PAS-shaped request Bundle for `request` (enough for adapters that forward FHIR)."""
    claim = {
        "resourceType": "Claim",
        "identifier": [{"system": i.system, "value": i.value} for i in request.claim_identifiers],
        "status": "active",
        "use": "preauthorization",
        "item": [
            {
                "sequence": i.sequence,
                "productOrService": {
                    "coding": [{"system": i.product_or_service.system, "code": i.product_or_service.code}]
                },
                "quantity": {"value": float(i.quantity or 1)},
            }
            for i in request.items
        ],
    }
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": request.bundle_identifier.system, "value": request.bundle_identifier.value},
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:claim-1", "resource": claim}],
    }
    return orjson.dumps(bundle)


def _seq(sequence: int, action: ReviewAction, **kwargs: Any) -> ItemDecision:
    return ItemDecision(sequence=sequence, action=action, **kwargs)


DENIAL = Coding("urn:epa-hub:contract-kit", "not-covered", "Not covered")
ROUND_TRIPS: dict[str, Decide] = {
    "all-approved": Decide(tuple(_seq(n, ReviewAction.CERTIFIED, authorization_number=f"AUTH-{n}") for n in (1, 2, 3))),
    "mixed": Decide(
        (
            _seq(1, ReviewAction.CERTIFIED, authorization_number="AUTH-1"),
            _seq(2, ReviewAction.NOT_CERTIFIED, reason_codes=(DENIAL,)),
            _seq(3, ReviewAction.MODIFIED, authorization_number="AUTH-3", authorized_quantity=Decimal(2)),
        )
    ),
    "no-auth-required": Decide(tuple(_seq(n, ReviewAction.NO_ACTION_REQUIRED) for n in (1, 2, 3))),
    "pended-then-approved": Decide(
        tuple(_seq(n, ReviewAction.PENDED) for n in (1, 2, 3)),
        on_inquire=tuple(_seq(n, ReviewAction.CERTIFIED, authorization_number=f"AUTH-{n}") for n in (1, 2, 3)),
    ),
}


def assert_decisions(reply: PayerReply, expected: Sequence[ItemDecision]) -> None:
    """The reply carries each expected decision (action, reasons, quantity, an authorization number)."""
    assert isinstance(reply, PayerReply), f"adapters return PayerReply, not {type(reply).__name__}"
    for want in expected:
        got = reply.decision_for(want.sequence)
        assert got is not None, f"no decision for item {want.sequence}"
        assert got.action is want.action, f"item {want.sequence}: {got.action} instead of {want.action}"
        wanted_codes = {c.code for c in want.reason_codes}
        assert wanted_codes <= {c.code for c in got.reason_codes}, f"item {want.sequence}: reason codes lost"
        if want.authorized_quantity is not None:
            assert got.authorized_quantity == want.authorized_quantity, f"item {want.sequence}: quantity"
        if want.authorization_number is not None:
            assert got.authorization_number, f"item {want.sequence}: authorization number lost"


async def _only_payer_errors(call: Callable[[], Awaitable[object]], expected: type[PayerError]) -> PayerError:
    raised: PayerError | None = None
    try:
        await call()
    except PayerError as exc:
        raised = exc
    except Exception as exc:  # the point of the kit: nothing else may escape
        pytest.fail(f"{type(exc).__module__}.{type(exc).__name__} escaped the adapter: {exc}")
    if raised is None:
        pytest.fail(f"no error raised where {expected.__name__} was due")
    if not isinstance(raised, expected):
        pytest.fail(f"{type(raised).__name__} raised where {expected.__name__} was due")
    return raised


def _describe(script: Decide | Fail) -> str:
    if isinstance(script, Fail):
        return f"fail ({script.kind})"
    actions = ", ".join(d.action.value for d in script.decisions)
    then = f", then {', '.join(d.action.value for d in script.on_inquire)}" if script.on_inquire else ""
    return f"decide {actions}{then}"


def _appeal(submission: PayerSubmission, appeal_id: str = "kit-appeal-1") -> PayerAppeal:
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
        appeal = _appeal(submission)
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
        first = await adapter.appeal(_appeal(submission))
        again = await adapter.appeal(_appeal(submission))
        assert (first.outcome, first.payer_reference) == (again.outcome, again.payer_reference)

    @pytest.mark.parametrize("kind", sorted(FAULT_ERRORS))
    async def test_appeal_faults_are_payer_errors(
        self, harness: object, submission: PayerSubmission, kind: FaultKind
    ) -> None:
        adapter = self._appealing(harness, AppealScript(fault=kind))
        await _only_payer_errors(lambda: adapter.appeal(_appeal(submission)), FAULT_ERRORS[kind])


class AdapterContractSuite(AppealContractSuite):
    """Subclass as `Test...` and provide a `harness` fixture."""

    @pytest.fixture
    def submission(self) -> PayerSubmission:
        request = sample_request()
        return PayerSubmission(authorization_id="kit-auth-1", request=request, bundle=sample_bundle(request))

    def _adapter(self, harness: ContractHarness, script: Decide | Fail) -> PayerAdapter:
        adapter = harness.make_adapter(script)
        if adapter is None:
            pytest.skip(f"the adapter cannot be scripted to {_describe(script)}")
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
        error = await _only_payer_errors(lambda: adapter.submit(submission), FAULT_ERRORS[kind])
        if isinstance(error, PayerRejected):
            assert error.issues, "a rejection carries the payer's issues"
        reference = PayerReference(submission.authorization_id, "kit-ref", submission.request, submission.bundle)
        await _only_payer_errors(lambda: adapter.inquire(reference), FAULT_ERRORS[kind])
        await adapter.aclose()

    async def test_cancel_is_idempotent(self, harness: ContractHarness, submission: PayerSubmission) -> None:
        cancelled = tuple(_seq(n, ReviewAction.CANCELLED) for n in (1, 2, 3))
        adapter = self._adapter(harness, Decide(cancelled))
        reference = PayerReference(submission.authorization_id, "kit-ref", submission.request, submission.bundle)
        first = await adapter.cancel(reference)
        second = await adapter.cancel(reference)
        assert_decisions(first, cancelled)
        assert first.decisions == second.decisions
        await adapter.aclose()

    async def test_attachments_reach_the_payer(self, harness: ContractHarness, submission: PayerSubmission) -> None:
        """Pended, then documents: `submit_attachment` (optional) or `inquire` carries them; the answer returns."""
        pended = tuple(_seq(n, ReviewAction.PENDED) for n in (1, 2, 3))
        approved = tuple(_seq(n, ReviewAction.CERTIFIED, authorization_number="AUTH-1") for n in (1, 2, 3))
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
