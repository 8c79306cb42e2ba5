"""Payer adapters: the contract, the registry built from entry points, and built-in adapters.

Public surface for the services and for adapter authors (see docs/payer-adapters.md).
"""

from app.payers.config import PayerConfigError
from app.payers.contract import AdapterContext, AdapterFactory, PayerAdapter, PayerReference, PayerSubmission
from app.payers.errors import PayerError, PayerProtocolError, PayerRejected, PayerTimeout, PayerUnavailable
from app.payers.registry import ENTRY_POINT_GROUP, NoPayerMatches, PayerEntry, PayerRegistry, build_registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterContext",
    "AdapterFactory",
    "NoPayerMatches",
    "PayerAdapter",
    "PayerConfigError",
    "PayerEntry",
    "PayerError",
    "PayerProtocolError",
    "PayerReference",
    "PayerRegistry",
    "PayerRejected",
    "PayerSubmission",
    "PayerTimeout",
    "PayerUnavailable",
    "build_registry",
]
