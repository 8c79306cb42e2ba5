"""Denial risk learned from the hub's own history (issue 28): how often requests like this one were
denied, why, and what changed the outcome; docs/denial-risk.md says how to read it.

    features.py    what is known of an item before it is sent (pure; nothing that names the patient)
    model.py       Beta-smoothed denial rates per (payer, service family, kind) and item profile (pure)
    explain.py     an estimate in words (pure)
    repository.py  its SQL: the decided history, the model versions
    service.py     training a scope (a client, or every client pooled) and loading the model that answers
    validation.py  the `$validate` issues that carry the risk
    tasks.py       the nightly `risk.train` job and `handlers()`
    views.py       what the console shows: an open request's items, the per-payer table
"""

from app.requirements.risk.explain import NO_MODEL, describe, reason_label
from app.requirements.risk.features import FACTORS, ItemFeatures, Observation, family_of, item_features
from app.requirements.risk.model import Advice, Estimate, Lacking, PayerCounts, PayerRow, RiskModel, payer_table, train
from app.requirements.risk.service import History, LoadedModel, RiskSettings, Trained, model_for, read_stored, train_all
from app.requirements.risk.tasks import TRAIN, ensure_training_job, handlers
from app.requirements.risk.validation import risk_issues
from app.requirements.risk.views import ItemRisk, PayerRates, RequestRisk, payer_rates, request_risk

__all__ = [
    "FACTORS",
    "NO_MODEL",
    "TRAIN",
    "Advice",
    "Estimate",
    "History",
    "ItemFeatures",
    "ItemRisk",
    "Lacking",
    "LoadedModel",
    "Observation",
    "PayerCounts",
    "PayerRates",
    "PayerRow",
    "RequestRisk",
    "RiskModel",
    "RiskSettings",
    "Trained",
    "describe",
    "ensure_training_job",
    "family_of",
    "handlers",
    "item_features",
    "model_for",
    "payer_rates",
    "payer_table",
    "read_stored",
    "reason_label",
    "request_risk",
    "risk_issues",
    "train",
    "train_all",
]
