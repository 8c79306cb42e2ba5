"""The contract kit against the x12-278 adapter and the fake clearinghouse, with both CORE envelopes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.payers.contract import AdapterContext, PayerAdapter
from app.payers.sdk import ItemDecision
from app.payers.testing import AdapterContractSuite, Decide, Fail
from app.payers.x12_278 import create_adapter
from app.payers.x12_278.respond import Script, Scripted
from tests.payers.x12_278.clearinghouse import Answer, Clearinghouse, running


def script_of(decisions: tuple[ItemDecision, ...]) -> Script:
    items = {
        d.sequence: Scripted(
            d.action.value,
            d.authorization_number,
            reason=d.reason_codes[0].code if d.reason_codes else None,
            quantity=d.authorized_quantity,
        )
        for d in decisions
    }
    return Script(items=items)


FAULTS = {
    "unavailable": Answer("http", status=503),
    "timeout": Answer("slow", delay=1.0),
    "reject": Answer(script=Script(rejections={"2010C": ("72", "C")})),
    "garbage": Answer("garbage"),
}


class Harness:
    def __init__(self, house: Clearinghouse, http: httpx.AsyncClient, folder: Path) -> None:
        self.house, self.http, self.folder = house, http, folder

    def make_adapter(self, script: Decide | Fail) -> PayerAdapter | None:
        if isinstance(script, Fail):
            self.house.submit = FAULTS[script.kind]
            self.house.inquiry = None
        else:
            self.house.submit = Answer(script=script_of(script.decisions))
            self.house.inquiry = Answer(script=script_of(script.on_inquire)) if script.on_inquire else None
        context = AdapterContext(payer_id="kit", http=self.http, config_dir=self.folder)
        return create_adapter(self.house.settings(timeout_seconds=0.3), context)


@pytest.fixture(params=["mime", "soap"])
async def house(request: pytest.FixtureRequest) -> AsyncIterator[Clearinghouse]:
    async with running(Clearinghouse(envelope=request.param)) as served:
        yield served


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class TestX12AdapterContract(AdapterContractSuite):
    @pytest.fixture
    def harness(self, house: Clearinghouse, http: httpx.AsyncClient, tmp_path: Path) -> Harness:
        return Harness(house, http, tmp_path)
