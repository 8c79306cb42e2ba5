"""An import-linter contract: SQL statements are built only where the house says.

`select`, `insert`, `update`, `delete`, `text` and the SQL expression functions of SQLAlchemy may be
imported (or reached as `sqlalchemy.<name>`) only by the modules `allowed_modules` names: the store,
every room's `repository` and every read model's `queries`. import-linter squashes external packages
to their top level, so the names imported are read from each importer's source with `ast`.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
from pathlib import Path
from typing import cast

import grimp
from importlinter import Contract, ContractCheck, fields, output

BUILDERS = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "text",
        "func",
        "and_",
        "or_",
        "not_",
        "case",
        "exists",
        "literal",
        "literal_column",
        "union",
        "union_all",
        "tuple_",
        "true",
        "false",
        "null",
        "column",
        "table",
        "bindparam",
        "cast",
        "distinct",
    }
)


def _source(module: str) -> str | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin).read_text(encoding="utf-8")


def builders_used(source: str) -> list[tuple[int, str]]:
    """(line, name) of every SQL builder the source imports from SQLAlchemy or reaches as an attribute."""
    tree = ast.parse(source)
    aliases: set[str] = set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [(node.lineno, alias.name) for alias in node.names if alias.name in BUILDERS]
        elif isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy"}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in BUILDERS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append((node.lineno, node.attr))
    return sorted(found)


class SqlBuildersContract(Contract):
    """Modules of `source_package` that are not `allowed_modules` (fnmatch patterns) build no SQL."""

    type_name = "sql_builders"

    source_package = fields.StringField()
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        allowed = cast(list[str], self.allowed_modules)
        package = str(self.source_package)
        offenders: list[tuple[str, int, str]] = []
        for module in sorted(graph.find_descendants(package) | {package}):
            if any(fnmatch.fnmatchcase(module, pattern) for pattern in allowed):
                continue
            if "sqlalchemy" not in graph.find_modules_directly_imported_by(module):
                continue
            source = _source(module)
            if source is None:
                continue
            offenders += [(module, line, name) for line, name in builders_used(source)]
        return ContractCheck(kept=not offenders, metadata={"offenders": offenders})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, line, name in check.metadata["offenders"]:
            output.print_error(f"{module} (l.{line}) builds SQL with sqlalchemy.{name}", bold=False)
            output.new_line()
        output.print("Move the statement into the room's repository.py (or a read model's queries.py).")
