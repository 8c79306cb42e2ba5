"""The questionnaires in force: per payer, the DTR packages built once from the data files.

    catalog = read_catalog(settings.coverage_rules_dir, rules)  # QuestionnaireDataError if broken
    package = catalog.for_payer("sandbox").resolve("https://...|1.0.0")

Each payer's folder (`app/coverage/questionnaires/<payer>/`, or `<rules dir>/questionnaires/<payer>/`)
holds Questionnaire, Library and ValueSet JSON files (docs/dtr.md). They are loaded all or nothing,
checked (`checks.py`), and every `questionnaire` a coverage rule names must resolve in its payer's
folder. The static part of each package (the Questionnaire, its Libraries recursively, its
ValueSets) is built here once, so a `$questionnaire-package` call only adds its QuestionnaireResponse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources as package_files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from app.coverage.book import CoverageRules
from app.documentation.checks import QuestionnaireDataError, check_all, items
from app.fhir.dtr import DATA_TYPES, EXT_CQF_LIBRARY, validate_resource
from app.fhir.elements import parse_datetime

log = logging.getLogger(__name__)
SHIPPED_PACKAGE = "app.coverage.questionnaires"
SHOWN_AS = "app/coverage/questionnaires"


@dataclass(frozen=True, slots=True)
class Package:
    """The static part of one questionnaire's package (entries in DTR order) and when it last changed."""

    canonical: str  # url|version of the Questionnaire
    questionnaire: dict[str, Any]
    entries: tuple[dict[str, Any], ...]  # {"resource": ...}: Questionnaire, Libraries, ValueSets
    changed: datetime  # the newest `date` of its resources


@dataclass(frozen=True, slots=True)
class PayerQuestionnaires:
    payer_id: str
    source: str
    resources: Mapping[str, dict[str, Any]]  # url|version -> resource
    packages: Mapping[str, Package]  # Questionnaire url|version -> package
    latest: Mapping[str, str]  # Questionnaire url -> its highest version's url|version

    def resolve(self, canonical: str) -> Package | None:
        """The package of `url|version`, or of the latest version for a bare `url`; None if unknown."""
        return self.packages.get(canonical) or self.packages.get(self.latest.get(canonical, ""))

    def value_set(self, canonical: str) -> dict[str, Any] | None:
        found = self.resources.get(canonical)
        if found is None and "|" not in canonical:
            versions = [key for key in self.resources if key.partition("|")[0] == canonical]
            found = self.resources.get(max(versions)) if versions else None
        return found if found is not None and found.get("resourceType") == "ValueSet" else None


@dataclass(frozen=True, slots=True)
class Catalog:
    by_payer: Mapping[str, PayerQuestionnaires] = field(default_factory=lambda: MappingProxyType({}))

    def for_payer(self, payer_id: str) -> PayerQuestionnaires | None:
        return self.by_payer.get(payer_id)

    def summary(self) -> dict[str, dict[str, object]]:
        return {
            payer: {"source": q.source, "questionnaires": len(q.packages), "resources": len(q.resources)}
            for payer, q in sorted(self.by_payer.items())
        }


def _files(directory: Path | None) -> dict[str, tuple[str, list[tuple[str, bytes]]]]:
    """payer -> (folder shown, [(file shown, bytes)]) of every payer folder's `*.json`."""
    found: dict[str, tuple[str, list[tuple[str, bytes]]]] = {}
    if directory is None:
        root: Traversable = package_files.files(SHIPPED_PACKAGE)
        shown = SHOWN_AS
    else:
        root, shown = directory / "questionnaires", str(directory / "questionnaires")
        if not root.is_dir():
            return found
    for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        files = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
        found[folder.name] = (
            f"{shown}/{folder.name}",
            [(f"{shown}/{folder.name}/{e.name}", e.read_bytes()) for e in files],
        )
    return found


def _load(name: str, data: bytes) -> dict[str, Any]:
    try:
        resource = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise QuestionnaireDataError(name, "(file)", f"invalid JSON: {exc}") from None
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind not in DATA_TYPES:
        raise QuestionnaireDataError(name, "resourceType", f"expected one of {', '.join(DATA_TYPES)}")
    problems = validate_resource(resource, str(kind))
    if problems:
        raise QuestionnaireDataError(name, problems[0].expression or str(kind), f"not valid R4: {problems[0].text}")
    for element in ("url", "version", "date"):
        if not isinstance(resource.get(element), str):
            raise QuestionnaireDataError(name, f"{kind}.{element}", f"every {kind} needs a {element}")
    return dict(resource)


