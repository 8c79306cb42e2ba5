"""What `epa rules check` demands of questionnaire data beyond R4B validity (DTR 2.2.0, docs/dtr.md).

Every check raises `QuestionnaireDataError` naming the file and the element (FHIRPath):
- every resource has `url`, `version` and `date`, and no two files hold the same `url|version`;
- every canonical it uses (`cqf-library`, `answerValueSet`, a Library's `depends-on`) is
  version-specific (`url|version`) and resolves to a resource of the right type in the same folder;
- every Library holds both `text/cql` and `application/elm+json`, whose library name and version
  agree with the Library's `name` and `version`, and whose ELM includes and value sets are among
  its `depends-on`;
- a ValueSet of fewer than 40 codes carries its expansion.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from app.coverage.loader import RulesError
from app.fhir.dtr import EXT_CQF_LIBRARY, is_canonical, split_canonical

SMALL_VALUE_SET = 40
CQL = "text/cql"
ELM = "application/elm+json"
_CQL_HEADER = re.compile(r"^\s*library\s+(\"[^\"]+\"|\w+)\s+version\s+'([^']+)'", re.MULTILINE)


class QuestionnaireDataError(RulesError):
    """A questionnaire data file cannot be used; `str(error)` is `file: element: reason`."""

    def __init__(self, file: str, element: str, reason: str) -> None:
        super().__init__(file, None, f"{element}: {reason}")
        self.element = element

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


Resources = Mapping[str, tuple[str, dict[str, Any]]]  # `url|version` -> (file, resource)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def resolve(resources: Resources, file: str, element: str, canonical: Any, wanted: tuple[str, ...]) -> dict[str, Any]:
    """The resource `canonical` names (version-specific, of a `wanted` type), or QuestionnaireDataError."""
    if not is_canonical(canonical):
        raise QuestionnaireDataError(file, element, f"{canonical!r} is not a canonical URL")
    if split_canonical(canonical)[1] is None:
        raise QuestionnaireDataError(file, element, f"{canonical} is not version-specific (write `url|version`)")
    found = resources.get(canonical)
    if found is None or found[1].get("resourceType") not in wanted:
        raise QuestionnaireDataError(file, element, f"{canonical} does not resolve to a {' or '.join(wanted)}")
    return found[1]


def items(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every item of a Questionnaire (or item), depth first, with its FHIRPath."""
    for index, item in enumerate(_as_list(node.get("item"))):
        if isinstance(item, dict):
            where = f"{path}.item[{index}]"
            yield where, item
            yield from items(item, where)


def check_questionnaire(resources: Resources, file: str, questionnaire: dict[str, Any]) -> None:
    libraries = [
        (index, ext)
        for index, ext in enumerate(_as_list(questionnaire.get("extension")))
        if isinstance(ext, dict) and ext.get("url") == EXT_CQF_LIBRARY
    ]
    for index, ext in libraries:
        element = f"Questionnaire.extension[{index}].valueCanonical"
        resolve(resources, file, element, ext.get("valueCanonical"), ("Library",))
    for where, item in items(questionnaire, "Questionnaire"):
        if "answerValueSet" in item:
            resolve(resources, file, f"{where}.answerValueSet", item["answerValueSet"], ("ValueSet",))


def _content(file: str, library: dict[str, Any], content_type: str) -> str:
    for index, content in enumerate(_as_list(library.get("content"))):
        if isinstance(content, dict) and content.get("contentType") == content_type:
            try:
                return base64.b64decode(str(content.get("data", "")), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise QuestionnaireDataError(
                    file, f"Library.content[{index}].data", "is not base64 of UTF-8 text"
                ) from None
    raise QuestionnaireDataError(file, "Library.content", f"the Library has no {content_type} content")


def check_library(resources: Resources, file: str, library: dict[str, Any]) -> None:
    name, version = library.get("name"), library.get("version")
    if not isinstance(name, str):
        raise QuestionnaireDataError(file, "Library.name", "a Library needs the name its CQL declares")
    header = _CQL_HEADER.search(_content(file, library, CQL))
    if header is None or (header[1].strip('"'), header[2]) != (name, version):
        raise QuestionnaireDataError(
            file, "Library.content", f"the CQL does not declare library {name} version '{version}'"
        )
    try:
        elm = orjson.loads(_content(file, library, ELM))
        identifier = elm["library"]["identifier"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise QuestionnaireDataError(file, "Library.content", "the ELM is not ELM JSON (library.identifier)") from None
    if (identifier.get("id"), identifier.get("version")) != (name, version):
        raise QuestionnaireDataError(
            file,
            "Library.content",
            f"the ELM is library {identifier.get('id')} version {identifier.get('version')}, "
            f"not {name} version {version}",
        )
    depends: set[str] = set()
    for index, artifact in enumerate(_as_list(library.get("relatedArtifact"))):
        if isinstance(artifact, dict) and artifact.get("type") == "depends-on":
            element = f"Library.relatedArtifact[{index}].resource"
            target = resolve(resources, file, element, artifact.get("resource"), ("Library", "ValueSet"))
            named = target.get("name") if target.get("resourceType") == "Library" else target.get("url")
            depends.add(f"{target.get('resourceType')}:{named}|{target.get('version')}")
    for include in _as_list(elm["library"].get("includes", {}).get("def")):
        if f"Library:{include.get('path')}|{include.get('version')}" not in depends:
            raise QuestionnaireDataError(
                file,
                "Library.relatedArtifact",
                f"the ELM includes {include.get('path')} version "
                f"{include.get('version')}, which is not among its depends-on Libraries",
            )
    for value_set in _as_list(elm["library"].get("valueSets", {}).get("def")):
        named = f"{value_set.get('id')}|{value_set['version']}" if value_set.get("version") else value_set.get("id")
        if f"ValueSet:{named}" not in depends:
            raise QuestionnaireDataError(
                file,
                "Library.relatedArtifact",
                f"the ELM uses value set {value_set.get('id')}, "
                "which is not among its depends-on ValueSets (version-specific)",
            )


def check_value_set(file: str, value_set: dict[str, Any]) -> None:
    codes = sum(len(_as_list(inc.get("concept"))) for inc in _as_list(value_set.get("compose", {}).get("include")))
    filtered = any(
        inc.get("filter") or inc.get("valueSet") for inc in _as_list(value_set.get("compose", {}).get("include"))
    )
    contains = _as_list(value_set.get("expansion", {}).get("contains"))
    if not filtered and codes < SMALL_VALUE_SET and not contains:
        raise QuestionnaireDataError(
            file, "ValueSet.expansion", f"a value set of fewer than {SMALL_VALUE_SET} codes carries its expansion"
        )


def check_all(resources: Resources) -> None:
    """Run every check over a folder's resources (`url|version` -> (file, resource))."""
    for file, resource in resources.values():
        kind = resource.get("resourceType")
        if kind == "Questionnaire":
            check_questionnaire(resources, file, resource)
        elif kind == "Library":
            check_library(resources, file, resource)
        elif kind == "ValueSet":
            check_value_set(file, resource)
