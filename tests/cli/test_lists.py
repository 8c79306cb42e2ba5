"""Every CLI list has a header row and says so when it is empty (both on stderr, so pipes read data
only); `epa webhooks list`, `epa audit`; `epa payers check` defaults to EPA_PAYERS_FILE."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.auth import client_key
from tests.support.processes import run_epa


def _said(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("epa: database:")]


def test_empty_lists_say_so_and_lists_have_a_header(tmp_path: Path) -> None:
    env = {"EPA_DATA_DIR": str(tmp_path)}
    for args, empty in [
        (("clients", "list"), "epa: no clients registered"),
        (("webhooks", "list"), "epa: no webhook endpoints"),
        (("jobs", "list"), "epa: no dead jobs"),
        (("authorizations", "list"), "epa: no authorizations match"),
        (("audit",), "epa: no audit records match"),
    ]:
        result = run_epa(*args, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert _said(result.stderr) == [empty]

    (tmp_path / "jwks.json").write_text(json.dumps(client_key("ES384").jwks))
    jwks = str(tmp_path / "jwks.json")
    assert (
        run_epa("clients", "add", "ehr-a", "--jwks-file", jwks, "--scope", "system/Claim.write", env=env).returncode
        == 0
    )
    listed = run_epa("clients", "list", env=env)
    assert _said(listed.stderr) == ["CLIENT\tSTATE\tADMIN\tKEYS\tSCOPES"]
    assert listed.stdout == "ehr-a\tenabled\t-\tjwks:inline\tsystem/Claim.write\n"


def test_payers_check_defaults_to_the_configured_payers_file(tmp_path: Path) -> None:
    payers = tmp_path / "payers.toml"
    payers.write_text('[[payer]]\nid = "acme"\nadapter = "sandbox"\ndefault = true\n')

    configured = run_epa("payers", "check", env={"EPA_DATA_DIR": str(tmp_path), "EPA_PAYERS_FILE": str(payers)})
    unconfigured = run_epa("payers", "check", env={"EPA_DATA_DIR": str(tmp_path)})

    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.startswith("acme\tsandbox\tdefault")
    assert configured.stderr.splitlines()[0] == "PAYER\tADAPTER\tDEFAULT\tMATCH"
    assert unconfigured.returncode == 2
    assert "set EPA_PAYERS_FILE" in unconfigured.stderr


def test_db_history_explains_the_missing_migration_numbers(tmp_path: Path) -> None:
    history = run_epa("db", "history", env={"EPA_DATA_DIR": str(tmp_path)})

    assert history.returncode == 0, history.stderr
    explained = [line for line in history.stderr.splitlines() if line.startswith("epa: no migration ")]
    assert len(explained) == 1
    assert "0011" in explained[0]
    assert "never reused" in explained[0]
    assert "0011" not in history.stdout
