"""The exemptions and program routing registry: the shipped sample loads, a broken file is refused with
file, line and reason, and matching (NPI x code x payer x state x dates) is table-tested."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.coverage.codes import CPT
from app.coverage.evaluate import evaluate
from app.coverage.loader import RulesError
from app.coverage.program_loader import check_routing_payers, load_programs, parse_programs
from app.coverage.programs import ProgramRegistry
from tests.coverage.builders import facts, item, payer_rules

HEADER = 'format = 1\nversion = "p1"\n'
TEXAS = """
[[exemption]]
id = "tx"
kind = "state-gold-card"
npis = ["1093817465"]
system = "cpt"
codes = ["72141", "72146-72149"]
states = ["TX"]
source = "Texas HB 3459 (2021)"
effective_from = 2025-01-01
effective_to = 2030-12-31

[[exemption]]
id = "acme-list"
kind = "payer-gold-card"
npis = ["1659372848"]
codes = ["E0193"]
payers = ["acme"]
source = "Acme gold-card list 2025"
effective_from = 2025-01-01

[[routing]]
id = "wiser"
program = "WISeR"
payers = ["medicare-ffs"]
states = ["TX", "OH"]
codes = ["64561"]
adapter = "wiser-tx"
contractor = "Contractor A"
source = "CMS WISeR Model"
effective_from = 2026-01-01
"""


def registry(body: str = TEXAS) -> ProgramRegistry:
    return ProgramRegistry((("test.toml", parse_programs(HEADER + body, "test.toml")),))


def test_the_shipped_sample_loads_and_says_it_is_sample_data() -> None:
    shipped = load_programs(None)
    (summary,) = shipped.summary()
    assert summary["sample"] is True
    assert summary["version"] == "programs-sample-2025.1"
    assert len(shipped.files[0][1].routing) >= 1
    kinds = {e.kind for _, f in shipped.files for e in f.exemption}
    assert kinds == {"state-gold-card", "payer-gold-card", "cms-exemption"}
    assert all(e.source and e.effective_from for _, f in shipped.files for e in (*f.exemption, *f.routing))


@pytest.mark.parametrize(
    ("state", "npi", "code", "served", "exempt"),
    [
        ("TX", "1093817465", "72148", date(2030, 5, 10), True),  # in the range, in Texas, in effect
        ("OK", "1093817465", "72148", date(2030, 5, 10), False),  # another state
        (None, "1093817465", "72148", date(2030, 5, 10), False),  # no state known: a state law cannot apply
        ("TX", "1234567893", "72148", date(2030, 5, 10), False),  # another provider
        ("TX", "1093817465", "72150", date(2030, 5, 10), False),  # another code
        ("TX", "1093817465", "72148", date(2031, 1, 1), False),  # after the exemption ends
        ("TX", "1093817465", "72148", date(2024, 12, 31), False),  # before it starts
    ],
)
def test_a_state_gold_card_exempts_the_provider_for_its_codes_in_its_state_and_dates(
    state: str | None, npi: str, code: str, served: date, exempt: bool
) -> None:
    programs = registry().for_payer("sandbox")
    found = facts(item(code, system=CPT, served=served), npis=(npi,))
    found = replace(found, state=state)
    assert (programs.exemption_for(found) is not None) is exempt


def test_a_payer_gold_card_applies_to_that_payer_only() -> None:
    found = facts(item("E0193"), npis=("1659372848",))
    assert registry().for_payer("acme").exemption_for(found) is not None
    assert registry().for_payer("sandbox").exemption_for(found) is None


def test_an_exemption_lifts_the_requirement_and_cites_its_source_but_never_covers_a_denied_service() -> None:
    rules = payer_rules(
        '[[rule]]\nid = "dme"\ncodes = ["E0193"]\n'
        '[[rule]]\nid = "out"\ncodes = ["E0194"]\ncoverage = "not-covered"\nreason = "excluded"\n'
    )
    programs = registry(TEXAS.replace('codes = ["E0193"]', 'codes = ["E0193-E0194"]')).for_payer("acme")
    needed = facts(item("E0193"), npis=("1659372848",))
    exempt = programs.exempt(evaluate(rules, needed), needed)
    assert exempt.pa_needed == "no-auth"
    assert exempt.exemption == "acme-list"
    assert exempt.gold_card
    assert exempt.reason is not None
    assert "Acme gold-card list 2025" in exempt.reason
    excluded = facts(item("E0194", sequence=2), npis=("1659372848",))
    assert programs.exempt(evaluate(rules, excluded), excluded).covered == "not-covered"


@pytest.mark.parametrize(
    ("payer", "state", "code", "served", "routed"),
    [
        ("medicare-ffs", "TX", "64561", date(2026, 3, 1), True),
        ("medicare-ffs", "OH", "64561", date(2026, 3, 1), True),
        ("medicare-ffs", "CA", "64561", date(2026, 3, 1), False),
        ("sandbox", "TX", "64561", date(2026, 3, 1), False),
        ("medicare-ffs", "TX", "64562", date(2026, 3, 1), False),
        ("medicare-ffs", "TX", "64561", date(2025, 12, 31), False),
    ],
)
def test_a_routing_applies_by_payer_state_code_and_date(
    payer: str, state: str, code: str, served: date, routed: bool
) -> None:
    found = replace(facts(item(code, system=CPT, served=served)), state=state)
    routing = registry().for_payer(payer).routing_for(found)
    assert (routing is not None and routing.adapter == "wiser-tx") is routed


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("[[exemption]]\nid = \n", 4, "invalid TOML"),
        (TEXAS.replace('kind = "state-gold-card"', 'kind = "platinum"'), 6, "exemption.0.kind"),
        (TEXAS.replace('npis = ["1093817465"]', 'npis = ["123"]'), 7, "not 10 digits"),
        (TEXAS.replace('states = ["TX"]', 'states = ["Texas"]'), 10, "two-letter"),
        (TEXAS.replace('codes = ["64561"]', 'codes = ["64569-64561"]'), 29, "after the last"),
        (TEXAS.replace("effective_to = 2030-12-31", "effective_to = 2020-12-31"), 4, "effective_from is after"),
        (TEXAS.replace('source = "CMS WISeR Model"\n', ""), 24, "routing.0.source"),
        (TEXAS.replace('id = "acme-list"', 'id = "tx"'), 16, "already used in this file"),
    ],
    ids=["toml", "kind", "npi", "state", "range", "dates", "no-source", "duplicate-id"],
)
def test_a_broken_registry_file_is_refused_with_file_line_and_reason(body: str, line: int, reason: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_programs(HEADER + body, "bad.toml")
    assert caught.value.file == "bad.toml"
    assert reason in caught.value.reason
    assert (caught.value.line or 1) == line, str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_routing_that_can_apply_must_name_a_configured_payer(tmp_path: Path) -> None:
    (tmp_path / "programs.toml").write_text(HEADER + TEXAS)
    loaded = load_programs(tmp_path)
    check_routing_payers(loaded, ["sandbox"])  # no payer "medicare-ffs": the routing can never apply
    check_routing_payers(loaded, ["medicare-ffs", "wiser-tx"])
    with pytest.raises(RulesError, match="adapter 'wiser-tx' is not a payer") as caught:
        check_routing_payers(loaded, ["medicare-ffs", "sandbox"])
    assert caught.value.line == 30


def test_an_id_used_in_two_files_and_a_missing_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(HEADER + TEXAS)
    (tmp_path / "b.toml").write_text(HEADER + TEXAS.split('[[exemption]]\nid = "acme-list"')[0])
    with pytest.raises(RulesError, match="already used in"):
        load_programs(tmp_path)
    with pytest.raises(RulesError, match="does not exist"):
        load_programs(tmp_path / "missing")
