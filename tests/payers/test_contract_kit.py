"""Both built-in adapters pass the contract kit that third-party adapter authors run."""

from __future__ import annotations

import httpx
import orjson
import pytest

from app.domain.codes import ReviewAction
from app.domain.model import ItemDecision, PayerReply
from app.payers.contract import AdapterContext, PayerAdapter, PayerReference, PayerSubmission, receives_attachments
from app.payers.fhir_pas import create_adapter as fhir_pas_factory
from app.payers.sandbox import create_adapter as sandbox_factory
from app.payers.testing import AdapterContractSuite, AppealScript, ContractHarness, Decide, Fail, sample_request
from tests.payers.builders import Clock, RecordingSleep
from tests.payers.fhir_pas_support import settings
from tests.support.payer_answers import claim_response_bundle, operation_outcome

SANDBOX_OUTCOMES = {
    ReviewAction.CERTIFIED: "approve",
    ReviewAction.NOT_CERTIFIED: "deny",
    ReviewAction.MODIFIED: "modify",
    ReviewAction.NO_ACTION_REQUIRED: "not-required",
}
SANDBOX_FAULTS = {"unavailable": "unavailable", "timeout": "timeout", "reject": "reject"}


def _sandbox_rule(code: str, decision: ItemDecision, later: ItemDecision | None) -> dict[str, object]:
    if decision.action is ReviewAction.PENDED:
        then = SANDBOX_OUTCOMES[later.action] if later is not None else "approve"
        return {"code": code, "outcome": "pend", "after_seconds": 0, "then": then}
    rule: dict[str, object] = {"code": code, "outcome": SANDBOX_OUTCOMES[decision.action]}
    if decision.reason_codes:
        rule["reason_code"] = decision.reason_codes[0].code
    if decision.authorized_quantity is not None:
        rule["authorized_quantity"] = str(decision.authorized_quantity)
    return rule


class SandboxHarness:
    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None:
        context = AdapterContext(payer_id="sandbox", http=httpx.AsyncClient(), clock=Clock())
        if isinstance(script, Fail):
            if script.kind not in SANDBOX_FAULTS:
                return None  # the sandbox never answers garbage
            return sandbox_factory({"rules": {"default": SANDBOX_FAULTS[script.kind]}}, context)
        if any(d.action is ReviewAction.CANCELLED for d in script.decisions):
            return sandbox_factory({}, context)  # the sandbox cancels whatever the rules
        codes = {i.sequence: i.product_or_service.code for i in sample_request().items}
        later = {d.sequence: d for d in script.on_inquire or ()}
        rules = [_sandbox_rule(codes[d.sequence], d, later.get(d.sequence)) for d in script.decisions]
        return sandbox_factory({"rules": {"rule": rules}}, context)

    def make_appealing_adapter(self, script: AppealScript) -> PayerAdapter | None:
        context = AdapterContext(payer_id="sandbox", http=httpx.AsyncClient(), clock=Clock())
        if script.fault is not None:
            if script.fault not in SANDBOX_FAULTS:
                return None  # the sandbox never answers garbage
            return sandbox_factory({"rules": {"appeal_default": SANDBOX_FAULTS[script.fault]}}, context)
        outcome = "approve" if script.outcome == "approved" else "deny"
        rule = {"outcome": "pend", "after_seconds": 0, "then": outcome} if script.pended_first else {"outcome": outcome}
        return sandbox_factory({"rules": {"appeal": [rule]}}, context)


class FhirPasHarness:
    """The payer is an httpx.MockTransport answering as scripted."""

    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None:
        def handler(request: httpx.Request) -> httpx.Response:
            if isinstance(script, Fail):
                if script.kind == "unavailable":
                    raise httpx.ConnectError("refused", request=request)
                if script.kind == "timeout":
                    raise httpx.ReadTimeout("slow", request=request)
                if script.kind == "reject":
                    return httpx.Response(422, content=operation_outcome("Member not found"))
                return httpx.Response(200, content=b"\x00garbage")
            decisions = script.decisions
            if request.url.path.endswith("$inquire") and script.on_inquire is not None:
                decisions = script.on_inquire
            if request.url.path.endswith("$submit") and orjson.loads(request.content)["entry"][0]["resource"]["item"][
                0
            ].get("extension"):
                decisions = script.decisions  # a cancellation: the scripted (cancelled) decisions
            return httpx.Response(200, content=claim_response_bundle(decisions))

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        context = AdapterContext(payer_id="acme", http=http, clock=Clock(), sleep=RecordingSleep())
        return fhir_pas_factory(settings(), context)


class TestSandboxContract(AdapterContractSuite):
    @pytest.fixture
    def harness(self) -> ContractHarness:
        return SandboxHarness()


class TestFhirPasContract(AdapterContractSuite):
    @pytest.fixture
    def harness(self) -> ContractHarness:
        return FhirPasHarness()


class WithoutAttachments:
    """An adapter without the optional `submit_attachment`: documents reach the payer by `inquire`."""

    contract_version = 1

    def __init__(self, inner: PayerAdapter) -> None:
        self._inner = inner

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        return await self._inner.submit(submission)

    async def inquire(self, reference: PayerReference) -> PayerReply:
        return await self._inner.inquire(reference)

    async def cancel(self, reference: PayerReference) -> PayerReply:
        return await self._inner.cancel(reference)

    async def aclose(self) -> None:
        await self._inner.aclose()


class WithoutAttachmentsHarness:
    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None:
        inner = SandboxHarness().make_adapter(script)
        return None if inner is None else WithoutAttachments(inner)


class TestAdapterWithoutSubmitAttachmentContract(AdapterContractSuite):
    @pytest.fixture
    def harness(self) -> ContractHarness:
        return WithoutAttachmentsHarness()


def test_the_built_in_adapters_receive_attachments_and_the_wrapper_tells() -> None:
    assert receives_attachments(SandboxHarness().make_adapter(Decide(())))  # type: ignore[arg-type]
    assert receives_attachments(FhirPasHarness().make_adapter(Decide(())))  # type: ignore[arg-type]
    assert not receives_attachments(WithoutAttachmentsHarness().make_adapter(Decide(())))  # type: ignore[arg-type]
