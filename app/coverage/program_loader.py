"""Loading the exemptions and program routing registry: every `*.toml` of a directory, all or nothing.

Like the coverage rules (app.coverage.loader): a broken file is refused with `RulesError` naming
the file, the line and the reason, and start-up stops. Unset directory: the shipped sample
(`app/coverage/registry/sample.toml`, marked `sample = true`). A routing whose `adapter` is not a
payer of the payers file is refused by `check_routing_payers` once the payer registry is built.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from types import MappingProxyType

from app.coverage.loader import RulesError, line_of, parse_toml, toml_files
from app.coverage.program_format import Exemption, ProgramsFile, Routing
from app.coverage.programs import ProgramRegistry

SHIPPED_PROGRAMS_PACKAGE = "app.coverage.registry"


def parse_programs(text: str, name: str, seen: dict[str, str] | None = None) -> ProgramsFile:
    """Parse and validate one registry file's text; RulesError (file, line, reason) if it is broken."""
    parsed = parse_toml(text, name, ProgramsFile)
    seen = {} if seen is None else seen
    tables: list[tuple[str, int, Exemption | Routing]] = [("exemption", n, e) for n, e in enumerate(parsed.exemption)]
    tables += [("routing", n, e) for n, e in enumerate(parsed.routing)]
    for table, position, entry in tables:
        if entry.id in seen:
            where = "this file" if seen[entry.id] == name else seen[entry.id]
            line = line_of(text, (table, position, "id"))
            raise RulesError(name, line, f"id {entry.id!r} is already used in {where}")
        seen[entry.id] = name
    return parsed


def load_programs(directory: Path | None) -> ProgramRegistry:
    """The registry of every file of `directory` (None: the shipped sample); ids are unique across files."""
    loaded: list[tuple[str, ProgramsFile]] = []
    seen: dict[str, str] = {}
    lines: dict[str, int | None] = {}
    files = toml_files(
        directory,
        package=SHIPPED_PROGRAMS_PACKAGE,
        shown_as="app/coverage/registry",
        what="exemptions and routing registry",
    )
    for name, text in files:
        parsed = parse_programs(text, name, seen)
        for position, routing in enumerate(parsed.routing):
            lines[routing.id] = line_of(text, ("routing", position, "adapter"))
        loaded.append((name, parsed))
    return ProgramRegistry(tuple(loaded), MappingProxyType(lines))


def check_routing_payers(registry: ProgramRegistry, payer_ids: Collection[str]) -> None:
    """RulesError when a routing that can apply names a contractor that is not a payer of the payers file.

    A routing for payers none of which is configured can never apply, so its contractor is not needed.
    """
    for name, parsed in registry.files:
        for routing in parsed.routing:
            applies = not routing.payers or any(p in payer_ids for p in routing.payers)
            if applies and routing.adapter not in payer_ids:
                known = ", ".join(sorted(payer_ids)) or "none"
                raise RulesError(
                    name,
                    registry.adapter_lines.get(routing.id),
                    f"routing {routing.id!r}: adapter {routing.adapter!r} is not a payer of the payers file "
                    f"(payers: {known})",
                )
