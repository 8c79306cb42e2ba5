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

The kit, suite by suite (everything above is importable from `app.payers.testing`):

    suite.py       AdapterContractSuite: conformance, decisions, faults, cancel, attachments
    appeals.py     the appeal part, mixed into AdapterContractSuite
    scripting.py   Decide, Fail, AppealScript, and the harness Protocols
    decisions.py   ROUND_TRIPS and assert_decisions
    faults.py      FaultKind and FAULT_ERRORS
    samples.py     sample_request and sample_bundle
"""

from app.payers.testing.appeals import AppealContractSuite as AppealContractSuite
from app.payers.testing.decisions import DENIAL as DENIAL
from app.payers.testing.decisions import ROUND_TRIPS, assert_decisions
from app.payers.testing.faults import FAULT_ERRORS, FaultKind
from app.payers.testing.samples import HCPCS as HCPCS
from app.payers.testing.samples import sample_bundle, sample_request
from app.payers.testing.scripting import AppealHarness, AppealScript, ContractHarness, Decide, Fail
from app.payers.testing.suite import AdapterContractSuite

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