def _changed(resource: dict[str, Any]) -> datetime:
    moment = parse_datetime(resource.get("date"))
    return moment if moment is not None else datetime(1970, 1, 1, tzinfo=UTC)


def _package(by_canonical: Mapping[str, tuple[str, dict[str, Any]]], canonical: str) -> Package:
    _file, questionnaire = by_canonical[canonical]
    libraries: dict[str, dict[str, Any]] = {}
    value_sets: dict[str, dict[str, Any]] = {}

    def add_library(ref: str) -> None:
        if ref in libraries:
            return
        library = by_canonical[ref][1]
        libraries[ref] = library
        for artifact in library.get("relatedArtifact") or []:
            if artifact.get("type") == "depends-on":
                target = artifact["resource"]
                if by_canonical[target][1]["resourceType"] == "Library":
                    add_library(target)
                else:
                    value_sets.setdefault(target, by_canonical[target][1])

    for ext in questionnaire.get("extension") or []:
        if ext.get("url") == EXT_CQF_LIBRARY:
            add_library(ext["valueCanonical"])
    for _, item in items(questionnaire, "Questionnaire"):
        if "answerValueSet" in item:
            value_sets.setdefault(item["answerValueSet"], by_canonical[item["answerValueSet"]][1])
    members = [questionnaire, *libraries.values(), *value_sets.values()]
    return Package(
        canonical=canonical,
        questionnaire=questionnaire,
        entries=tuple({"resource": r} for r in members),
        changed=max(_changed(r) for r in members),
    )


def _payer(payer_id: str, source: str, files: Iterable[tuple[str, bytes]]) -> PayerQuestionnaires:
    by_canonical: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, data in files:
        resource = _load(name, data)
        canonical = f"{resource['url']}|{resource['version']}"
        if canonical in by_canonical:
            raise QuestionnaireDataError(
                name, f"{resource['resourceType']}.url", f"{canonical} is also in {by_canonical[canonical][0]}"
            )
        by_canonical[canonical] = (name, resource)
    check_all(by_canonical)
    packages = {
        c: _package(by_canonical, c) for c, (_, r) in by_canonical.items() if r["resourceType"] == "Questionnaire"
    }
    latest: dict[str, str] = {}
    for canonical in sorted(packages, key=lambda c: _version_key(c.partition("|")[2])):
        latest[canonical.partition("|")[0]] = canonical
    return PayerQuestionnaires(
        payer_id,
        source,
        MappingProxyType({c: r for c, (_, r) in by_canonical.items()}),
        MappingProxyType(packages),
        MappingProxyType(latest),
    )


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


def read_catalog(directory: Path | None, rules: CoverageRules) -> Catalog:
    """Load every payer folder (None: the shipped sample) and check the rules' questionnaire canonicals."""
    catalog = {payer: _payer(payer, source, files) for payer, (source, files) in _files(directory).items()}
    for payer, payer_rules in rules.by_payer.items():
        found = catalog.get(payer)
        for index, rule in enumerate(payer_rules.rules.rule):
            for canonical in rule.questionnaire:
                if found is None or canonical not in found.packages:
                    where = f"rule[{index}].questionnaire ({rule.id})"
                    raise QuestionnaireDataError(
                        payer_rules.source, where, f"{canonical} is not in the payer's questionnaires"
                    )
    return Catalog(MappingProxyType(catalog))


class CatalogHolder:
    """The questionnaires in force for this process; `reload` replaces them only when the new files are valid."""

    __slots__ = ("_current", "directory")

    def __init__(self, directory: Path | None, current: Catalog) -> None:
        self.directory = directory
        self._current = current

    @classmethod
    def load(cls, directory: Path | None, rules: CoverageRules) -> CatalogHolder:
        return cls(directory, read_catalog(directory, rules))

    @property
    def current(self) -> Catalog:
        return self._current

    def reload(self, rules: CoverageRules) -> Catalog:
        fresh = read_catalog(self.directory, rules)
        self._current = fresh
        log.info("questionnaires reloaded", extra={"payers": sorted(fresh.by_payer)})
        return fresh
