"""The echo adapter runs the hub's contract kit, as any adapter package should."""

from __future__ import annotations

import httpx
import pytest
from epa_echo_payer import create_adapter

from app.payers.sdk import AdapterContext, PayerAdapter
from app.payers.testing import AdapterContractSuite, ContractHarness, Decide, Fail


class EchoHarness:
    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None:
        context = AdapterContext(payer_id="echo", http=httpx.AsyncClient())
        if isinstance(script, Fail):
            return create_adapter({"down": True}, context) if script.kind == "unavailable" else None
        actions = {d.action.value for d in script.decisions}
        if actions == {"A1"} or actions == {"C"}:
            return create_adapter({}, context)
        return None  # the echo payer only approves


class TestEchoContract(AdapterContractSuite):
    @pytest.fixture
    def harness(self) -> ContractHarness:
        return EchoHarness()
