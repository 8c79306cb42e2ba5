"""Training from the store (both backends): a history with chosen counts, the estimates it gives, the
minimum-sample refusal, per-client separation, versions, the nightly job and `epa risk train`."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.jobs.loop import Worker
from app.requirements import risk
from app.runtime import Runtime
from app.store.models import Job, RiskModelVersion
from app.worker import default_handlers
from bench.risk_backtest import backtest, stored_history
from tests.requirements.risk.history import Batch, add_history
from tests.support.clock import MovableClock
from tests.support.processes import run_epa

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NO_DOCS = risk.ItemFeatures("acme", "72148", "prior", documentation=False, referral=False, diagnosis=True)
DOCS = risk.ItemFeatures("acme", "72148", "prior", documentation=True, referral=False, diagnosis=True)

# acme denies MRI of the spine without documentation 60 % of the time, 10 % with it; 99213 rarely
ACME = [
    Batch("clinic-a", "acme", "72148", 50, 30, appealed_overturned=6),
    Batch("clinic-a", "acme", "72148", 40, 4, documentation=True),
    Batch("clinic-a", "acme", "72148", 10, 1, attached=9),  # documentation sent afterwards, by CDex
    Batch("clinic-a", "acme", "99213", 30, 1, documentation=True),
]


async def _model(runtime: Runtime, client_id: str) -> risk.LoadedModel | None:
    async with runtime.sessions() as session:
        return await risk.model_for(session, client_id, runtime.settings)


async def _train(runtime: Runtime, **settings: object) -> list[risk.Trained]:
    async with runtime.sessions() as session:
        done = await risk.train_all(session, runtime.settings.model_copy(update=settings), now=START)
        await session.commit()
    return done


async def test_training_counts_the_stored_history_into_the_known_rates(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await add_history(session, ACME, START)
    [trained] = await _train(runtime)
    assert (trained.client_id, trained.version, trained.items, trained.skipped) == ("clinic-a", 1, 130, 0)
    loaded = await _model(runtime, "clinic-a")
    assert loaded is not None
    without, with_docs = loaded.model.estimate(NO_DOCS), loaded.model.estimate(DOCS)
    # 51 without documentation, 31 denied (six overturned on appeal still count as denied); 49 with it
    # (nine by a later attachment), 4 denied
    assert (without.sample, without.similar, with_docs.similar) == (100, 51, 49)
    m = runtime.settings.risk_prior_strength
    hub = (36 + 1) / (130 + 2)
    payer = (36 + m * hub) / (130 + m)
    cell = (35 + m * payer) / (100 + m)
    assert without.probability == pytest.approx((31 + m * cell) / (51 + m))
    assert with_docs.probability == pytest.approx((4 + m * cell) / (49 + m))
    assert without.probability == pytest.approx(0.6, abs=0.05)
    assert with_docs.probability == pytest.approx(0.1, abs=0.05)
    assert [(a.factor, a.probability) for a in without.lower] == [("documentation", with_docs.probability)]
    assert without.reasons == (("https://codesystem.x12.org/external/886|documentation", 29),)
    [acme] = risk.payer_table(loaded.model)
    assert (acme.items, acme.denied, acme.appealed, acme.overturned) == (130, 36, 6, 6)


async def test_a_thin_cell_says_not_enough_history(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await add_history(session, [Batch("clinic-a", "acme", "72148", 19, 10)], START)
    await _train(runtime)
    loaded = await _model(runtime, "clinic-a")
    assert loaded is not None
    estimate = loaded.model.estimate(NO_DOCS)
    assert estimate.probability is None
    assert estimate.sample == 19
    text = risk.describe(NO_DOCS, estimate, loaded.model.min_sample)
    assert text == "denial risk: not enough history (19 decided items for acme, service family 721, prior; 20 needed)"


async def test_a_clients_history_never_answers_another_unless_pooled(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await add_history(session, [*ACME, Batch("clinic-b", "acme", "99213", 25, 0)], START)
    trained = await _train(runtime)
    assert [t.client_id for t in trained] == ["clinic-a", "clinic-b"]
    own = await _model(runtime, "clinic-b")
    assert own is not None
    assert own.pooled is False
    assert own.model.estimate(NO_DOCS).probability is None  # clinic-b never sent acme an MRI
    assert own.model.estimate(NO_DOCS).sample == 0
    assert await _model(runtime, "clinic-c") is None

    pooled = await _train(runtime, risk_pooled=True)
    assert [t.client_id for t in pooled] == ["clinic-a", "clinic-b", None]
    settings = runtime.settings.model_copy(update={"risk_pooled": True})
    async with runtime.sessions() as session:
        shared = await risk.model_for(session, "clinic-c", settings)
    assert shared is not None
    assert shared.pooled is True
    assert shared.model.estimate(NO_DOCS).probability == pytest.approx(0.6, abs=0.05)


async def test_each_training_is_a_new_version_and_old_ones_go(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await add_history(session, ACME[:1], START)
    for _ in range(7):
        await _train(runtime)
    async with runtime.sessions() as session:
        versions = list(await session.scalars(select(RiskModelVersion.version).order_by(RiskModelVersion.version)))
    assert versions == [3, 4, 5, 6, 7]
    loaded = await _model(runtime, "clinic-a")
    assert loaded is not None
    assert loaded.version == 7


async def test_the_nightly_job_trains_and_comes_back(runtime: Runtime, clock: MovableClock) -> None:
    async with runtime.sessions() as session:
        await add_history(session, ACME[:1], START)
        assert await risk.ensure_training_job(session, now=clock.now)
        assert not await risk.ensure_training_job(session, now=clock.now)
        job = await session.scalar(select(Job).where(Job.kind == risk.TRAIN))
        assert job is not None
        assert (job.run_at.hour, job.run_at.minute) == (2, 0)
        assert timedelta(0) < job.run_at - clock.now <= timedelta(days=1)
        await session.commit()
    clock.advance(timedelta(days=1))
    await Worker(runtime.sessions, default_handlers(runtime), clock=clock).run_once()
    loaded = await _model(runtime, "clinic-a")
    assert loaded is not None
    assert loaded.model.hub.n == 50
    async with runtime.sessions() as session:
        again = await session.scalar(select(Job).where(Job.kind == risk.TRAIN))
        assert again is not None
        assert again.state == "queued"
        assert again.run_at == clock.now + timedelta(hours=runtime.settings.risk_train_interval_hours)


async def test_epa_risk_train_and_payers(runtime: Runtime, tmp_path: Path) -> None:
    async with runtime.sessions() as session:
        await add_history(session, ACME, START)
    env = {"EPA_DATABASE_URL": runtime.settings.effective_database_url, "EPA_DATA_DIR": str(tmp_path)}
    trained = await asyncio.to_thread(run_epa, "risk", "train", env=env)
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout == "clinic-a: model v1 from 130 decided items\n"
    table = await asyncio.to_thread(run_epa, "risk", "payers", "--client", "clinic-a", env=env)
    assert table.returncode == 0, table.stderr
    assert "acme\t130\t36\t27.7%\t6\t6\t100.0%" in table.stdout.splitlines()
    missing: subprocess.CompletedProcess[str] = await asyncio.to_thread(
        run_epa, "risk", "payers", "--client", "nobody", env=env
    )
    assert missing.returncode == 2
    assert "epa risk train" in missing.stderr


async def test_the_backtest_reads_a_hubs_own_store(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await add_history(session, [*ACME, Batch("clinic-b", "acme", "99213", 25, 0)], START)
    history = await stored_history(runtime.settings.effective_database_url, "clinic-a")
    assert len(history) == 130
    assert [o.at for o in history] == sorted(o.at for o in history)
    assert sum(o.denied for o in history) == 36
    assert sum(o.overturned for o in history) == 6
    result = backtest(history, history[120].at, min_sample=5)
    assert (result.trained_on, result.tested_on, result.answered) == (120, 10, 10)
    assert [s.name for s in result.scores] == ["rates model", "payer's overall rate", "rules findings alone"]
    assert backtest(history, history[3].at).scores == ()  # nothing answered: no scores, no division by zero
