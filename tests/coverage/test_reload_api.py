"""Reload without restart over HTTP, and `epa rules check`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings
from tests.support.coverage import client_with_rules, pas_bundle, post_fhir
from tests.support.pas import review_actions

V1 = 'format = 1\nversion = "v1"\npayers = ["sandbox"]\n'
FREE = '[[rule]]\nid = "free"\ncodes = ["E0100"]\nauthorization = "not-required"\n'


async def test_reload_puts_new_rules_in_force_and_a_broken_file_keeps_the_old(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    directory = tmp_path / "rules"
    async with client_with_rules(settings, directory, V1) as client:
        assert (await client.get("/coverage-rules")).json()["payers"]["sandbox"]["version"] == "v1"
        before = await post_fhir(client, "/fhir/Claim/$submit", pas_bundle("E0100", tag="1"))
        assert review_actions(before.json()) == {1: "A1"}
        (directory / "sandbox.toml").write_text(V1.replace("v1", "v2") + FREE)
        reloaded = await client.post("/coverage-rules/reload")
        assert reloaded.status_code == 200
        assert reloaded.json()["payers"]["sandbox"]["version"] == "v2"
        after = await post_fhir(client, "/fhir/Claim/$submit", pas_bundle("E0100", tag="2"))
        assert review_actions(after.json()) == {1: "NA"}
        (directory / "sandbox.toml").write_text(V1 + "[[rule]]\nid = 1\n")
        broken = await client.post("/coverage-rules/reload")
        assert broken.status_code == 422
        assert "sandbox.toml:5" in broken.json()["detail"]
        assert (await client.get("/coverage-rules")).json()["payers"]["sandbox"]["version"] == "v2"


def test_rules_check_prints_each_payer_or_the_broken_line(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(V1.replace("sandbox", "acme") + FREE)
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 0
    assert "acme:" in result.output
    assert "1 rules" in result.output
    (tmp_path / "acme.toml").write_text(V1 + "[[rule]]\nid = 1\n")
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "acme.toml:5:" in result.output
