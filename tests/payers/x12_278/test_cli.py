"""`epa x12 encode` / `epa x12 decode` on the shipped examples, and their one-line refusals."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.payers.x12_278 import read_interchange
from tests.payers.x12_278.support import EXAMPLES

X12 = EXAMPLES / "x12"
PAYERS = X12 / "payers.toml"
STATUSES = {
    "certified": "approved",
    "partial": "partially-approved",
    "denied": "denied",
    "pended": "pended",
    "modified": "modified",
    "contact-payer": "pended",
    "no-action-required": "not-required",
    "rejected": "rejected",
    "update": "approved",
    "cancel": "cancelled",
    "inquiry": "approved",
}


def test_every_case_ships_a_request_and_a_response() -> None:
    shipped = {p.name.split(".")[0] for p in X12.glob("*.x12")}
    assert shipped == set(STATUSES)
    for case in STATUSES:
        read_interchange((X12 / f"{case}.request.x12").read_text())  # envelope and counts hold


@pytest.mark.parametrize("example", ["approve", "update", "cancel", "drug-expedited"])
def test_encode_prints_the_278_of_a_pas_example_with_the_payers_file_fields(example: str) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "x12",
            "encode",
            str(EXAMPLES / "pas" / f"{example}.json"),
            "--payer",
            "acme-x12",
            "--payers-file",
            str(PAYERS),
        ],
    )
    assert result.exit_code == 0, result.output
    interchange = read_interchange(result.stdout)
    assert (interchange.sender_id, interchange.receiver_id, interchange.usage) == ("EPAHUB", "CLEARHOUSE", "T")
    assert "NM1*X3*2*ACME HEALTH*****PI*ACME01~" in result.stdout
    expected = {"approve": "I", "drug-expedited": "I", "update": "S", "cancel": "3"}[example]
    assert f"UM*HS*{expected}*" in result.stdout


@pytest.mark.parametrize("case", sorted(STATUSES))
def test_decode_prints_what_the_pas_answer_will_say(case: str) -> None:
    result = CliRunner().invoke(cli, ["x12", "decode", str(X12 / f"{case}.response.x12")])
    assert result.exit_code == 0, result.output
    answer = orjson.loads(result.stdout)
    assert answer["status"] == STATUSES[case]
    if case == "denied":
        assert answer["decisions"][0]["reason_codes"] == ["0U"]
    if case == "rejected":
        assert answer["rejections"] == [
            {"loop": "2010C", "valid": "N", "reason": "72", "follow_up": "C", "sequence": None}
        ]


def test_decode_refuses_what_is_not_a_278_response_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.x12"
    bad.write_text((X12 / "certified.request.x12").read_text())
    result = CliRunner().invoke(cli, ["x12", "decode", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "BHT02" in result.stderr


def test_encode_names_a_payer_that_is_not_there(tmp_path: Path) -> None:
    example = str(EXAMPLES / "pas" / "approve.json")
    result = CliRunner().invoke(cli, ["x12", "encode", example, "--payer", "nobody", "--payers-file", str(PAYERS)])
    assert result.exit_code == 2
    assert "no x12-278 payer 'nobody'" in result.stderr
    broken = tmp_path / "payers.toml"
    broken.write_text(PAYERS.read_text().replace('usage = "T"', 'usage = "X"'))
    result = CliRunner().invoke(cli, ["x12", "encode", example, "--payer", "acme-x12", "--payers-file", str(broken)])
    assert result.exit_code == 2
    assert "settings.usage" in result.stderr


def test_encode_refuses_an_invalid_pas_bundle(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle"}')
    result = CliRunner().invoke(cli, ["x12", "encode", str(bad), "--payer", "acme-x12", "--payers-file", str(PAYERS)])
    assert result.exit_code == 2
    assert "not a valid PAS request" in result.stderr
