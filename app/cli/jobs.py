"""`epa jobs list|retry|run-now`: the queue, dead letters first of all."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import audit, run, table
from app.jobs.queries import MAX_PAGE, JobFilter, JobPage, list_jobs, retry_job, run_job_now
from app.jobs.repository import JobState, utc_now
from app.settings import Settings

jobs_cli = typer.Typer(help="Background jobs.", no_args_is_help=True)


@jobs_cli.command("list")
def list_(
    state: Annotated[JobState | None, typer.Option()] = JobState.DEAD,
    kind: Annotated[str | None, typer.Option()] = None,
    cursor: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE)] = 50,
) -> None:
    """Newest first (default: the dead ones): id, kind, state, attempts, run at, last error."""

    async def work(session: AsyncSession, _settings: Settings) -> JobPage:
        return await list_jobs(
            session, client_id=None, where=JobFilter(state=state, kind=kind), cursor=cursor, limit=limit
        )

    page = run(work)
    table(
        [
            (j.id, j.kind, j.state, f"{j.attempts}/{j.max_attempts}", j.run_at, (j.last_error or "")[:100])
            for j in page.jobs
        ],
        ("ID", "KIND", "STATE", "ATTEMPTS", "RUN_AT", "LAST_ERROR"),
        empty=f"no {state.value if state else ''} jobs".replace("  ", " "),
    )
    if page.next_cursor:
        typer.echo(f"next: --cursor {page.next_cursor}", err=True)


@jobs_cli.command("retry")
def retry(job_id: Annotated[int, typer.Argument()]) -> None:
    """Queue a dead job again, attempts reset, to run now."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await retry_job(session, job_id, client_id=None, now=utc_now())

    run(work)
    typer.echo(f"job {job_id} queued again")


@jobs_cli.command("run-now")
def run_now(job_id: Annotated[int, typer.Argument()]) -> None:
    """Run a queued job now: its planned time or backoff is skipped, its attempts kept (audited)."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await run_job_now(session, job_id, client_id=None, now=utc_now())
        audit(session, "job.run-now", "Job", [job_id])

    run(work)
    typer.echo(f"job {job_id} runs now")
