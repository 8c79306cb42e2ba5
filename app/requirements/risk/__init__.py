"""Denial risk learned from the hub's own history (issue 28): features, the explainable rates model,
its training from the store, the nightly job, and the estimates `$validate` and the console show.

    features.py    what is known of an item before it is sent (pure; nothing that names the patient)
    model.py       Beta-smoothed denial rates per (payer, service family, kind) and item profile (pure)
"""

from app.requirements.risk.features import FACTORS, ItemFeatures, Observation, family_of, item_features
from app.requirements.risk.model import Advice, Estimate, Lacking, RiskModel, train

__all__ = [
    "FACTORS",
    "Advice",
    "Estimate",
    "ItemFeatures",
    "Lacking",
    "Observation",
    "RiskModel",
    "family_of",
    "item_features",
    "train",
]
