"""An honest backtest of the denial-risk model on a generated history whose truth is known.

    .venv/bin/python -m bench.risk_backtest [--items 20000] [--seed 7] [--split-day 270]

A year of decided items is drawn from known denial probabilities (`truth`): acme denies MRI of
the spine (family 721) without documentation 60 % of the time and 10 % with it; borealis denies
physical therapy (971) without a referral 45 % of the time; a missing diagnosis adds 25 points;
cascade denies CPAP (E06) 30 % of the time whatever is sent. The pre-submission rules know only
part of this (documentation for 721 and 705, a referral for 971, at every payer).

Time split, no leakage: the model is trained on items sent before `--split-day` and predicts the
items sent after. Printed for the model and two baselines in the same run (the payer's overall
denial rate in the training window; the rules-based findings alone: the training denial rate of
items with a finding, and without): Brier score, AUC and a calibration table, on the items the
model answers (it refuses thin cells); then the rates the model recovered against the truth.

On a hub's own store instead of a generated history (the same code reads it as `epa risk train` does):

    .venv/bin/python -m bench.risk_backtest --database URL [--client C] --split 2026-09-01

(without --client every client's history, pooled; stored requests carry no findings, so there the
findings baseline is the overall rate).
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.requirements.risk import History, ItemFeatures, Observation, RiskModel, train
from app.store.database import create_engine, create_session_factory

START = datetime(2026, 1, 1, tzinfo=UTC)
CODES = ("72148", "72141", "70551", "97110", "97140", "E0601", "99213")
PAYERS = (("acme", 0.08), ("borealis", 0.12), ("cascade", 0.05))
RULES_DOCUMENTATION = frozenset({"721", "705"})
RULES_REFERRAL = frozenset({"971"})
REASON = "https://codesystem.x12.org/external/886|"


def truth(f: ItemFeatures) -> float:
    """The known probability that the payer denies an item like `f`."""
    p = dict(PAYERS)[f.payer]
    if f.payer == "acme" and f.family == "721":
        p = 0.10 if f.documentation else 0.60
    if f.payer == "borealis" and f.family == "971":
        p = 0.10 if f.referral else 0.45
    if f.payer == "cascade" and f.family == "E06":
        p = 0.30
    if not f.diagnosis:
        p += 0.25
    return min(p, 0.95)


def findings_of(family: str, documentation: bool, referral: bool) -> tuple[str, ...]:
    found = []
    if family in RULES_DOCUMENTATION and not documentation:
        found.append("missing-documentation")
    if family in RULES_REFERRAL and not referral:
        found.append("missing-referral")
    return tuple(found)


def _reason(f: ItemFeatures) -> str:
    if not f.diagnosis:
        return REASON + "diagnosis"
    if f.family == "721" and not f.documentation:
        return REASON + "documentation"
    if f.family == "971" and not f.referral:
        return REASON + "referral"
    return REASON + "medical-necessity"


def generate(items: int, seed: int = 7, *, days: int = 365) -> list[Observation]:
    """`items` decided items over `days` days, each drawn from `truth`."""
    rng = random.Random(seed)
    history = []
    for _ in range(items):
        payer = rng.choice(PAYERS)[0]
        code = rng.choice(CODES)
        documentation, referral, diagnosis = rng.random() < 0.5, rng.random() < 0.4, rng.random() < 0.9
        family = code[:3]
        features = ItemFeatures(
            payer=payer,
            code=code,
            kind="prior" if rng.random() < 0.85 else "concurrent",
            documentation=documentation,
            referral=referral,
            diagnosis=diagnosis,
            findings=findings_of(family, documentation, referral),
        )
        denied = rng.random() < truth(features)
        appealed = denied and rng.random() < 0.3
        overturned = appealed and rng.random() < (0.5 if payer == "acme" else 0.2)
        at = START + timedelta(seconds=rng.uniform(0, days * 86400))
        history.append(Observation(features, at, denied, (_reason(features),) if denied else (), appealed, overturned))
    return sorted(history, key=lambda o: o.at)


def brier(predicted: Sequence[float], actual: Sequence[bool]) -> float:
    return sum((p - float(y)) ** 2 for p, y in zip(predicted, actual, strict=True)) / len(actual)


def auc(predicted: Sequence[float], actual: Sequence[bool]) -> float:
    """The probability that a denied item scores above an approved one (ties count half)."""
    ranked = sorted(zip(predicted, actual, strict=True), key=lambda pair: pair[0])
    rank_sum, position, i = 0.0, 1, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (position + position + (j - i) - 1) / 2
        rank_sum += mean_rank * sum(1 for _, y in ranked[i:j] if y)
        position += j - i
        i = j
    positives = sum(actual)
    negatives = len(actual) - positives
    if not positives or not negatives:
        return float("nan")
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


Band = tuple[str, int, float, float]


def calibration(predicted: Sequence[float], actual: Sequence[bool], bins: int = 5) -> list[Band]:
    """Per band of predicted probability: (band, items, mean predicted, observed denial rate)."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        pairs = zip(predicted, actual, strict=True)
        inside = [(p, y) for p, y in pairs if low <= p < high or (b == bins - 1 and p == 1)]
        if inside:
            mean = sum(p for p, _ in inside) / len(inside)
            rows.append((f"{low:.1f}-{high:.1f}", len(inside), mean, sum(y for _, y in inside) / len(inside)))
    return rows


