"""Rules files: the shipped sample loads; a broken file is refused with file, line and reason; reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.coverage.book import RulesHolder, read_rules
from app.coverage.loader import RulesError, parse_rules

GOOD = 'format = 1\nversion = "v1"\npayers = ["acme"]\n\n[[rule]]\nid = "a"\ncodes = ["E0193"]\n'


def test_the_shipped_sample_loads_for_the_sandbox() -> None:
    rules = read_rules(None)
    sandbox = rules.for_payer("sandbox")
    assert sandbox is not None
    ids = {rule.id for rule in sandbox.rules.rule}
    assert {
        "dmepos-power-mobility",
        "dmepos-support-surfaces",
        "dmepos-lower-limb-prostheses",
        "dmepos-orthoses",
    } <= ids
    assert any(rule_id.startswith("opd-") for rule_id in ids)
    assert rules.for_payer("other") is None


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("format = 1\nversion = \n", 2, "invalid TOML"),
        ('format = 2\nversion = "v"\npayers = ["a"]\n', 1, "format"),
        (
            'format = 1\nversion = "v"\npayers = ["a"]\n[[rule]]\nid = "a"\ncodes = ["E0193"]\n'
            '[[rule]]\nid = "b"\ncoverage = "not-covered"\ncodes = ["E0194"]\n',
            7,
            "needs a `reason`",
        ),
        (
            'format = 1\nversion = "v"\npayers = ["a"]\n[[rule]]\nid = "a"\n\ncodes = ["L5987-L5856"]\n',
            7,
            "after the last",
        ),
        (
            'format = 1\nversion = "v"\npayers = ["a"]\n[[rule]]\nid = "a"\ncodes = ["E0193"]\ncolor = "red"\n',
            7,
            "color",
        ),
        (
            'format = 1\nversion = "v"\npayers = ["a"]\n[[gold_card]]\nnpi = "123"\ncodes = ["E0193"]\n'
            "effective_from = 2030-01-01\neffective_to = 2030-12-31\n",
            5,
            "gold_card.0.npi",
        ),
    ],
    ids=["toml-syntax", "format-version", "not-covered-without-reason", "inverted-range", "unknown-field", "bad-npi"],
)
def test_a_broken_file_is_refused_with_file_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules/acme.toml")
    assert caught.value.file == "rules/acme.toml"
    assert caught.value.line == line, str(caught.value)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"rules/acme.toml:{line}: ")


def test_a_payer_in_two_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD.replace('"a"', '"b"'))
    with pytest.raises(RulesError, match="already has rules"):
        read_rules(tmp_path)


def test_reload_puts_new_rules_in_force_and_keeps_the_old_ones_when_broken(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(GOOD)
    holder = RulesHolder.load(tmp_path)
    first = holder.current
    path.write_text(GOOD.replace('version = "v1"', 'version = "v2"'))
    assert holder.reload().summary()["acme"]["version"] == "v2"
    second = holder.current
    path.write_text(GOOD + '[[rule]]\nid = "a"\ncodes = ["E0194"]\n')  # duplicate rule id
    with pytest.raises(RulesError, match="used twice"):
        holder.reload()
    assert holder.current is second is not first


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="does not exist"):
        read_rules(tmp_path / "nowhere")
