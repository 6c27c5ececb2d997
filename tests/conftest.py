"""Test setup. Container tests are opt-in (`--run-docker` or CCWHEELTEST_DOCKER=1): once
opted in, a missing container engine or stand-in image fails them instead of skipping, so
CI cannot go green without having run them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

HERE = Path(__file__).parent
PROJECTS = HERE / "projects"
IMAGE = os.environ.get("CCWHEELTEST_IMAGE", "ccwheel-standin:latest")
# The Pythons the stand-in image builds for, and so the wheelhouse must serve.
WHEELHOUSE_PYTHONS = ("3.9", "3.11", "3.12")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-docker", action="store_true", help="run the container tests")


def docker_opted_in(config: pytest.Config) -> bool:
    flag = os.environ.get("CCWHEELTEST_DOCKER", "").lower() in {"1", "true", "yes"}
    return flag or bool(config.getoption("--run-docker"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if docker_opted_in(config):
        return
    skip = pytest.mark.skip(
        reason="container test: opt in with --run-docker or CCWHEELTEST_DOCKER=1"
    )
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def docker_image() -> str:
    """The stand-in manylinux image; its absence is a failure, never a skip."""
    if shutil.which("docker") is None:
        pytest.fail("container tests requested, but docker is not installed")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.fail(
            "container tests requested, but the docker daemon is not running: "
            + info.stderr.strip()
        )
    found = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
    if found.returncode != 0:
        pytest.fail(f"stand-in image {IMAGE} is missing: run tests/standin/build-image.sh")
    return IMAGE


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build requirements for the example projects, downloaded on the host: the containers
    have no network, so they install from this directory only."""
    cached = os.environ.get("CCWHEELTEST_WHEELHOUSE")
    target = Path(cached) if cached else tmp_path_factory.mktemp("wheelhouse")
    target.mkdir(parents=True, exist_ok=True)
    requirements = (PROJECTS / "requirements.txt").read_text().split()
    for version in WHEELHOUSE_PYTHONS:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--python-version",
                version,
                "--platform",
                "manylinux2014_x86_64",
                "-d",
                str(target),
                *requirements,
            ],
            check=True,
        )
    return target


@pytest.fixture
def offline_build_env(
    monkeypatch: pytest.MonkeyPatch, docker_image: str, wheelhouse: Path
) -> Iterator[None]:
    """What a user of the stand-in image would configure: their image, their container
    create-args (the wheelhouse mount) and their pip settings passed into the container.
    ccwheel has to compose with all of them."""
    monkeypatch.setenv("CIBW_MANYLINUX_X86_64_IMAGE", docker_image)
    monkeypatch.setenv(
        "CIBW_CONTAINER_ENGINE", f"docker; create_args: --volume={wheelhouse}:/wheelhouse:ro"
    )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheelhouse")
    monkeypatch.setenv("CIBW_ENVIRONMENT_PASS_LINUX", "PIP_NO_INDEX PIP_FIND_LINKS")
    for name in list(os.environ):
        if name.startswith(("CCWHEEL_", "CIBW_BUILD", "CIBW_SKIP", "CIBW_ENVIRONMENT=")):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def example_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Copy an example project from tests/projects and make it the working directory, as a
    user's CI checkout would be (cibuildwheel copies the working directory into /project)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(PROJECTS / name, target)
        monkeypatch.chdir(target)
        return target

    return copy
