"""The `epa` command as an operator meets it: one clear line on bad configuration, safe start-up."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app import __version__
from tests.support.databases import POSTGRES_ENV, fresh_database, postgres_admin_url
from tests.support.processes import free_port, run_epa, serving


def _one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("epa: ")
    return lines[0]


def test_version() -> None:
    result = run_epa("--version", env={})
    assert result.returncode == 0
    assert result.stdout.strip() == f"epa {__version__}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EPA_PORT": "eighty"}, "EPA_PORT"),
        ({"EPA_LOG_LEVEL": "loud"}, "EPA_LOG_LEVEL"),
        ({"EPA_DATABASE_URL": "postgres is here"}, "malformed database URL"),
        ({"EPA_DATABASE_URL": "mysql://root@127.0.0.1/x"}, "unsupported database driver"),
        ({"EPA_DEVELOPMENT": "true", "EPA_HOST": "0.0.0.0"}, "loopback"),
        ({"EPA_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}, "cannot use the database"),
        ({"EPA_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}, "cannot use the database"),
        ({"EPA_PROT": "8080"}, "unknown setting EPA_PROT"),
        ({"EPA_PUBLIC_BASE_URL": "epa.example.org"}, "EPA_PUBLIC_BASE_URL: must be an absolute http(s) URL"),
        ({"EPA_PUBLIC_BASE_URL": "ftp://epa.example.org"}, "EPA_PUBLIC_BASE_URL: must be an absolute http(s) URL"),
        ({"EPA_WEBHOOK_RETRY_SCHEDULE": "[5, 300"}, "EPA_WEBHOOK_RETRY_SCHEDULE: not valid JSON"),
        ({"EPA_WEBHOOK_SECRET_KEYS": "key-one"}, "EPA_WEBHOOK_SECRET_KEYS: not valid JSON"),
        ({"EPA_TOKEN_SIGNING_KEY": ""}, "EPA_TOKEN_SIGNING_KEY: not set"),
    ],
)
def test_bad_configuration_stops_with_one_line(env: dict[str, str], message: str, tmp_path: Path) -> None:
    result = run_epa("serve", env={"EPA_DATA_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    assert message in _one_clear_line(result.stderr)


def test_every_configuration_problem_is_listed_on_the_one_line(tmp_path: Path) -> None:
    env = {
        "EPA_DATA_DIR": str(tmp_path),
        "EPA_PORT": "0",
        "EPA_PUBLIC_BASE_URL": "epa.example.org",
        "EPA_WEBHOOK_RETRY_SCHEDULE": "[5,",
        "EPA_WEBHOOK_SECRET_KEYS": "nope",
        "EPA_PAYERS_FIEL": "payers.toml",
    }
    line = _one_clear_line(run_epa("serve", env=env).stderr)
    for name in ("EPA_PORT", "EPA_PUBLIC_BASE_URL", "EPA_WEBHOOK_RETRY_SCHEDULE", "EPA_WEBHOOK_SECRET_KEYS"):
        assert f"{name}: " in line
    assert "unknown setting EPA_PAYERS_FIEL" in line
    assert "more)" not in line


def test_serve_on_the_sqlite_default_migrates_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true"}
    with serving(env, port):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
    assert (tmp_path / "epa.sqlite3").is_file()


async def test_serve_refuses_an_empty_postgres_until_db_upgrade(tmp_path: Path) -> None:
    if postgres_admin_url() is None:
        pytest.skip(f"needs {POSTGRES_ENV}")
    async with fresh_database("postgresql", tmp_path) as url:
        env = {"EPA_DATABASE_URL": url, "EPA_DEVELOPMENT": "true"}
        refused = run_epa("serve", "--port", str(free_port()), env=env)
        assert refused.returncode == 2
        assert "run `epa db upgrade`" in _one_clear_line(refused.stderr)

        upgraded = run_epa("db", "upgrade", env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        port = free_port()
        with serving(env, port):
            assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"


def test_a_broken_payer_configuration_stops_serve_with_one_line(tmp_path: Path) -> None:
    payers = tmp_path / "payers.toml"
    payers.write_text('[[payer]]\nid = "acme"\nadapter = "no-such-adapter"\n')
    result = run_epa(
        "serve", env={"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true", "EPA_PAYERS_FILE": str(payers)}
    )
    assert result.returncode == 2
    line = _one_clear_line(result.stderr)
    assert "acme" in line
    assert "no-such-adapter" in line


def _plug_ins(folder: Path, *, broken: bool) -> dict[str, str]:
    """An installed distribution (a dist-info on PYTHONPATH): an adapter built for contract 0, and a broken one."""
    (folder / "old_epa_adapter.py").write_text(
        "class OldAdapter:\n"
        "    contract_version = 0\n"
        "    def __init__(self, settings, context):\n"
        "        raise AssertionError('never started')\n"
    )
    dist = folder / "old_epa_adapter-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: old-epa-adapter\nVersion: 1.0\n")
    points = "[epa.payers]\nold = old_epa_adapter:OldAdapter\n"
    (dist / "entry_points.txt").write_text(points + ("broken = no_such_epa_module:create_adapter\n" if broken else ""))
    return {"PYTHONPATH": str(folder)}


def test_an_adapter_built_for_another_contract_stops_serve_with_one_line(tmp_path: Path) -> None:
    payers = tmp_path / "payers.toml"
    payers.write_text('[[payer]]\nid = "acme"\nadapter = "old"\n')
    env = {"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true", "EPA_PAYERS_FILE": str(payers)}
    result = run_epa("serve", env={**env, **_plug_ins(tmp_path, broken=False)})
    assert result.returncode == 2
    assert _one_clear_line(result.stderr) == (
        "epa: payer configuration: payer 'acme' (adapter 'old'): built for payer adapter contract 0, "
        "but this hub speaks contract 1; install a release of the adapter built for contract 1"
    )


def test_a_broken_plug_in_no_payer_uses_does_not_stop_serve(tmp_path: Path) -> None:
    payers = tmp_path / "payers.toml"
    payers.write_text('[[payer]]\nid = "sbx"\nadapter = "sandbox"\ndefault = true\n')
    env = {"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true", "EPA_PAYERS_FILE": str(payers)}
    port = free_port()
    with serving({**env, **_plug_ins(tmp_path, broken=True)}, port):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"


def test_serve_logs_the_absolute_sqlite_path_it_uses(tmp_path: Path) -> None:
    port = free_port()
    env = {"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true"}
    with serving(env, port) as process:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"database: SQLite at {tmp_path.resolve() / 'epa.sqlite3'}" in output
    assert "\x1b[" not in output
    messages = [line.split('"message": ')[1].split('", "')[0] for line in output.splitlines() if '"message": ' in line]
    startup = [m for m in messages if "request" not in m]
    assert len(startup) == len(set(startup)), f"a start-up message was logged twice: {startup}"
