"""Where the sandbox's rules come from: a TOML file re-read when it changes, or inline settings.

Operators change outcomes by editing the file (no restart); `release_pended` appends a
release entry for a pended request, for the CLI or by hand.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from app.payers.config import describe_validation_error
from app.payers.sandbox.reference import is_sandbox_reference
from app.payers.sandbox.rules import OutcomeName, SandboxRules

DEFAULT_RULES_RESOURCE = "default_rules.toml"

logger = logging.getLogger(__name__)


class RulesFileError(ValueError):
    """A rules file cannot be read or is invalid; the message is one line."""


def parse_rules_text(text: str, name: str) -> SandboxRules:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesFileError(f"sandbox rules {name}: invalid TOML ({exc})") from None
    try:
        return SandboxRules.model_validate(raw)
    except ValidationError as exc:
        raise RulesFileError(f"sandbox rules {name}: {describe_validation_error(exc)}") from None


def default_rules() -> SandboxRules:
    """The rules shipped for `epa serve` (see docs/payer-adapters.md)."""
    text = resources.files("app.payers.sandbox").joinpath(DEFAULT_RULES_RESOURCE).read_text(encoding="utf-8")
    return parse_rules_text(text, DEFAULT_RULES_RESOURCE)


@dataclass(slots=True)
class RulesSource:
    """The current rules. With a file, re-read whenever its modification time or size changes.

    The cache is only an optimisation: every process reads the same file, so no process
    depends on another's memory. A file that becomes invalid is logged and the last good
    rules stay in force.
    """

    path: Path | None
    _rules: SandboxRules
    _stamp: tuple[int, int] | None = None

    @classmethod
    def from_file(cls, path: Path) -> RulesSource:
        try:
            stamp = _stamp(path)
            rules = parse_rules_text(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise RulesFileError(f"sandbox rules {path}: cannot be read ({exc.strerror or exc})") from None
        return cls(path=path, _rules=rules, _stamp=stamp)

    @classmethod
    def fixed(cls, rules: SandboxRules) -> RulesSource:
        return cls(path=None, _rules=rules)

    def current(self) -> SandboxRules:
        if self.path is None:
            return self._rules
        try:
            stamp = _stamp(self.path)
            if stamp != self._stamp:
                self._rules = parse_rules_text(self.path.read_text(encoding="utf-8"), str(self.path))
                self._stamp = stamp
                logger.info("sandbox rules reloaded", extra={"rules_file": str(self.path)})
        except (OSError, RulesFileError) as exc:
            logger.warning("sandbox rules not reloaded, keeping the last good rules: %s", exc)
        return self._rules


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def release_pended(rules_file: Path, payer_reference: str, outcome: OutcomeName = "approve") -> None:
    """Release a pended sandbox request: the next inquire answers `outcome`.

    Appends `[release."<reference>"]` to the rules file (the file is re-read on its next use).
    Raises RulesFileError if the reference is not a sandbox reference or is already released.
    """
    if not is_sandbox_reference(payer_reference):
        raise RulesFileError(f"{payer_reference!r} is not a sandbox payer reference")
    if outcome == "pend":
        raise RulesFileError("a release must decide; 'pend' is not a release outcome")
    text = rules_file.read_text(encoding="utf-8") if rules_file.exists() else ""
    current = parse_rules_text(text, str(rules_file))
    if payer_reference in current.release:
        raise RulesFileError(f"{payer_reference} is already released ({current.release[payer_reference].outcome})")
    addition = f'\n[release."{payer_reference}"]\noutcome = "{outcome}"\n'
    parse_rules_text(text + addition, str(rules_file))  # never write a file we could not read back
    with rules_file.open("a", encoding="utf-8") as handle:
        handle.write(addition)
        handle.flush()
        os.fsync(handle.fileno())
