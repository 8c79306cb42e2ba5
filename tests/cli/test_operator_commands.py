"""The operator commands of `epa`, run as an operator runs them (a subprocess on the real database)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from app.domain.codes import Priority
from app.jobs.repository import enqueue
from app.runtime import Runtime
from app.security.registry import add_client, get_client
from app.store import migrate
from app.store.models import Job, WebhookDelivery, WebhookEndpoint
from tests.support.auth import client_key
from tests.support.clock import MovableClock
from tests.support.processes import run_epa
from tests.support.rows import make_authorization


async def epa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_epa, *args, env=env)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_authorizations_jobs_and_webhooks_commands(runtime: Runtime, clock: MovableClock, tmp_path: Path) -> None:
    now = clock.now
    authorization = make_authorization("clinic-a", now)
    authorization.priority = Priority.STANDARD
    async with runtime.sessions() as session:
        session.add(authorization)
        job = enqueue(session, "noop", {}, now=now)
        job.state, job.last_error = "dead", "boom"
        endpoint = WebhookEndpoint(
            client_id="clinic-a",
            url="https://e.example/h",
            event_types=["*"],
            secret="s",
            created_at=now,
            updated_at=now,
        )
        session.add(endpoint)
        await session.flush()
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            client_id="clinic-a",
            message_id="msg_cli",
            event_type="authorization.pended",
            payload={},
            occurred_at=now,
            state="failed",
            attempts=8,
            created_at=now,
        )
        session.add(delivery)
        await session.commit()
        job_id, delivery_id = job.id, delivery.id
    env = {"EPA_DATABASE_URL": runtime.settings.effective_database_url, "EPA_DATA_DIR": str(tmp_path)}

    listed = _ok(await epa(env, "authorizations", "list", "--status", "pended"))
    assert str(authorization.id) in listed
    shown = json.loads(_ok(await epa(env, "authorizations", "show", str(authorization.id))))
    assert shown["status"] == "pended"
    assert "timeline" in shown

    assert f"{job_id}\tnoop\tdead" in _ok(await epa(env, "jobs", "list"))
    assert "queued again" in _ok(await epa(env, "jobs", "retry", str(job_id)))
    again = await epa(env, "jobs", "retry", str(job_id))
    assert again.returncode == 2
    assert again.stderr.startswith("epa: ")
    assert "only a dead job" in again.stderr

    assert f"{delivery_id}\tauthorization.pended\tfailed" in _ok(
        await epa(env, "webhooks", "deliveries", str(endpoint.id))
    )
    _ok(await epa(env, "webhooks", "redeliver", str(delivery_id)))
    async with runtime.sessions() as session:
        assert (await session.get(Job, job_id)).state == "queued"  # type: ignore[union-attr]
        redelivered = await session.get(WebhookDelivery, delivery_id)
        assert redelivered is not None
        assert redelivered.state == "pending"


async def test_clients_update_rotate_keys_and_remove(runtime: Runtime, tmp_path: Path) -> None:
    async with runtime.sessions() as session:
        await add_client(session, "ehr-z", scopes=["system/Claim.write"], jwks=client_key().jwks)
        await session.commit()
    env = {"EPA_DATABASE_URL": runtime.settings.effective_database_url, "EPA_DATA_DIR": str(tmp_path)}
    scopes = ("--scope", "system/Claim.write", "--scope", "system/ClaimResponse.read")
    _ok(await epa(env, "clients", "update", "ehr-z", *scopes, "--admin"))
    new_keys = tmp_path / "jwks.json"
    new_keys.write_text(json.dumps(client_key("ES384", kid="rotated").jwks))
    _ok(await epa(env, "clients", "rotate-keys", "ehr-z", "--jwks-file", str(new_keys)))
    async with runtime.sessions() as session:
        registration = await get_client(session, "ehr-z")
        assert registration is not None
        assert registration.scopes == ["system/Claim.write", "system/ClaimResponse.read"]
        assert registration.admin is True
        assert registration.jwks is not None
        assert registration.jwks["keys"][0]["kid"] == "rotated"
    bad = await epa(env, "clients", "update", "ehr-z", "--scope", "system/Everything.*")
    assert bad.returncode == 2
    assert "unknown scopes" in bad.stderr
    _ok(await epa(env, "clients", "remove", "ehr-z"))
    async with runtime.sessions() as session:
        assert await get_client(session, "ehr-z") is None


def test_payers_check_names_the_problem_in_one_line(tmp_path: Path) -> None:
    good = tmp_path / "payers.toml"
    good.write_text('[[payer]]\nid = "acme"\nadapter = "sandbox"\ndefault = true\n')
    result = run_epa("payers", "check", str(good), env={"EPA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme\tsandbox\tdefault")
    broken = tmp_path / "broken.toml"
    broken.write_text('[[payer]]\nid = "acme"\nadapter = "no-such-adapter"\n')
    refused = run_epa("payers", "check", str(broken), env={"EPA_DATA_DIR": str(tmp_path)})
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "no-such-adapter" in refused.stderr


def test_db_history_and_downgrade_on_a_fresh_sqlite_database(tmp_path: Path) -> None:
    env = {"EPA_DATA_DIR": str(tmp_path)}
    upgraded = run_epa("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgrading the database (SQLite at" in upgraded.stderr
    history = run_epa("db", "history", env=env)
    assert history.returncode == 0, history.stderr
    head = migrate.head_revision()
    assert history.stdout.splitlines()[0].startswith(f"{head} (current)")
    refused = run_epa("db", "downgrade", env=env)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    stepped = run_epa("db", "downgrade", "--yes", env=env)
    assert stepped.returncode == 0, stepped.stderr
    previous = history.stdout.splitlines()[1].split("\t")[0]
    assert stepped.stdout.strip() == f"database is at revision {previous}"
    assert f"current: {previous}" in run_epa("db", "current", env=env).stdout
