"""The sandbox payer adapter (entry point `sandbox`)."""

from app.payers.sandbox.adapter import SandboxAdapter, SandboxSettings, create_adapter
from app.payers.sandbox.rules import Outcome, Rule, SandboxRules
from app.payers.sandbox.source import RulesFileError, release_pended

__all__ = [
    "Outcome",
    "Rule",
    "RulesFileError",
    "SandboxAdapter",
    "SandboxRules",
    "SandboxSettings",
    "create_adapter",
    "release_pended",
]
