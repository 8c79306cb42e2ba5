"""The shipped Libraries' ELM runs in the engine DTR SMART apps use and prefills what the questionnaires expect.

`cql-execution` with `cql-exec-fhir` (versions pinned in tests/documentation/cql/package-lock.json,
installed with `npm ci` into a cache folder outside the tree on first use) runs each Library's ELM,
its includes and value sets as shipped, under the machine's Node.js, against a small patient Bundle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "cql"
SHIPPED = Path(str(resources.files("app.coverage.questionnaires"))) / "sandbox"


def _engine() -> Path:
    """node_modules with the pinned engine (installed once per lock file)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the ELM")
    lock = (HERE / "package-lock.json").read_bytes()
    folder = Path.home() / ".cache" / "epa-hub" / f"cql-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / "cql-exec-fhir").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, folder / name)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, capture_output=True, timeout=300
        )
    return folder / "node_modules"


def _patient(tmp_path: Path, birth_date: str, *diagnoses: str) -> Path:
    entries: list[dict[str, Any]] = [{"resource": {"resourceType": "Patient", "id": "pat-1", "birthDate": birth_date}}]
    for n, code in enumerate(diagnoses):
        condition = {
            "resourceType": "Condition",
            "id": f"c-{n}",
            "subject": {"reference": "Patient/pat-1"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
        }
        entries.append({"resource": condition})
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def _run(modules: Path, bundle: Path) -> dict[str, dict[str, Any]]:
    names = sorted(json.loads(p.read_text())["name"] for p in SHIPPED.glob("Library-*.json"))
    result = subprocess.run(
        ["node", str(HERE / "run-elm.js"), str(SHIPPED), str(bundle), *names],
        env={"NODE_PATH": str(modules), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    values: dict[str, dict[str, Any]] = json.loads(result.stdout)
    return values


def test_every_shipped_library_runs_and_prefills_from_the_chart(tmp_path: Path) -> None:
    modules = _engine()
    results = _run(modules, _patient(tmp_path, "1958-03-01", "G35"))  # evaluated on 2030-05-10
    assert results["EpaDtrCommon"] == {"AgeInYears": 72}
    assert results["PowerMobilityPrefill"] == {"AgeInYears": 72, "HasQualifyingDiagnosis": True}
    assert results["SupportSurfacesPrefill"] == {"AgeInYears": 72, "HasQualifyingDiagnosis": False}
    ulcer = _run(modules, _patient(tmp_path, "1940-12-31", "L89.154"))
    assert ulcer["SupportSurfacesPrefill"] == {"AgeInYears": 89, "HasQualifyingDiagnosis": True}
    assert ulcer["PowerMobilityPrefill"]["HasQualifyingDiagnosis"] is False


def test_every_cql_identifier_a_questionnaire_prefills_with_is_a_define_of_its_library() -> None:
    libraries = {json.loads(p.read_text())["url"]: json.loads(p.read_text()) for p in SHIPPED.glob("Library-*.json")}
    for path in SHIPPED.glob("Questionnaire-*.json"):
        questionnaire = json.loads(path.read_text())
        refs = [e["valueCanonical"] for e in questionnaire.get("extension", []) if e["url"].endswith("cqf-library")]
        defines: set[str] = set()
        for ref in refs:
            library = libraries[ref.partition("|")[0]]
            (elm,) = [c for c in library["content"] if c["contentType"] == "application/elm+json"]
            statements = json.loads(base64.b64decode(elm["data"]))["library"]["statements"]["def"]
            defines |= {s["name"] for s in statements}
        text = path.read_text()
        for expression in [e["valueExpression"]["expression"] for e in _initial_expressions(questionnaire)]:
            assert expression in defines, (path.name, expression)
        assert "cql-identifier" not in text or refs


def _initial_expressions(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for e in node.get("extension", []) if e["url"].endswith("sdc-questionnaire-initialExpression")]
    for item in node.get("item", []):
        found += _initial_expressions(item)
    return found
