"""The explainable denial-risk model: Beta-smoothed denial rates over the hub's history (pure).

Counts, not weights. For each (payer, service family, kind) cell the model keeps how many items
were decided and denied, the payer's denial reasons, and the same counts split by the item's
profile (documentation sent, referral sent, diagnosis present). A rate is smoothed toward its
parent with a Beta prior of `prior_strength` pseudo-observations:

    hub      (denied + 1) / (n + 2)
    payer    (denied + m * hub) / (n + m)
    cell     (denied + m * payer) / (n + m)          payer, family, kind
    profile  (denied + m * cell) / (n + m)           the same cell, the same documentation/referral/diagnosis

The answer is the profile's rate, or "not enough history" when the cell holds fewer than
`min_sample` decided items. The model is plain data (`to_data`/`from_data`): stored as JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.requirements.risk.features import FACTORS, ItemFeatures, Observation

TOP_REASONS = 3
LACKING_GAP = 0.2  # approved items had a factor at least this much more often than denied ones
LOWER_GAP = 0.05  # adding a factor (one approved items had more often) lowers the estimate this much


@dataclass(slots=True)
class Tally:
    n: int = 0
    denied: int = 0

    def add(self, denied: bool) -> None:
        self.n += 1
        self.denied += int(denied)

    def toward(self, prior: float, strength: float) -> float:
        """The denial rate, smoothed toward `prior` with `strength` pseudo-observations."""
        return (self.denied + strength * prior) / (self.n + strength)


def profile_of(features: ItemFeatures) -> str:
    """The item's profile key: one digit per factor ("101": documentation, no referral, a diagnosis)."""
    return "".join("1" if features.has(f) else "0" for f in FACTORS)


@dataclass(slots=True)
class PayerCounts:
    total: Tally = field(default_factory=Tally)
    appealed: int = 0  # denied items whose denial was appealed
    overturned: int = 0  # of those, overturned on appeal


@dataclass(slots=True)
class Cell:
    total: Tally = field(default_factory=Tally)
    reasons: Counter[str] = field(default_factory=Counter)
    profiles: dict[str, Tally] = field(default_factory=dict)

    def factor_shares(self, factor: int) -> tuple[float | None, float | None]:
        """Share of approved items, and of denied ones, that had the factor at position `factor`."""
        approved = [(t.n - t.denied, key[factor] == "1") for key, t in self.profiles.items()]
        denied = [(t.denied, key[factor] == "1") for key, t in self.profiles.items()]
        return _share(approved), _share(denied)


def _share(counts: list[tuple[int, bool]]) -> float | None:
    total = sum(n for n, _ in counts)
    return sum(n for n, had in counts if had) / total if total else None


@dataclass(frozen=True, slots=True)
class Advice:
    factor: str  # documentation | referral | diagnosis
    probability: float  # the estimate had the item had it


@dataclass(frozen=True, slots=True)
class Lacking:
    factor: str
    approved_share: float  # share of approved items of the cell that had it
    denied_share: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """The denial risk of one item; `probability` is None when the history is too thin to say."""

    probability: float | None
    sample: int  # decided items of the same payer, family and kind
    similar: int  # of those, with the same profile
    payer_rate: float | None
    reasons: tuple[tuple[str, int], ...] = ()
    lacking: tuple[Lacking, ...] = ()
    lower: tuple[Advice, ...] = ()

    @property
    def enough(self) -> bool:
        return self.probability is not None


