"""$submit with the payer's coverage rules: decisions without a payer call, findings, clocks, kinds, links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from tests.support.coverage import authorizations, claim_of, client_with_rules, event_types, pas_bundle, post_fhir
from tests.support.pas import claim_response, review_actions

RULES = """format = 1
version = "t1"
payers = ["sandbox"]
on_findings = "{mode}"
[defaults]
retro_window_days = 30
[[rule]]
id = "free"
codes = ["E0100"]
authorization = "not-required"
[[rule]]
id = "dme"
codes = ["E0193"]
standard_window_days = 5
expedited_window_hours = 48
validity_days = 120
  [[rule.documentation]]
  kind = "clinical"
  code = "11506-3"
  text = "Progress note"
[[rule]]
id = "excluded"
codes = ["E0101"]
coverage = "not-covered"
reason = "excluded by the plan"
reason_code = "96"
"""

SUBMIT = "/fhir/Claim/$submit"


def rules(mode: str = "warn") -> str:
    return RULES.replace("{mode}", mode)


def notes(body: dict[str, object]) -> list[str]:
    resource = claim_response(body)
    return [note["text"] for note in resource.get("processNote", [])]


async def test_items_the_rules_settle_are_answered_without_a_payer_call(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with client_with_rules(settings, tmp_path / "rules", rules()) as client:
        # SBX-DOWN makes the sandbox payer fail: only a request that never reaches it is decided.
        response = await post_fhir(client, SUBMIT, pas_bundle("E0100", "E0101", member="SBX-DOWN"))
    assert response.status_code == 200
    body = response.json()
    assert review_actions(body) == {1: "NA", 2: "A3"}
    denied = claim_response(body)["item"][1]["adjudication"][0]["extension"]
    assert "excluded by the plan" in str(denied)
    assert [t for t, _ in await event_types(engine)][-1] == "coverage-rules-decided"
    (stored,) = await authorizations(engine)
    assert stored.status == "denied"  # NA + A3: the only considered item is denied


async def test_a_request_the_rules_cannot_settle_goes_to_the_payer_and_rule_decisions_win(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with client_with_rules(settings, tmp_path / "rules", rules()) as client:
        response = await post_fhir(client, SUBMIT, pas_bundle("E0100", "99212"))
    assert review_actions(response.json()) == {1: "NA", 2: "A1"}
    assert "payer-answered" in [t for t, _ in await event_types(engine)]


async def test_shipped_sample_denies_a_statutory_exclusion_with_the_rules_reason(client: httpx.AsyncClient) -> None:
    body = (await post_fhir(client, SUBMIT, pas_bundle("A9270"))).json()
    assert review_actions(body) == {1: "A3"}
    assert "Statutorily non-covered" in str(claim_response(body)["item"][0])


@pytest.mark.parametrize(("documented", "warned"), [(False, True), (True, False)])
async def test_findings_warn_in_process_notes(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, documented: bool, warned: bool
) -> None:
    bundle = pas_bundle("E0193")
    if documented:
        claim_of(bundle)["supportingInfo"][0]["code"] = {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]}
    async with client_with_rules(settings, tmp_path / "rules", rules()) as client:
        response = await post_fhir(client, SUBMIT, bundle)
    assert response.status_code == 200
    assert any(n.startswith("missing-documentation") for n in notes(response.json())) is warned


@pytest.mark.parametrize(("documented", "status"), [(False, 422), (True, 200)])
async def test_findings_refuse_when_the_payer_says_so_and_nothing_is_stored(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, documented: bool, status: int
) -> None:
    bundle = pas_bundle("E0193")
    if documented:
        claim_of(bundle)["supportingInfo"][0]["code"] = {"coding": [{"code": "11506-3"}]}
    async with client_with_rules(settings, tmp_path / "rules", rules("refuse")) as client:
        response = await post_fhir(client, SUBMIT, bundle)
    assert response.status_code == status
    if status == 422:
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource.supportingInfo"]
        assert await authorizations(engine) == []


@pytest.mark.parametrize(("level", "window"), [("U", timedelta(hours=48)), ("E", timedelta(days=5))])
async def test_rule_clocks_feed_the_decision_due_time(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, level: str, window: timedelta
) -> None:
    bundle = pas_bundle("E0193", member="SBX-PEND")
    claim_of(bundle)["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = level
    async with client_with_rules(settings, tmp_path / "rules", rules()) as client:
        assert (await post_fhir(client, SUBMIT, bundle)).status_code == 200
    (stored,) = await authorizations(engine)
    assert stored.priority == ("expedited" if level == "U" else "standard")
    assert stored.due_at is not None
    assert stored.due_at - stored.received_at == window


async def test_a_duplicate_of_an_active_authorization_is_reported(client: httpx.AsyncClient) -> None:
    first = await post_fhir(client, SUBMIT, pas_bundle("99212", tag="1"))
    assert review_actions(first.json()) == {1: "A1"}
    again = await post_fhir(client, SUBMIT, pas_bundle("99212", tag="2"))
    assert any(n.startswith("duplicate-authorization") for n in notes(again.json()))
    other = await post_fhir(client, SUBMIT, pas_bundle("99212", tag="3", served="2030-09-10"))
    assert not any(n.startswith("duplicate-authorization") for n in notes(other.json()))


async def test_a_concurrent_request_is_linked_to_the_authorization_it_extends(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    first = (await post_fhir(client, SUBMIT, pas_bundle("99212", tag="1"))).json()
    reference = claim_response(first)["preAuthRef"]
    extension = pas_bundle("99212", tag="2", served="2030-06-10")
    claim = claim_of(extension)
    claim["insurance"][0]["preAuthRef"] = [reference]
    claim["item"][0]["extension"][1]["valueCodeableConcept"]["coding"][0]["code"] = "4"  # certification: extension
    assert (await post_fhir(client, SUBMIT, extension)).status_code == 200
    original, extended = await authorizations(engine)
    assert extended.kind == "concurrent"
    assert extended.extends_id == original.id
    requested = [d for t, d in await event_types(engine) if t == "extension-requested"]
    assert requested[0]["units"] == [{"code": "99212", "authorized": "1.000", "used": "0", "requested": "1"}]


async def test_a_plain_request_extends_nothing(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await post_fhir(client, SUBMIT, pas_bundle("99212"))
    (stored,) = await authorizations(engine)
    assert (stored.kind, stored.extends_id) == ("prior", None)


@pytest.mark.parametrize(("days_ago", "late"), [(60, True), (5, False)])
async def test_retrospective_requests_are_checked_against_the_retro_window(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, days_ago: int, late: bool
) -> None:
    today = datetime.now(UTC).date()
    served = (today - timedelta(days=days_ago)).isoformat()
    bundle = pas_bundle("E0193", served=served)
    claim_of(bundle)["created"] = f"{today.isoformat()}T08:00:00+00:00"
    async with client_with_rules(settings, tmp_path / "rules", rules()) as client:
        response = await post_fhir(client, SUBMIT, bundle)
    (stored,) = await authorizations(engine)
    assert stored.kind == "retrospective"
    assert any(n.startswith("retro-window-passed") for n in notes(response.json())) is late
    assert date.fromisoformat(served) < today
