"""Loading coverage rules files: every `*.toml` of a directory, all or nothing.

A broken file is refused with `RulesError` naming the file, the line and the reason; the caller
(start-up or reload) keeps whatever rules were in force before.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.coverage.format import RulesFile

SHIPPED_RULES_PACKAGE = "app.coverage.rules"
_TOML_LINE = re.compile(r"at line (\d+)")
M = TypeVar("M", bound=BaseModel)


class RulesError(Exception):
    """A rules file cannot be used; `str(error)` is `file:line: reason` on one line."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = " ".join(reason.split())
        super().__init__(f"{file}:{line or 1}: {self.reason}")


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best line for a pydantic error location in a TOML text: the array-table entry, then its key."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    parts = list(loc)
    if len(parts) >= 2 and isinstance(parts[0], str) and isinstance(parts[1], int):
        header = re.compile(rf"^\s*\[\[\s*{re.escape(parts[0])}\s*\]\]")
        found = [n for n, line in enumerate(lines) if header.match(line)]
        if parts[1] >= len(found):
            return found[-1] + 1 if found else None
        start = found[parts[1]]
        following = [n for n, line in enumerate(lines) if n > start and re.match(r"^\s*\[\[", line)]
        end = following[0] if following else len(lines)
        parts = parts[2:]
    else:
        following = [n for n, line in enumerate(lines) if re.match(r"^\s*\[", line)]
        end = following[0] if following else len(lines)
    for key in (p for p in parts if isinstance(p, str)):
        pattern = re.compile(rf"^\s*(\[[^\]]*\.)?{re.escape(key)}(\s*=|\s*\]|\.)")
        for n in range(start, end):
            if pattern.match(lines[n]):
                return n + 1
    return start + 1 if start or loc else None


def parse_toml(text: str, name: str, model: type[M]) -> M:
    """Parse one TOML data file into `model`; RulesError (file, line, reason) if it is broken.

    Shared by the coverage rules and the exemptions and routing registry (`program_loader`)."""
    try:
        raw: Mapping[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise RulesError(name, int(found[1]) if found else None, f"invalid TOML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        message = first["msg"].removeprefix("Value error, ")
        others = "".join(
            f"; {'.'.join(str(p) for p in problem['loc']) or '(file)'}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in exc.errors()[1:]
        )
        raise RulesError(name, line_of(text, tuple(first["loc"])), f"{where}: {message}{others}") from None


def parse_rules(text: str, name: str) -> RulesFile:
    """Parse and validate one rules file's text; RulesError (file, line, reason) if it is broken."""
    return parse_toml(text, name, RulesFile)


def toml_files(directory: Path | None, *, package: str, shown_as: str, what: str) -> list[tuple[str, str]]:
    """(name, text) of every `*.toml` of `directory`, or of the shipped `package` (named `shown_as/...`)
    when it is None; RulesError for a missing directory (`what` names it) or an unreadable file."""
    if directory is None:
        folder = resources.files(package)
        found = sorted((entry.name, entry) for entry in folder.iterdir() if entry.name.endswith(".toml"))
        return [(f"{shown_as}/{name}", entry.read_text(encoding="utf-8")) for name, entry in found]
    if not directory.is_dir():
        raise RulesError(str(directory), None, f"the {what} directory does not exist")
    files: list[tuple[str, str]] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            files.append((str(path), path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise RulesError(str(path), None, f"cannot be read ({exc.strerror or exc})") from None
    return files


def load_rules_files(directory: Path | None) -> Mapping[str, tuple[str, RulesFile]]:
    """payer id -> (file name, rules) for every file of `directory` (None: the shipped sample).

    A payer named by two files is refused (with the second file's `payers` line).
    """
    by_payer: dict[str, tuple[str, RulesFile]] = {}
    files = toml_files(directory, package=SHIPPED_RULES_PACKAGE, shown_as="app/coverage/rules", what="coverage rules")
    for name, text in files:
        rules = parse_rules(text, name)
        for payer in rules.payers:
            if payer in by_payer:
                raise RulesError(
                    name, line_of(text, ("payers",)), f"payer {payer!r} already has rules in {by_payer[payer][0]}"
                )
            by_payer[payer] = (name, rules)
    return MappingProxyType(by_payer)
