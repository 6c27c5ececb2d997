"""A real podman build where podman can run containers; elsewhere, skipped with the reason
podman gives. (On the machine these tests were written on, podman 4.3 cannot start any
container: "setrlimit RLIMIT_NOFILE: operation not permitted", even with --ulimit.) The
create-args podman gets are checked without a container in test_compose.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

pytestmark = pytest.mark.docker

Build = Callable[..., int]  # the ccwheel_build fixture


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stderr.strip().splitlines() or ["unknown error"])[-1]


@pytest.fixture
def podman_image(docker_image: str) -> str:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    # The stand-in image lives in docker's store; podman gets a copy.
    loaded = subprocess.run(
        f"docker save {docker_image} | podman load", shell=True, capture_output=True, text=True
    )
    if loaded.returncode != 0:
        pytest.skip(f"podman cannot load the stand-in image: {_last_line(loaded)}")
    probe = subprocess.run(
        ["podman", "run", "--rm", docker_image, "true"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run containers here: {_last_line(probe)}")
    return docker_image


def test_podman_build_hits_like_docker(
    tmp_path: Path,
    podman_image: str,
    wheelhouse: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    example_project("setuptools")
    monkeypatch.setenv("CIBW_MANYLINUX_X86_64_IMAGE", podman_image)
    monkeypatch.setenv(
        "CIBW_CONTAINER_ENGINE", f"podman; create_args: --volume={wheelhouse}:/wheelhouse:ro"
    )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheelhouse")
    monkeypatch.setenv("CIBW_ENVIRONMENT_PASS_LINUX", "PIP_NO_INDEX PIP_FIND_LINKS")
    for run in ("cold", "warm"):
        report = tmp_path / f"{run}.json"
        args = ("--only", "cp311-manylinux_x86_64", "--report", str(report))
        assert ccwheel_build(tmp_path / "cache", tmp_path / run, *args) == 0
    (b,) = json.loads((tmp_path / "warm.json").read_text())["builds"]
    assert b["hit_rate"] >= 0.99 and b["direct_hits"] == b["hits"], b
