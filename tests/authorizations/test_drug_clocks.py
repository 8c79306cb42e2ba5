"""Drug and expedited decision clocks end to end (both backends): a medical-benefit drug gets 24 h when
expedited and 72 h when standard (the operations API shows the due time), the overdue event fires at
that time on a moved clock and not before, and a rules file overrides the windows per payer, per state
and for exempt plan types."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from tests.authorizations import store_reads
from tests.authorizations.support import (
    Driver,
    detail,
    lifecycle_settings,
    request_bundle,
    submit_bundle,
    timeline,
)
from tests.support.receiver import running_receiver

Json = dict[str, Any]
HCPCS = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OVERRIDES = """format = 1
version = "clocks-test-1"
payers = ["sandbox"]
drug_clock_exempt_plan_types = ["EHCPOL"]

[defaults]
drug_standard_window_hours = 48

[[state_clocks]]
states = ["TX"]
source = "a state's prior authorization law (test)"
drug_expedited_window_hours = 12

[[rule]]
id = "anything"
codes = ["J0000-J9999", "E0000-E9999"]
"""


@pytest.fixture
def coverage_rules() -> str | None:
    """The sandbox payer's rules file (TOML text); None: the shipped sample. Tests parametrize it."""
    return None


@pytest.fixture
def settings(database_url: str, tmp_path: Path, coverage_rules: str | None) -> Settings:
    rules_dir = None
    if coverage_rules is not None:
        rules_dir = tmp_path / "rules"
        rules_dir.mkdir()
        (rules_dir / "sandbox.toml").write_text(coverage_rules)
    return lifecycle_settings(
        database_url,
        tmp_path,
        coverage_rules_dir=rules_dir,
        webhook_allow_private_targets=True,  # loopback receiver
    )


def held(*codes: str, expedited: bool = False, state: str | None = None, plan_type: str | None = None) -> Json:
    """A request the sandbox holds (pended until released), HCPCS-coded, optionally stat, from a provider in
    `state`, on a Coverage of `plan_type`."""
    bundle = request_bundle(*codes, member="SBX-HOLD")
    claim = bundle["entry"][0]["resource"]
    for item in claim["item"]:
        item["productOrService"]["coding"][0]["system"] = HCPCS
    if expedited:
        claim["priority"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "stat"}]
        }
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if state and resource["resourceType"] == "Organization" and resource["id"] == "provider-1":
            resource["address"] = [{"state": state}]
        if plan_type and resource["resourceType"] == "Coverage":
            resource["type"] = {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": plan_type}]
            }
    return bundle


def window(shown: Json) -> timedelta:
    clocks = shown["clocks"]
    return datetime.fromisoformat(clocks["due_at"]) - datetime.fromisoformat(clocks["received_at"])


async def test_an_expedited_drug_is_due_24_hours_after_receipt_and_overdue_then(
    client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine
) -> None:
    async with running_receiver() as receiver:
        hook = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["authorization.overdue"]})
        assert hook.status_code == 201, hook.text
        answered = await submit_bundle(client, held("J9035", expedited=True))
        shown = await detail(client, answered.authorization_id)
        assert shown["status"] == "pended"
        assert shown["priority"] == "expedited"
        assert window(shown) == timedelta(hours=24)
        due_at = datetime.fromisoformat(shown["clocks"]["due_at"])

        await driver.run(until=due_at - timedelta(seconds=1))
        before = await detail(client, answered.authorization_id)
        assert "overdue" not in timeline(before)
        assert before["clocks"]["overdue"] is False
        assert receiver.requests == []

        await driver.run(until=due_at)
        after = await detail(client, answered.authorization_id)
        assert timeline(after).count("overdue") == 1
        assert after["status"] == "pended"
        assert "authorization.overdue" in await store_reads.published(engine, answered.authorization_id)
        await driver.run()  # the fan-out queued the delivery at the moved clock's now
        await receiver.wait_for(1)
    (delivered,) = receiver.requests
    sent = orjson.loads(delivered.body)
    assert sent["type"] == "authorization.overdue"
    assert sent["data"]["authorization_id"] == str(answered.authorization_id)


@pytest.mark.parametrize(
    ("codes", "expedited", "expected"),
    [
        (("J9035",), False, timedelta(hours=72)),  # a drug, standard
        (("E0486",), True, timedelta(hours=72)),  # a medical service, expedited
        (("E0486",), False, timedelta(days=7)),  # a medical service, standard
        (("E0486", "J9035"), False, timedelta(hours=72)),  # the earliest applicable
    ],
)
async def test_the_due_time_follows_the_item_kinds_and_priority(
    client: httpx.AsyncClient, codes: tuple[str, ...], expedited: bool, expected: timedelta
) -> None:
    answered = await submit_bundle(client, held(*codes, expedited=expedited))
    assert window(await detail(client, answered.authorization_id)) == expected


@pytest.mark.parametrize("coverage_rules", [OVERRIDES])
async def test_a_rules_file_overrides_the_drug_clocks_per_payer_state_and_plan_type(
    client: httpx.AsyncClient, driver: Driver
) -> None:
    payer_default = await submit_bundle(client, held("J9035"))
    assert window(await detail(client, payer_default.authorization_id)) == timedelta(hours=48)
    texas = await submit_bundle(client, held("J9035", expedited=True, state="TX"))
    shown = await detail(client, texas.authorization_id)
    assert window(shown) == timedelta(hours=12)
    employer = await submit_bundle(client, held("J9035", expedited=True, plan_type="EHCPOL"))
    assert window(await detail(client, employer.authorization_id)) == timedelta(hours=72)  # timed as medical

    due_at = datetime.fromisoformat(shown["clocks"]["due_at"])
    await driver.run(until=due_at)
    assert "overdue" in timeline(await detail(client, texas.authorization_id))
    assert "overdue" not in timeline(await detail(client, employer.authorization_id))
