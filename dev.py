#!/usr/bin/env python3
"""Bootstrap and run: `python3 dev.py serve` starts the service, `python3 dev.py test` runs the suite.

Needs only Python 3.11+ and git. Creates ./.venv on first use and installs the exact versions
locked in uv.lock (the project with its dev extra, and the example adapter package with its
test extra), again whenever uv.lock or a pyproject.toml changes. Extra arguments go to
`epa serve` or to pytest.

`python3 dev.py lock` re-resolves uv.lock after a pyproject.toml change; `python3 dev.py lock
--upgrade` refreshes every pin to the newest release the ranges allow (any `uv lock` option works).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
UV = BIN / ("uv.exe" if os.name == "nt" else "uv")
STAMP = VENV / ".epa-installed"
LOCK = ROOT / "uv.lock"
# What the installed environment is made from: a change to any of them reinstalls.
INPUTS = (LOCK, ROOT / "pyproject.toml", ROOT / "examples" / "payer-adapter" / "pyproject.toml")
# The dev environment: every workspace package with every extra (epa-hub[dev], epa-echo-payer[test]).
SYNC = ["sync", "--locked", "--all-packages", "--all-extras"]


def uv_requirement(lock: Path = LOCK) -> str:
    """A pip requirement line for the uv release pinned in the lock, with every hash the lock lists."""
    packages = tomllib.loads(lock.read_text(encoding="utf-8")).get("package", [])
    for package in packages:
        if package["name"] == "uv":
            files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
            hashes = " ".join(f"--hash={f['hash']}" for f in files)
            return f"uv=={package['version']} {hashes}"
    sys.exit(f"dev.py: {lock.name} pins no uv release; add uv to the dev extra and run `uv lock`")


def _uv_env() -> dict[str, str]:
    # Sync into ./.venv with its own interpreter; never download a Python.
    return {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "UV_PYTHON_DOWNLOADS": "never"}


def ensure_uv() -> None:
    """Create .venv if needed and install the locked uv release into it (hash-checked by pip)."""
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    requirement = uv_requirement()
    pinned = requirement.split()[0].removeprefix("uv==")
    if UV.exists():
        found = subprocess.run([str(UV), "--version"], capture_output=True, text=True, check=False).stdout.split()
        if found[1:2] == [pinned]:
            return
    python = str(BIN / "python")
    if subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False).returncode != 0:
        subprocess.run([python, "-m", "ensurepip", "--default-pip"], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "uv.txt"
        requirements.write_text(requirement + "\n", encoding="utf-8")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        subprocess.run([*pip, "--require-hashes", "-r", str(requirements)], check=True)


def ensure_environment() -> None:
    wanted = hashlib.sha256(b"".join(path.read_bytes() for path in INPUTS)).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        return
    ensure_uv()
    print("dev.py: installing the locked versions (uv.lock) into .venv", file=sys.stderr)
    result = subprocess.run([str(UV), *SYNC], env=_uv_env(), cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit("dev.py: installing from uv.lock failed (after a pyproject.toml change: `python3 dev.py lock`)")
    STAMP.write_text(wanted)


def ensure_chromium() -> None:
    """The console's browser tests drive Debian's `chromium` (playwright never downloads one).

    Installed with apt-get when missing and this runs as root; otherwise the tests say what is
    missing (and fail under CI=true).
    """
    if shutil.which("chromium") or os.name == "nt" or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print("dev.py: installing chromium with apt-get (for the console's browser tests)", file=sys.stderr)
    apt = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.call(apt, env=env) != 0:
        subprocess.call(["apt-get", "update"], env=env)
        subprocess.call(apt, env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "lock", "uv-requirement"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "uv-requirement":  # for the Dockerfile: the same uv, hash-checked
        print(uv_requirement())
        return 0
    if command == "lock":
        ensure_uv()
        return subprocess.call([str(UV), "lock", *rest], env=_uv_env(), cwd=ROOT)
    ensure_environment()
    os.chdir(ROOT)
    if command == "serve":
        env = {"EPA_DEVELOPMENT": "true", **os.environ}  # the same database as `.venv/bin/epa` by default
        return subprocess.call([str(BIN / "epa"), "serve", *rest], env=env)
    ensure_chromium()
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