@dataclass(frozen=True, slots=True)
class Scores:
    name: str
    brier: float
    auc: float
    calibration: list[Band]


@dataclass(frozen=True, slots=True)
class Backtest:
    trained_on: int
    tested_on: int
    answered: int
    model: RiskModel
    scores: tuple[Scores, ...]  # the model, then the payer-rate and findings baselines


def findings_baseline(history: Sequence[Observation]) -> Callable[[ItemFeatures], float]:
    """The rules-based findings alone: the denial rate of training items with a finding, and without."""
    with_finding = [o.denied for o in history if o.features.findings]
    without = [o.denied for o in history if not o.features.findings]
    rate_with = (sum(with_finding) + 1) / (len(with_finding) + 2)
    rate_without = (sum(without) + 1) / (len(without) + 2)
    return lambda f: rate_with if f.findings else rate_without


def backtest(
    history: Sequence[Observation], split: datetime, *, prior_strength: float = 10.0, min_sample: int = 20
) -> Backtest:
    """Train on the items sent before `split`, score the predictions for the items sent after."""
    before = [o for o in history if o.at < split]
    after = [o for o in history if o.at >= split]
    model = train(before, prior_strength=prior_strength, min_sample=min_sample)
    by_findings = findings_baseline(before)
    answered = [(o, model.estimate(o.features).probability) for o in after]
    scored = [(o, p) for o, p in answered if p is not None]
    actual = [o.denied for o, _ in scored]
    methods: list[tuple[str, Callable[[Observation, float], float]]] = [
        ("rates model", lambda o, p: p),
        ("payer's overall rate", lambda o, p: model.payer_rate(o.features.payer)),
        ("rules findings alone", lambda o, p: by_findings(o.features)),
    ]
    scores = []
    for name, predict in methods if scored else ():
        predicted = [predict(o, p) for o, p in scored]
        scores.append(Scores(name, brier(predicted, actual), auc(predicted, actual), calibration(predicted, actual)))
    return Backtest(len(before), len(after), len(scored), model, tuple(scores))


def _print(result: Backtest, *, probe: bool) -> None:
    print(
        f"trained on {result.trained_on} items, tested on {result.tested_on} later items, "
        f"{result.answered} answered ({result.answered / max(result.tested_on, 1):.1%}; "
        "the rest: not enough history)"
    )
    print(f"{'method':<22} {'Brier':>7} {'AUC':>6}")
    for s in result.scores:
        print(f"{s.name:<22} {s.brier:7.4f} {s.auc:6.3f}")
    for s in result.scores:
        print(f"calibration, {s.name}: band  items  predicted  observed")
        for band, n, mean, observed in s.calibration:
            print(f"  {band:>9} {n:6d}  {mean:9.3f}  {observed:8.3f}")
    if not probe:
        return
    print("recovered against the truth (prior requests with a diagnosis):")
    probes = [
        ItemFeatures("acme", "72148", "prior", False, False, True),
        ItemFeatures("acme", "72148", "prior", True, False, True),
        ItemFeatures("borealis", "97110", "prior", True, False, True),
        ItemFeatures("borealis", "97110", "prior", True, True, True),
        ItemFeatures("cascade", "E0601", "prior", False, False, True),
        ItemFeatures("cascade", "99213", "prior", False, False, True),
    ]
    for f in probes:
        e = result.model.estimate(f)
        shown = f"{e.probability:.3f}" if e.probability is not None else "not enough history"
        print(
            f"  {f.payer:<9} {f.code} doc={int(f.documentation)} ref={int(f.referral)}  "
            f"truth {truth(f):.2f}  model {shown}  (cell {e.sample}, profile {e.similar})"
        )


async def stored_history(url: str, client_id: str | None) -> list[Observation]:
    """Every decided item of a hub's store (one client's, or every client's when None)."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return [o async for o in History().observations(session, client_id)]
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--split-day", type=int, default=270)
    parser.add_argument("--min-sample", type=int, default=20)
    parser.add_argument("--prior-strength", type=float, default=10.0)
    parser.add_argument("--database", help="a hub's database URL: backtest its own history")
    parser.add_argument("--client", help="with --database: only this client's history")
    parser.add_argument("--split", type=date.fromisoformat, help="with --database: train before this day (UTC)")
    args = parser.parse_args(argv)
    if args.database:
        if args.split is None:
            parser.error("--database needs --split")
        history = asyncio.run(stored_history(args.database, args.client))
        split = datetime.combine(args.split, datetime.min.time(), tzinfo=UTC)
    else:
        history = generate(args.items, args.seed)
        split = START + timedelta(days=args.split_day)
    result = backtest(history, split, prior_strength=args.prior_strength, min_sample=args.min_sample)
    _print(result, probe=not args.database)


if __name__ == "__main__":
    main()
