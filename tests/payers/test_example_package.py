"""The example adapter package (examples/payer-adapter), installed by dev.py from uv.lock, as an author ships it.

Its own contract-kit tests (examples/payer-adapter/tests) are collected by the main pytest run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import httpx
import pytest

from app.domain.codes import ReviewAction
from app.domain.model import Identifier
from app.payers.registry import build_registry, load_factories
from tests.payers.builders import item, request, submission

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "payer-adapter"
# What the example may import from the hub: the SDK, and in its tests the contract kit.
ALLOWED = {"src": {"app.payers.sdk"}, "tests": {"app.payers.sdk", "app.payers.testing"}}


@pytest.fixture(scope="module", autouse=True)
def installed_example() -> None:
    try:
        distribution("epa-echo-payer")
    except PackageNotFoundError:
        pytest.fail("epa-echo-payer is not installed: `python3 dev.py test` installs it from uv.lock")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_installed_adapter_is_discovered_and_serves_requests(http: httpx.AsyncClient) -> None:
    assert "echo" in load_factories()
    config = {
        "payer": [
            {"id": "echo", "adapter": "echo", "match": ["ECHO-PAYER"], "settings": {"not_required": ["99213"]}},
            {"id": "sandbox", "adapter": "sandbox", "default": True},
        ]
    }
    registry = build_registry(config, http)  # factories from the epa.payers entry points
    req = request(item(1, "99212"), item(2, "99213"), insurer=())
    entry = registry.route((), (Identifier(None, "ECHO-PAYER"),))
    assert (entry.id, entry.adapter_name) == ("echo", "echo")
    reply = await entry.adapter.submit(submission(req))
    assert [d.action for d in reply.decisions] == [ReviewAction.CERTIFIED, ReviewAction.NO_ACTION_REQUIRED]
    await registry.aclose()


def _hub_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "app" or name.startswith("app.")}


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_the_example_imports_the_hub_only_through_the_sdk(part: str) -> None:
    files = sorted((EXAMPLE / part).rglob("*.py"))
    assert files
    for path in files:
        imported = _hub_imports(path)
        assert imported <= ALLOWED[part], f"{path.relative_to(ROOT)} imports {sorted(imported - ALLOWED[part])}"
    assert set().union(*(_hub_imports(p) for p in files)) >= {"app.payers.sdk"}


def test_the_example_passes_mypy_strict_against_the_installed_hub(tmp_path: Path) -> None:
    # Run from an empty folder with no configuration, so `app` is found only as the installed
    # distribution (PEP 561: without app/py.typed mypy would refuse to use its types).
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            str(tmp_path / "mypy.ini"),
            str(EXAMPLE / "src" / "epa_echo_payer"),
            str(EXAMPLE / "tests"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert "Success: no issues found in 2 source files" in result.stdout


def test_the_wheel_ships_py_typed_and_the_sdk(tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder  # the project's build backend, a dev dependency

    wheel = Path(next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))))
    names = set(zipfile.ZipFile(wheel).namelist())
    kit = {f"app/payers/testing/{path.name}" for path in (ROOT / "app" / "payers" / "testing").glob("*.py")}
    assert {"app/py.typed", "app/payers/sdk.py", "app/payers/testing/__init__.py", *kit} <= names
