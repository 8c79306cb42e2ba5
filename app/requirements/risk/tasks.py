"""The nightly training job `risk.train`: a new model version for every client (and the pooled one when
enabled), then again after EPA_RISK_TRAIN_INTERVAL_HOURS. Every worker makes sure one is queued
when it starts (`ensure_training_job`, first run at the next 02:00 UTC); should two appear, the
younger ends itself. `epa risk train` runs the same training at once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.contract import Handler, JobContext, Reschedule
from app.jobs.repository import enqueue
from app.maintenance.repository import live_job_of_kind
from app.requirements.risk.service import RiskSettings, train_all

TRAIN = "risk.train"
NIGHTLY_AT = time(2, 0)


def handlers(deps: RiskSettings) -> dict[str, Handler]:
    settings = deps.settings

    async def train(job: JobContext) -> Reschedule | None:
        if await live_job_of_kind(job.session, TRAIN, before_id=job.job_id) is not None:
            return None  # a twin from two workers starting together: the older one carries on
        await train_all(job.session, settings, now=job.now())
        return Reschedule(after=timedelta(hours=settings.risk_train_interval_hours))

    return {TRAIN: train}


def next_night(now: datetime) -> datetime:
    """The next 02:00 UTC after `now`."""
    at = datetime.combine(now.date(), NIGHTLY_AT, tzinfo=now.tzinfo)
    return at if at > now else at + timedelta(days=1)


async def ensure_training_job(session: AsyncSession, *, now: datetime) -> bool:
    """Queue the training job (at the next 02:00 UTC) unless one is queued or running; True when added."""
    if await live_job_of_kind(session, TRAIN) is not None:
        return False
    enqueue(session, TRAIN, {}, run_at=next_night(now), now=now, max_attempts=5)
    await session.flush()
    return True
