"""The example adapter package (examples/payer-adapter) is discovered through its entry point once installed."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.domain.codes import ReviewAction
from app.domain.model import Identifier
from app.payers.registry import build_registry, load_factories
from tests.payers.builders import item, request, submission

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payer-adapter"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


@pytest.fixture(scope="module")
def installed_example() -> Iterator[None]:
    try:
        import hatchling  # noqa: F401  (the example's build backend; --no-build-isolation needs it here)
    except ImportError:
        pytest.skip("hatchling is not installed, the example package cannot be built offline")
    result = subprocess.run(
        [*PIP, "install", "--no-deps", "--no-build-isolation", "--no-index", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        pytest.skip(f"cannot install the example package: {last}")
    importlib.invalidate_caches()
    try:
        yield
    finally:
        subprocess.run([*PIP, "uninstall", "-y", "epa-echo-payer"], capture_output=True, timeout=120, check=False)
        importlib.invalidate_caches()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.mark.usefixtures("installed_example")
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


@pytest.mark.usefixtures("installed_example")
def test_example_package_passes_the_contract_kit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=EXAMPLE.parents[1],
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "passed" in result.stdout
