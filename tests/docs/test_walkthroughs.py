"""Every page under docs/walkthroughs/ runs as written: its ```sh blocks, in order, against one `epa serve`
(all pages in order, twice, on the same server).

A walk-through is what a user types to try one path of an authorization's life (an information
request, an appeal, ...) with the sandbox payer. The test starts the service the way the README does
(development mode, embedded SQLite, sandbox payer, embedded worker) on a free loopback port and runs
the page's shell blocks as one `bash -euo pipefail` script with `EPA_BASE` set to that service, so a
page whose commands or expected answers drift from the code fails here. Pages check their own
answers (`test "$(...)" = ...`); the conventions are in docs/walkthroughs/README.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import free_port, serving

PAGES = Path(__file__).resolve().parents[2] / "docs" / "walkthroughs"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def walkthroughs() -> list[Path]:
    return sorted(p for p in PAGES.glob("*.md") if p.name != "README.md")


def script_of(page: Path) -> str:
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    assert blocks, f"{page.name} has no ```sh block to run"
    return "\n".join(blocks)


def test_the_harness_finds_the_blocks_of_a_page(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("text\n```sh\necho one\n```\nmore\n```json\n{}\n```\n```sh\necho two\n```\n")
    assert script_of(page) == "echo one\n\necho two\n"


def _run(page: Path, base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script_of(page)],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("EPA_")},
            "EPA_BASE": base,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        cwd=PAGES.parents[1],
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_every_walkthrough_runs_as_written_in_order_twice_on_one_used_server(tmp_path: Path) -> None:
    """All pages, in order, against one server, and then all of them again: a page posts identifiers
    of its own run and checks what it added, never whole-database totals, so it passes on a server
    that others (and itself) already used."""
    if shutil.which("curl") is None:
        pytest.skip("the walk-throughs use curl")
    port = free_port()
    env = {"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true"}
    failed: list[str] = []
    with serving(env, port):
        for round_ in ("first", "second"):
            for page in walkthroughs():
                result = _run(page, f"http://127.0.0.1:{port}")
                if result.returncode != 0:
                    failed.append(f"{page.name} ({round_} run):\n{result.stdout}\n{result.stderr}")
    assert failed == [], "\n".join(failed)
