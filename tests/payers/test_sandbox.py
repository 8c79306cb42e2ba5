"""The sandbox payer: scripted outcomes, pend schedules, operator overrides and releases."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.codes import ReviewAction
from app.payers.appeals import AppealOutcome, AppealReference, PayerAppeal, supports_appeals
from app.payers.config import PayerConfigError
from app.payers.contract import AdapterContext
from app.payers.errors import PayerRejected, PayerTimeout, PayerUnavailable
from app.payers.sandbox import SandboxAdapter, create_adapter, release_pended
from app.payers.sandbox.source import RulesFileError
from tests.payers.builders import Clock, item, reference, request, submission


def sandbox(settings: Mapping[str, Any], clock: Clock | None = None) -> SandboxAdapter:
    context = AdapterContext(payer_id="sandbox", http=httpx.AsyncClient(), clock=clock or Clock())
    return create_adapter(settings, context)


# (case, request items / member / bundle, expected actions in item order)
DEFAULT_RULES = [
    ("unknown code is approved", {"items": [item(1, "99212")]}, ["A1"]),
    ("non-covered code is denied", {"items": [item(1, "A9270")]}, ["A3"]),
    ("respiratory device is pended", {"items": [item(1, "E0470")]}, ["A4"]),
    ("oral appliance is held", {"items": [item(1, "E0486")]}, ["A4"]),
    ("hospital bed is modified", {"items": [item(1, "E0260")]}, ["A6"]),
    ("therapy over 6 units is partial", {"items": [item(1, "97110", 10)]}, ["A2"]),
    ("therapy within 6 units is approved", {"items": [item(1, "97110", 6)]}, ["A1"]),
    ("office visit needs no authorization", {"items": [item(1, "99213")]}, ["NA"]),
    ("member SBX-DENY is denied", {"items": [item(1, "99212")], "member": "SBX-DENY"}, ["A3"]),
    ("member SBX-PEND is pended", {"items": [item(1, "99212")], "member": "SBX-PEND"}, ["A4"]),
    ("items decided one by one", {"items": [item(1, "99212"), item(2, "A9270")]}, ["A1", "A3"]),
    ("cancelled item is cancelled", {"items": [item(1, "99212", cancelled=True)]}, ["C"]),
]


@pytest.mark.parametrize(("case", "given", "actions"), DEFAULT_RULES, ids=[c[0] for c in DEFAULT_RULES])
async def test_default_rules_decide_by_code_member_and_quantity(
    case: str, given: dict[str, Any], actions: list[str]
) -> None:
    req = request(*given["items"], member=given.get("member", "M-1000"))
    reply = await sandbox({}).submit(submission(req))
    assert [d.action.value for d in reply.decisions] == actions


async def test_denial_carries_a_reason_and_modification_the_authorized_version() -> None:
    reply = await sandbox({}).submit(submission(request(item(1, "A9270"), item(2, "E0260", 1))))
    denied, modified = reply.decisions
    assert (denied.reason_codes[0].system, denied.reason_codes[0].code) == (
        "https://codesystem.x12.org/external/886",
        "02",
    )
    assert denied.reason_text
    assert modified.authorized_service is not None
    assert modified.authorized_service.code == "E0250"
    assert modified.authorized_period is not None
    assert modified.authorized_period.end is not None
    assert modified.authorized_period.start is not None
    assert (modified.authorized_period.end - modified.authorized_period.start).days == 29
    assert modified.authorization_number
    assert reply.preauth_ref is not None


async def test_partial_approval_authorizes_fewer_units() -> None:
    reply = await sandbox({}).submit(submission(request(item(1, "97110", 10))))
    assert reply.decisions[0].authorized_quantity == Decimal(6)


async def test_pend_is_decided_after_its_delay_without_state() -> None:
    clock = Clock()
    sub = submission(request(item(1, "E0470")))
    first = await sandbox({}, clock).submit(sub)
    assert first.decisions[0].action is ReviewAction.PENDED
    assert first.retry_after is not None
    assert first.retry_after.total_seconds() == 120
    clock.advance(seconds=60)
    other_process = sandbox({}, clock)  # a fresh adapter: nothing carried over in memory
    still = await other_process.inquire(reference(sub, first.payer_reference))
    assert still.decisions[0].action is ReviewAction.PENDED
    clock.advance(seconds=61)
    decided = await other_process.inquire(reference(sub, first.payer_reference))
    assert decided.decisions[0].action is ReviewAction.CERTIFIED
    assert decided.retry_after is None


async def test_operator_releases_a_held_request(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('default = "pend"\n')
    adapter = sandbox({"rules_file": str(rules)})
    sub = submission(request(item(1, "99212")))
    reply = await adapter.submit(sub)
    assert reply.payer_reference is not None
    assert reply.payer_reference.endswith("-hold")
    assert (await adapter.inquire(reference(sub, reply.payer_reference))).decisions[0].action is ReviewAction.PENDED
    release_pended(rules, reply.payer_reference, "deny")
    os.utime(rules, ns=(1, 1))  # make the change visible even on coarse file-system clocks
    released = await adapter.inquire(reference(sub, reply.payer_reference))
    assert released.decisions[0].action is ReviewAction.NOT_CERTIFIED
    with pytest.raises(RulesFileError, match="already released"):
        release_pended(rules, reply.payer_reference, "approve")


@pytest.mark.parametrize(("force", "action"), [("approve", "A1"), ("deny", "A3"), ("pend", "A4")])
async def test_operator_forces_the_outcome_of_an_identical_bundle(tmp_path: Path, force: str, action: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(f'force = "{force}"\n')
    reply = await sandbox({"rules_file": str(rules)}).submit(submission(request(item(1, "99212"))))
    assert reply.decisions[0].action.value == action


async def test_rules_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('default = "approve"\n')
    adapter = sandbox({"rules_file": str(rules)})
    sub = submission(request(item(1, "99212")))
    assert (await adapter.submit(sub)).decisions[0].action is ReviewAction.CERTIFIED
    rules.write_text('default = "deny"\n')
    os.utime(rules, ns=(2, 2))
    assert (await adapter.submit(sub)).decisions[0].action is ReviewAction.NOT_CERTIFIED
    rules.write_text("default = [broken\n")
    os.utime(rules, ns=(3, 3))
    assert (await adapter.submit(sub)).decisions[0].action is ReviewAction.NOT_CERTIFIED  # last good rules


@pytest.mark.parametrize(
    ("outcome", "error"), [("unavailable", PayerUnavailable), ("timeout", PayerTimeout), ("reject", PayerRejected)]
)
async def test_faults_are_simulated_as_payer_errors(outcome: str, error: type[Exception]) -> None:
    adapter = sandbox({"rules": {"default": outcome}})
    with pytest.raises(error):
        await adapter.submit(submission(request()))


async def test_cancel_is_idempotent_and_inquire_refuses_foreign_references() -> None:
    adapter = sandbox({})
    sub = submission(request(item(1, "99212"), item(2, "E0470")))
    first = await adapter.cancel(reference(sub, "sbx1-0000000000-1-final"))
    assert [d.action for d in first.decisions] == [ReviewAction.CANCELLED] * 2
    assert (await adapter.cancel(reference(sub, "sbx1-0000000000-1-final"))).decisions == first.decisions
    with pytest.raises(PayerRejected):
        await adapter.inquire(reference(sub, "not-ours"))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"rules": {"default": "maybe"}}, "rules.default.outcome"),
        ({"validity_days": 0}, "validity_days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=field.split(".")[0]):
        sandbox(settings)


def test_unreadable_rules_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(PayerConfigError, match="cannot be read"):
        sandbox({"rules_file": str(tmp_path / "missing.toml")})


# --- appeals -----------------------------------------------------------------------------------


def _appeal(reason: str | None, member: str = "M-1000", expedited: bool = False) -> PayerAppeal:
    req = request(item(1, "A9270"), member=member)
    return PayerAppeal("auth-1", "appeal-1", "sbx1-ref", req, b"{}", reason, expedited)


@pytest.mark.parametrize(
    ("case", "reason", "member", "outcome", "peer_to_peer"),
    [
        ("any other appeal is approved", "Failed conservative therapy", "M-1000", "approved", None),
        ("a reason saying upheld is denied", "We expect it UPHELD", "M-1000", "denied", None),
        ("member SBX-APPEAL-DENY is denied", "Failed conservative therapy", "SBX-APPEAL-DENY", "denied", None),
        (
            "a reason asking for a peer review pends it",
            "Please arrange a peer to peer",
            "M-1000",
            "pended",
            "requested",
        ),
        ("a reason asking for review pends it", "Please review again", "M-1000", "pended", None),
        ("no reason at all is approved", None, "M-1000", "approved", None),
    ],
)
async def test_default_appeal_rules_decide_by_reason_keyword_and_member(
    case: str, reason: str | None, member: str, outcome: str, peer_to_peer: str | None
) -> None:
    reply = await sandbox({}).appeal(_appeal(reason, member))
    assert reply.outcome.value == outcome, case
    assert (reply.peer_to_peer.value if reply.peer_to_peer else None) == peer_to_peer
    assert supports_appeals(sandbox({}))
    if outcome == "approved":
        assert [(d.sequence, d.action) for d in reply.decisions] == [(1, ReviewAction.CERTIFIED)]
        assert reply.decisions[0].authorization_number


async def test_a_pended_appeal_is_decided_after_its_delay_without_state() -> None:
    clock = Clock()
    payer = sandbox({}, clock)
    appeal = _appeal("please review")
    first = await payer.appeal(appeal)
    assert first.outcome is AppealOutcome.PENDED
    assert first.retry_after is not None
    assert first.payer_reference is not None
    reference = AppealReference("auth-1", "appeal-1", first.payer_reference, appeal.request, appeal.reason, False)
    assert (await sandbox({}, clock).appeal_status(reference)).outcome is AppealOutcome.PENDED
    clock.advance(seconds=120)
    assert (await sandbox({}, clock).appeal_status(reference)).outcome is AppealOutcome.APPROVED


async def test_appeal_rules_match_expedited_appeals_and_foreign_references_are_refused() -> None:
    rules = {"appeal": [{"expedited": True, "outcome": "deny"}], "appeal_default": "approve"}
    payer = sandbox({"rules": rules})
    assert (await payer.appeal(_appeal("x", expedited=True))).outcome is AppealOutcome.DENIED
    assert (await payer.appeal(_appeal("x", expedited=False))).outcome is AppealOutcome.APPROVED
    foreign = AppealReference("auth-1", "appeal-1", "not-ours", request(item(1, "A9270")), None, False)
    with pytest.raises(PayerRejected):
        await payer.appeal_status(foreign)
