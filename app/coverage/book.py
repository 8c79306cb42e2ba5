"""The rules in force: an immutable snapshot per payer, and the one holder that swaps it on reload.

    holder = RulesHolder.load(settings.coverage_rules_dir)   # RulesError at start-up if broken
    payer_rules = holder.current.for_payer(entry.id)         # None: everything goes to the payer
    holder.reload()                                          # RulesError: the old rules stay in force

Each process holds its own copy, loaded from the same files; evaluation never touches storage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from app.coverage.evaluate import PayerRules
from app.coverage.loader import load_rules_files

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CoverageRules:
    """Every payer's rules at one moment (never mutated; a reload builds a new one)."""

    by_payer: Mapping[str, PayerRules]

    def for_payer(self, payer_id: str) -> PayerRules | None:
        return self.by_payer.get(payer_id)

    def summary(self) -> dict[str, dict[str, object]]:
        """payer id -> source file, content version and counts (for the reload answer and logs)."""
        return {
            payer: {
                "source": rules.source,
                "version": rules.rules.version,
                "rules": len(rules.rules.rule),
                "gold_cards": len(rules.rules.gold_card),
            }
            for payer, rules in sorted(self.by_payer.items())
        }


def read_rules(directory: Path | None) -> CoverageRules:
    """Load every rules file of `directory` (None: the shipped sample); RulesError if one is broken."""
    files = load_rules_files(directory)
    return CoverageRules(MappingProxyType({p: PayerRules.of(p, src, rules) for p, (src, rules) in files.items()}))


class RulesHolder:
    """The rules in force for this process; `reload` replaces them only when the new files are valid."""

    __slots__ = ("_current", "directory")

    def __init__(self, directory: Path | None, current: CoverageRules) -> None:
        self.directory = directory
        self._current = current

    @classmethod
    def load(cls, directory: Path | None) -> RulesHolder:
        return cls(directory, read_rules(directory))

    @property
    def current(self) -> CoverageRules:
        return self._current

    def reload(self) -> CoverageRules:
        """Read the files again and put them in force; on RulesError the previous rules stay."""
        fresh = read_rules(self.directory)
        self._current = fresh
        log.info("coverage rules reloaded", extra={"payers": sorted(fresh.by_payer)})
        return fresh
