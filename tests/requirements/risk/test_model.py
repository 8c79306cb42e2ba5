"""The rates model and the backtest on generated histories whose truth is known (pure, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.requirements.risk import ItemFeatures, Observation, RiskModel, train
from bench.risk_backtest import START, auc, backtest, brier, findings_baseline, generate, truth

MRI_NO_DOCS = ItemFeatures("acme", "72148", "prior", documentation=False, referral=False, diagnosis=True)
MRI_DOCS = ItemFeatures("acme", "72148", "prior", documentation=True, referral=False, diagnosis=True)


@pytest.fixture(scope="module")
def history() -> list[Observation]:
    return generate(12_000, seed=3)


def test_the_model_recovers_a_payer_that_denies_a_family_without_documentation(history: list[Observation]) -> None:
    model = train(history)
    without, with_docs = model.estimate(MRI_NO_DOCS), model.estimate(MRI_DOCS)
    assert without.probability == pytest.approx(truth(MRI_NO_DOCS), abs=0.06)
    assert with_docs.probability == pytest.approx(truth(MRI_DOCS), abs=0.05)
    assert [a.factor for a in without.lower] == ["documentation"]
    assert without.lower[0].probability == with_docs.probability
    assert "documentation" in [lack.factor for lack in without.lacking]
    assert without.reasons[0][0].endswith("|documentation")
    assert without.sample > without.similar > 100


def test_thin_history_is_refused_with_its_sample() -> None:
    few = [Observation(MRI_NO_DOCS, START + timedelta(days=n), denied=n % 2 == 0) for n in range(19)]
    assert train(few, min_sample=20).estimate(MRI_NO_DOCS).probability is None
    assert train(few, min_sample=20).estimate(MRI_NO_DOCS).sample == 19
    assert train([*few, few[0]], min_sample=20).estimate(MRI_NO_DOCS).probability is not None


def test_rates_are_smoothed_toward_the_payer_then_the_hub() -> None:
    # 20 items, all denied, in a cell of a payer that otherwise approves 80 of 80
    other = ItemFeatures("acme", "99213", "prior", True, True, True)
    history = [Observation(MRI_NO_DOCS, START, True) for _ in range(20)]
    history += [Observation(other, START, False) for _ in range(80)]
    model = train(history, prior_strength=10, min_sample=20)
    hub = 21 / 102
    payer = (20 + 10 * hub) / (100 + 10)
    cell = (20 + 10 * payer) / 30
    assert model.estimate(MRI_NO_DOCS).probability == pytest.approx((20 + 10 * cell) / 30)


def test_the_model_round_trips_as_data(history: list[Observation]) -> None:
    model = train(history[:2000])
    again = RiskModel.from_data(model.to_data())
    assert again.estimate(MRI_NO_DOCS) == model.estimate(MRI_NO_DOCS)


def test_the_backtest_scores_the_model_against_both_baselines_after_the_split(history: list[Observation]) -> None:
    split = START + timedelta(days=270)
    result = backtest(history, split)
    before = [o for o in history if o.at < split]
    assert result.trained_on == len(before)
    assert result.tested_on == len(history) - len(before)
    model, payer, findings = result.scores
    assert (payer.name, findings.name) == ("payer's overall rate", "rules findings alone")
    assert model.brier < findings.brier
    assert model.brier < payer.brier
    assert model.auc > findings.auc > 0.5
    # the findings baseline is the training denial rate with a finding and without
    with_finding = [o.denied for o in before if o.features.findings]
    flagged = replace(MRI_NO_DOCS, findings=("missing-documentation",))
    assert findings_baseline(before)(flagged) == pytest.approx((sum(with_finding) + 1) / (len(with_finding) + 2))


def test_brier_and_auc_on_known_values() -> None:
    assert brier([0.0, 1.0, 0.5], [False, True, True]) == pytest.approx(0.25 / 3)
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auc([0.5, 0.5], [False, True]) == pytest.approx(0.5)
