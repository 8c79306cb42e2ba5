#!/usr/bin/env python3
"""Bootstrap and run: `python3 dev.py serve` starts the service, `python3 dev.py test` runs the suite.

Needs only Python 3.11+. Creates ./.venv on first use and re-installs the project (with its
dev extra) whenever pyproject.toml changes. Extra arguments go to `epa serve` or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".epa-installed"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing the project and its dev tools into .venv", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
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
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "serve":
        env = {"EPA_DEVELOPMENT": "true", "EPA_DATA_DIR": str(ROOT / "data"), **os.environ}
        return subprocess.call([str(BIN / "epa"), "serve", *rest], env=env)
    ensure_chromium()
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
