"""`epa jobs run-now`: a queued job becomes due at once, audited as the operator who ran the command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.jobs.repository import enqueue, utc_now
from app.store.database import create_engine, create_session_factory
from app.store.models import AuditRecord, Job
from tests.support.processes import run_epa


async def test_jobs_run_now_moves_a_queued_job_and_audits_who(tmp_path: Path) -> None:
    env = {"EPA_DATA_DIR": str(tmp_path)}
    assert run_epa("db", "upgrade", env=env).returncode == 0
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'epa.sqlite3'}")
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            job = enqueue(session, "noop", {}, run_at=utc_now() + timedelta(days=1))
            await session.commit()

        ran = run_epa("jobs", "run-now", str(job.id), env=env)
        again = run_epa("webhooks", "send-now", "424242", env=env)
        audited = run_epa("audit", "--operation", "job.run-now", env=env)

        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == f"job {job.id} runs now"
        assert again.returncode == 2
        assert "not found" in again.stderr
        async with sessions() as session:
            moved = await session.get(Job, job.id)
            audit = (await session.execute(select(AuditRecord))).scalars().all()
        assert moved is not None
        assert moved.run_at <= utc_now()
        assert [(a.operation, a.resource_ids) for a in audit] == [("job.run-now", [str(job.id)])]
        assert audit[0].client_id.startswith("cli:")
        assert audited.stdout.split("\t")[2:6] == [audit[0].client_id, "job.run-now", "Job", str(job.id)]
    finally:
        await engine.dispose()
