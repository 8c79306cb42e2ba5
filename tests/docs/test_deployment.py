"""Deployment files (issue 26, point 14): the image's HEALTHCHECK asks the port EPA_PORT names, and
docker-compose builds one image for api and worker and takes the secrets from the environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, serving

ROOT = Path(__file__).resolve().parents[2]


def _healthcheck_code() -> str:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    found = re.search(r'HEALTHCHECK[^\n]*\\\n\s*CMD python -c "([^"]+)"', dockerfile)
    assert found is not None, "the Dockerfile's HEALTHCHECK runs python -c"
    return found[1]


def test_every_stage_starts_from_a_base_image_pinned_by_digest() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.M)
    assert len(stages) == 2
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, flags=re.M)
    assert image is not None
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", image[1])
    assert all(stage == "${PYTHON_IMAGE}" for stage in stages), stages


def test_the_healthcheck_follows_epa_port(tmp_path: Path) -> None:
    code = _healthcheck_code()
    port = free_port()
    with serving({"EPA_DATA_DIR": str(tmp_path), "EPA_DEVELOPMENT": "true"}, port):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        here = subprocess.run([sys.executable, "-c", code], env={**os.environ, "EPA_PORT": str(port)}, timeout=30)
        elsewhere = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "EPA_PORT": str(free_port())},
            capture_output=True,
            timeout=30,
        )
    assert here.returncode == 0
    assert elsewhere.returncode != 0


def test_docker_compose_builds_one_image_and_takes_secrets_from_the_environment() -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    env = {"PATH": os.environ.get("PATH", ""), "EPA_TOKEN_SIGNING_KEY": "k" * 40, "POSTGRES_PASSWORD": "pw-123"}
    config = subprocess.run([compose, "config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    missing = subprocess.run(
        [compose, "config"], cwd=ROOT, env={"PATH": env["PATH"]}, capture_output=True, text=True, timeout=60
    )
    assert config.returncode == 0, config.stderr
    services = config.stdout.split("\n  worker:\n")
    assert "image: epa-hub:local" in services[0]
    assert "image: epa-hub:local" in services[1]
    assert "build:" not in services[1]  # the worker runs the api's image, built once
    assert "epa:pw-123@db" in config.stdout
    assert "POSTGRES_PASSWORD: pw-123" in config.stdout
    assert missing.returncode != 0
    assert "set POSTGRES_PASSWORD" in missing.stderr or "set EPA_TOKEN_SIGNING_KEY" in missing.stderr
