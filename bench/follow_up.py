"""Cost of one follow-up of a pended request (run: `.venv/bin/python -m bench.follow_up`).

Submits `--requests` Bundles the sandbox pends (E0470: decided two minutes later), moves the clock
past the decision, and lets one worker follow every request up. Prints, per follow-up: SQL
statements and commits (SQLAlchemy events; the worker's claim and completion included), process
CPU ms, and how many FHIR validations ran (`app.fhir.submit.load_bundle` calls; the target is 0).
SQLite by default; `--database-url` for PostgreSQL (a database you created and may fill).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, func, select, update

import app.fhir.submit
from app.authorizations import submit_prior_auth
from app.fhir.submit import parse_submit
from app.jobs.loop import Worker
from app.runtime import build_runtime
from app.security.principal import DEVELOPMENT_PRINCIPAL
from app.settings import Settings
from app.store import migrate
from app.store.database import create_engine
from app.store.models import Job
from app.worker import default_handlers
from bench.payload import pas_bundle
from bench.submit import bodies_for


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime.now(UTC)

    def __call__(self) -> Any:
        return self.now


async def run(url: str, requests: int, data_dir: Path) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    clock = Clock()
    settings = Settings(database_url=url, development=True, data_dir=data_dir, embedded_worker=False, _env_file=None)
    template = orjson.dumps(pas_bundle(items=3)).replace(b'"99212"', b'"E0470"')
    body = bodies_for(template)
    async with build_runtime(settings, clock=clock) as runtime:
        for i in range(requests):
            await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(body(i)))
        clock.now += timedelta(minutes=10)
        counts = {"statements": 0, "commits": 0, "validations": 0}
        validate = app.fhir.submit.load_bundle  # type: ignore[attr-defined]

        def counted(*args: Any) -> Any:
            counts["validations"] += 1
            return validate(*args)

        app.fhir.submit.load_bundle = counted  # type: ignore[attr-defined,assignment]

        def count(name: str) -> Any:
            def add(*_args: Any) -> None:
                counts[name] += 1

            return add

        event.listen(runtime.engine.sync_engine, "before_cursor_execute", count("statements"))
        event.listen(runtime.engine.sync_engine, "commit", count("commits"))
        handlers = dict(default_handlers(runtime))
        follow_up = handlers["authorization.follow_up"]
        inside = {"statements": 0, "cpu": 0.0}

        async def measured(job: Any) -> Any:
            before, started = counts["statements"], time.process_time()
            try:
                return await follow_up(job)
            finally:
                inside["statements"] += counts["statements"] - before
                inside["cpu"] += time.process_time() - started

        handlers["authorization.follow_up"] = measured
        # Only the follow-ups run: the notification jobs the submits queued are set aside first.
        async with runtime.sessions.begin() as session:
            await session.execute(
                update(Job).where(Job.kind != "authorization.follow_up").values(state="done", updated_at=clock.now)
            )
        baseline = dict(counts)
        worker = Worker(runtime.sessions, handlers, clock=clock, batch_size=1, concurrency=1)
        cpu = time.process_time()
        while await worker.run_once():
            pass
        cpu = time.process_time() - cpu
        async with runtime.sessions() as session:
            done = await session.scalar(
                select(func.count()).select_from(Job).where(Job.kind == "authorization.follow_up", Job.state == "done")
            )
    n = max(int(done or 0), 1)
    statements = counts["statements"] - baseline["statements"]
    print(f"{url.split(':')[0]}: {done} follow-ups of pended requests, each decided by it")
    print(
        f"  in the follow-up handler: {inside['statements'] / n:.1f} SQL statements, "
        f"{inside['cpu'] * 1000 / n:.2f} ms CPU, {counts['validations'] / n:.1f} FHIR validations per follow-up"
    )
    print(
        f"  whole worker pass (claims, completions, the notification jobs they queue): "
        f"{statements / n:.1f} statements, {(counts['commits'] - baseline['commits']) / n:.1f} commits, "
        f"{cpu * 1000 / n:.2f} ms CPU per follow-up"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/follow-up.sqlite3"
        asyncio.run(run(url, args.requests, Path(tmp)))


if __name__ == "__main__":
    main()
