"""Questionnaires as data: the shipped packages load, and `epa rules check` refuses broken files by file and element."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.coverage.book import read_rules
from app.documentation import QuestionnaireDataError, read_catalog

BASE = "https://epa-hub.example.org/fhir/dtr/sandbox"
POWER_MOBILITY = f"{BASE}/Questionnaire/power-mobility|1.0.0"
SHIPPED = Path(str(resources.files("app.coverage.questionnaires"))) / "sandbox"
SHIPPED_RULES = Path(str(resources.files("app.coverage.rules"))) / "sandbox.toml"


def _names(entries: tuple[dict[str, Any], ...]) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries]


def test_the_sandbox_ships_a_package_per_rule_that_names_a_questionnaire() -> None:
    rules = read_rules(None)
    catalog = read_catalog(None, rules).for_payer("sandbox")
    assert catalog is not None
    named = {c for rule in rules.by_payer["sandbox"].rules.rule for c in rule.questionnaire}
    assert named == set(catalog.packages)
    assert len(named) == 3
    package = catalog.resolve(POWER_MOBILITY)
    assert package is not None
    assert _names(package.entries) == [
        "Questionnaire/power-mobility",
        "Library/PowerMobilityPrefill",
        "Library/EpaDtrCommon",  # recursively, through depends-on
        "ValueSet/power-mobility-diagnoses",  # once, though the Library and an item both name it
    ]
    assert catalog.resolve(POWER_MOBILITY.partition("|")[0]) is package  # a bare url: the latest version


def test_every_shipped_library_has_cql_and_elm_naming_the_same_library() -> None:
    for path in SHIPPED.glob("Library-*.json"):
        library = json.loads(path.read_text())
        content = {c["contentType"]: base64.b64decode(c["data"]).decode() for c in library["content"]}
        assert f"library {library['name']} version '{library['version']}'" in content["text/cql"]
        elm = json.loads(content["application/elm+json"])["library"]["identifier"]
        assert (elm["id"], elm["version"]) == (library["name"], library["version"])


def _copy(tmp_path: Path) -> Path:
    shutil.copy(SHIPPED_RULES, tmp_path / "sandbox.toml")
    shutil.copytree(SHIPPED, tmp_path / "questionnaires" / "sandbox")
    return tmp_path / "questionnaires" / "sandbox"


def _edit(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    resource = json.loads((folder / name).read_text())
    change(resource)
    (folder / name).write_text(json.dumps(resource))


def _set_content(content_type: str, text: str | None) -> Callable[[dict[str, Any]], None]:
    def change(library: dict[str, Any]) -> None:
        kept = [c for c in library["content"] if c["contentType"] != content_type]
        if text is not None:
            kept.append({"contentType": content_type, "data": base64.b64encode(text.encode()).decode()})
        library["content"] = kept

    return change


def _unversion_library(questionnaire: dict[str, Any]) -> None:
    questionnaire["extension"][0]["valueCanonical"] = questionnaire["extension"][0]["valueCanonical"].partition("|")[0]


def _drop_expansion(value_set: dict[str, Any]) -> None:
    del value_set["expansion"]


def _break_r4(questionnaire: dict[str, Any]) -> None:
    questionnaire["item"] = "not a list of items"


def _no_version(value_set: dict[str, Any]) -> None:
    del value_set["version"]


def _dangling_value_set(questionnaire: dict[str, Any]) -> None:
    questionnaire["item"][2]["item"][1]["answerValueSet"] = f"{BASE}/ValueSet/nowhere|1.0.0"


BROKEN = [
    (
        "Library-EpaDtrCommon.json",
        _set_content("application/elm+json", None),
        "Library.content: the Library has no application/elm+json",
    ),
    ("Library-EpaDtrCommon.json", _set_content("text/cql", None), "Library.content: the Library has no text/cql"),
    (
        "Library-EpaDtrCommon.json",
        _set_content(
            "application/elm+json", json.dumps({"library": {"identifier": {"id": "EpaDtrCommon", "version": "0.9.0"}}})
        ),
        "the ELM is library EpaDtrCommon version 0.9.0",
    ),
    (
        "Library-EpaDtrCommon.json",
        _set_content("text/cql", "library Other version '1.0.0'"),
        "the CQL does not declare",
    ),
    ("Questionnaire-power-mobility.json", _unversion_library, "Questionnaire.extension[0].valueCanonical: "),
    ("Questionnaire-power-mobility.json", _dangling_value_set, "Questionnaire.item[2].item[1].answerValueSet: "),
    ("ValueSet-power-mobility-diagnoses.json", _drop_expansion, "ValueSet.expansion: a value set of fewer than 40"),
    ("Questionnaire-power-mobility.json", _break_r4, "Questionnaire.item: not valid R4"),
    ("ValueSet-power-mobility-diagnoses.json", _no_version, "ValueSet.version: every ValueSet needs a version"),
]


@pytest.mark.parametrize(("name", "change", "expected"), BROKEN)
def test_a_broken_file_is_refused_naming_the_file_and_element(
    tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder, name, change)
    with pytest.raises(QuestionnaireDataError) as caught:
        read_catalog(tmp_path, read_rules(tmp_path))
    assert expected in str(caught.value)
    assert str(caught.value).startswith(f"{folder / name}: ")


def test_a_rule_naming_an_unknown_questionnaire_is_refused_with_the_rules_file(tmp_path: Path) -> None:
    _copy(tmp_path)
    (tmp_path / "questionnaires" / "sandbox" / "Questionnaire-support-surfaces.json").unlink()
    with pytest.raises(QuestionnaireDataError) as caught:
        read_catalog(tmp_path, read_rules(tmp_path))
    assert str(caught.value).startswith(str(tmp_path / "sandbox.toml"))
    assert "(dmepos-support-surfaces)" in str(caught.value)
    assert "support-surfaces|1.0.0" in str(caught.value)


def test_rules_check_counts_the_questionnaires_or_names_the_broken_element(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 questionnaires, 8 resources" in result.output
    _edit(folder, "ValueSet-pressure-ulcer-diagnoses.json", _drop_expansion)
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "ValueSet-pressure-ulcer-diagnoses.json: ValueSet.expansion:" in result.output