@dataclass(slots=True)
class RiskModel:
    prior_strength: float
    min_sample: int
    hub: Tally = field(default_factory=Tally)
    payers: dict[str, PayerCounts] = field(default_factory=dict)
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)

    def add(self, observation: Observation) -> None:
        f = observation.features
        self.hub.add(observation.denied)
        payer = self.payers.setdefault(f.payer, PayerCounts())
        payer.total.add(observation.denied)
        cell = self.cells.setdefault((f.payer, f.family, f.kind), Cell())
        cell.total.add(observation.denied)
        cell.profiles.setdefault(profile_of(f), Tally()).add(observation.denied)
        if observation.denied:
            cell.reasons.update(observation.reasons)
            payer.appealed += int(observation.appealed)
            payer.overturned += int(observation.appealed and observation.overturned)

    def hub_rate(self) -> float:
        return (self.hub.denied + 1) / (self.hub.n + 2)

    def payer_rate(self, payer: str) -> float:
        counts = self.payers.get(payer)
        return counts.total.toward(self.hub_rate(), self.prior_strength) if counts else self.hub_rate()

    def estimate(self, features: ItemFeatures) -> Estimate:
        """The denial risk of an item like `features`, with the sample it rests on and why."""
        payer_rate = self.payer_rate(features.payer) if features.payer in self.payers else None
        cell = self.cells.get((features.payer, features.family, features.kind))
        if cell is None or cell.total.n < self.min_sample:
            return Estimate(None, cell.total.n if cell else 0, 0, payer_rate)
        m = self.prior_strength
        cell_rate = cell.total.toward(self.payer_rate(features.payer), m)
        profile = profile_of(features)

        def rate(key: str) -> float:
            return cell.profiles.get(key, Tally()).toward(cell_rate, m)

        probability = rate(profile)
        lacking = []
        for position, factor in enumerate(FACTORS):
            approved, denied = cell.factor_shares(position)
            if approved is not None and denied is not None and approved - denied >= LACKING_GAP:
                lacking.append(Lacking(factor, approved, denied))
        lower = []  # only what the cell's history ties to approval, and what this item lacks
        for factor in (lack.factor for lack in lacking):
            position = FACTORS.index(factor)
            if profile[position] == "0":
                flipped = profile[:position] + "1" + profile[position + 1 :]
                if probability - rate(flipped) >= LOWER_GAP:
                    lower.append(Advice(factor, rate(flipped)))
        return Estimate(
            probability,
            cell.total.n,
            cell.profiles.get(profile, Tally()).n,
            payer_rate,
            tuple(cell.reasons.most_common(TOP_REASONS)),
            tuple(lacking),
            tuple(lower),
        )

    def to_data(self) -> dict[str, Any]:
        """The model as JSON-ready data (what the database keeps)."""
        return {
            "prior_strength": self.prior_strength,
            "min_sample": self.min_sample,
            "hub": [self.hub.n, self.hub.denied],
            "payers": {p: [c.total.n, c.total.denied, c.appealed, c.overturned] for p, c in self.payers.items()},
            "cells": [
                {
                    "payer": payer,
                    "family": family,
                    "kind": kind,
                    "n": cell.total.n,
                    "denied": cell.total.denied,
                    "reasons": dict(cell.reasons),
                    "profiles": {k: [t.n, t.denied] for k, t in cell.profiles.items()},
                }
                for (payer, family, kind), cell in self.cells.items()
            ],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RiskModel:
        model = cls(float(data["prior_strength"]), int(data["min_sample"]), Tally(*data["hub"]))
        for payer, (n, denied, appealed, overturned) in data["payers"].items():
            model.payers[payer] = PayerCounts(Tally(n, denied), appealed, overturned)
        for row in data["cells"]:
            model.cells[(row["payer"], row["family"], row["kind"])] = Cell(
                Tally(row["n"], row["denied"]),
                Counter(row["reasons"]),
                {k: Tally(n, d) for k, (n, d) in row["profiles"].items()},
            )
        return model


def train(observations: Iterable[Observation], *, prior_strength: float = 10.0, min_sample: int = 20) -> RiskModel:
    """Count the history into a model (the order of observations does not matter)."""
    model = RiskModel(prior_strength, min_sample)
    for observation in observations:
        model.add(observation)
    return model


@dataclass(frozen=True, slots=True)
class PayerRow:
    """One payer of the history: decided items, how many were denied, and how denials fared on appeal."""

    payer: str
    items: int
    denied: int
    appealed: int
    overturned: int

    @property
    def denial_rate(self) -> float:
        return self.denied / self.items if self.items else 0.0

    @property
    def overturn_rate(self) -> float | None:
        """Share of appealed denials the payer overturned (None: none appealed)."""
        return self.overturned / self.appealed if self.appealed else None


def payer_table(model: RiskModel) -> list[PayerRow]:
    """Every payer of the model's history, most items first."""
    rows = [PayerRow(p, c.total.n, c.total.denied, c.appealed, c.overturned) for p, c in model.payers.items()]
    return sorted(rows, key=lambda r: (-r.items, r.payer))
