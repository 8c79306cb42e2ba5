"""The x12-278 payer's configuration, refused at start-up with one line naming the key; its entry point;
and control numbers that stay unique across restarts and processes."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.payers.config import PayerConfigError
from app.payers.registry import build_registry
from app.payers.x12_278 import X12Adapter, create_adapter
from app.payers.x12_278.control import MAX_CONTROL, ControlNumbers

ROOT = Path(__file__).resolve().parents[3]
GOOD: dict[str, Any] = {
    "url": "https://core.clearinghouse.example/278",
    "envelope": "soap",
    "username": "epa-hub",
    "password": "pw",
    "sender_id": "EPAHUB",
    "receiver_id": "CLEARHOUSE",
    "payer_id": "ACME01",
    "usage": "P",
}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def config(settings: dict[str, Any]) -> dict[str, Any]:
    return {"payer": [{"id": "acme-x12", "adapter": "x12-278", "match": ["ACME01"], "settings": settings}]}


async def test_a_good_payer_builds_the_adapter(http: httpx.AsyncClient, tmp_path: Path) -> None:
    registry = build_registry(config(GOOD), http, factories={"x12-278": create_adapter})
    assert isinstance(registry.entries[0].adapter, X12Adapter)
    await registry.aclose()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"usage": "X"}, "usage"),
        ({"envelope": "xml"}, "envelope"),
        ({"sender_id": "EPA*HUB"}, "sender_id"),
        ({"receiver_id": None}, "receiver_id"),
        ({"url": "not a url"}, "url"),
        ({"password_file": "pw.txt"}, "give exactly one of password and password_file"),
        ({"password": None, "password_file": "missing.txt"}, "password_file"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_key(http: httpx.AsyncClient, change: dict[str, Any], key: str) -> None:
    settings = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(PayerConfigError) as caught:
        build_registry(config(settings), http, factories={"x12-278": create_adapter})
    message = str(caught.value)
    assert key in message
    assert "\n" not in message
    assert "acme-x12" in message


async def test_the_password_may_come_from_a_file_next_to_the_payers_file(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "pw.txt").write_text("from-file\n")
    payers = tmp_path / "payers.toml"
    payers.write_text(
        '[[payer]]\nid = "acme-x12"\nadapter = "x12-278"\n[payer.settings]\n'
        + "".join(f'{k} = "{v}"\n' for k, v in GOOD.items() if k != "password")
        + 'password_file = "pw.txt"\n'
    )
    registry = build_registry(payers, http, factories={"x12-278": create_adapter})
    adapter = registry.entries[0].adapter
    assert adapter._transport._password == "from-file"  # type: ignore[attr-defined]


def test_the_adapter_is_registered_under_epa_payers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["epa.payers"]["x12-278"] == "app.payers.x12_278:create_adapter"


def _draw(path: str, count: int) -> list[int]:
    import asyncio

    numbers = ControlNumbers(Path(path))
    return [asyncio.run(numbers.next()) for _ in range(count)]


def test_control_numbers_are_unique_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "acme.x12-control")
    with ProcessPoolExecutor(max_workers=2) as pool:
        drawn = [n for batch in pool.map(_draw, [path, path], [60, 60]) for n in batch]
    assert sorted(drawn) == list(range(1, 121))


async def test_control_numbers_wrap_after_the_largest(tmp_path: Path) -> None:
    path = tmp_path / "acme.x12-control"
    path.write_text(f"{MAX_CONTROL}\n")
    assert await ControlNumbers(path).next() == 1
