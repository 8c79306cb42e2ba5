"""A broken exemptions and routing registry stops `epa serve` with one clear line (file:line: reason),
as a broken payers file does; so does a routing to a contractor the payers file lacks."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from tests.support.processes import run_epa

ROUTING = """format = 1
version = "r1"

[[routing]]
id = "wiser"
program = "WISeR"
payers = ["sandbox"]
codes = ["64561"]
adapter = "nobody"
contractor = "Contractor"
source = "CMS WISeR Model"
effective_from = 2026-01-01
"""


def _serve(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "programs"
    folder.mkdir()
    (folder / "programs.toml").write_text(text)
    env = {"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true", "EPA_PROGRAMS_DIR": str(folder)}
    result = run_epa("serve", env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_broken_registry_file_stops_serve_with_file_line_and_reason(tmp_path: Path) -> None:
    line = _serve(tmp_path, ROUTING.replace('codes = ["64561"]', 'codes = ["64569-64561"]'))
    assert line.startswith("epa: exemptions and program routing registry: ")
    assert "programs.toml:8: routing.0.codes: range '64569-64561': the first code is after the last" in line


def test_a_routing_to_a_payer_the_payers_file_lacks_stops_serve(tmp_path: Path) -> None:
    line = _serve(tmp_path, ROUTING)
    assert "programs.toml:9: routing 'wiser': adapter 'nobody' is not a payer of the payers file" in line


def test_rules_check_programs_prints_each_file_or_the_broken_line(tmp_path: Path) -> None:
    shipped = CliRunner().invoke(cli, ["rules", "check-programs"])
    assert shipped.exit_code == 0, shipped.output
    assert "sample.toml: version programs-sample-2025.1 (sample data)" in shipped.output
    (tmp_path / "programs.toml").write_text(ROUTING)
    good = CliRunner().invoke(cli, ["rules", "check-programs", str(tmp_path)])
    assert good.exit_code == 0
    assert "0 exemptions, 1 routings" in good.output
    (tmp_path / "programs.toml").write_text(ROUTING.replace('states = ["TX"]', "").replace("codes = [", "codes = [1, "))
    bad = CliRunner().invoke(cli, ["rules", "check-programs", str(tmp_path)])
    assert bad.exit_code == 2
    assert "programs.toml:8:" in bad.output
