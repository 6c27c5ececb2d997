"""Test setup. The unit tier runs by default. Container tests are opt-in (`--run-docker` or
CCWHEELTEST_DOCKER=1): once opted in, a missing container engine or stand-in image fails
them instead of skipping, so CI cannot go green without having run them. The host-loop
tests (cibuildwheel's macOS and Windows build loops, run here: minutes each) come with
them, or alone with `--run-host-loop` or CCWHEELTEST_HOST_LOOP=1."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import offline
import pytest

HERE = Path(__file__).parent
PROJECTS = HERE / "projects"
IMAGE = os.environ.get("CCWHEELTEST_IMAGE", offline.IMAGE)
AARCH64_IMAGE = os.environ.get("CCWHEELTEST_IMAGE_AARCH64", offline.AARCH64_IMAGE)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-docker", action="store_true", help="run the container tests")
    parser.addoption(
        "--run-host-loop",
        action="store_true",
        help="run the host-loop tests (also with --run-docker)",
    )
    parser.addoption(
        "--run-differential",
        action="store_true",
        help="also every cell of the differential test (`nox -s differential`)",
    )


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def docker_opted_in(config: pytest.Config) -> bool:
    return _flag("CCWHEELTEST_DOCKER") or bool(config.getoption("--run-docker"))


def host_loop_opted_in(config: pytest.Config) -> bool:
    chosen = _flag("CCWHEELTEST_HOST_LOOP") or bool(config.getoption("--run-host-loop"))
    return chosen or docker_opted_in(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--run-differential"):
        rest = pytest.mark.skip(reason="a differential cell of `nox -s differential`")
        for item in items:
            if "differential" in item.keywords:
                item.add_marker(rest)
    if not host_loop_opted_in(config):
        loop = pytest.mark.skip(
            reason="host-loop test: opt in with --run-host-loop or CCWHEELTEST_HOST_LOOP=1"
        )
        for item in items:
            if "hostloop" in item.keywords:
                item.add_marker(loop)
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
def aarch64_image(docker_image: str) -> str:
    """The aarch64 stand-in, run through QEMU: its absence is a failure, never a skip."""
    binfmt = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not binfmt.exists() or not binfmt.read_text().startswith("enabled"):
        pytest.fail("QEMU user emulation for aarch64 is not enabled (see .ci/run)")
    found = subprocess.run(["docker", "image", "inspect", AARCH64_IMAGE], capture_output=True)
    if found.returncode != 0:
        pytest.fail(
            f"stand-in image {AARCH64_IMAGE} is missing: run tests/standin/build-image-aarch64.sh"
        )
    return AARCH64_IMAGE


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build requirements for the example projects, downloaded on the host: the containers
    have no network, so they install from this directory only."""
    cached = os.environ.get("CCWHEELTEST_WHEELHOUSE")
    return offline.fill_wheelhouse(
        Path(cached) if cached else tmp_path_factory.mktemp("wheelhouse")
    )


@pytest.fixture
def offline_build_env(
    monkeypatch: pytest.MonkeyPatch, docker_image: str, wheelhouse: Path
) -> Iterator[None]:
    """What a user of the stand-in image would configure: their image, their container
    create-args (the wheelhouse mount) and their pip settings passed into the container.
    ccwheel has to compose with all of them."""
    for name, value in offline.environment(docker_image, wheelhouse).items():
        monkeypatch.setenv(name, value)
    for name in list(os.environ):
        if name.startswith(("CCWHEEL_", "CIBW_BUILD", "CIBW_SKIP", "CIBW_CONFIG_SETTINGS")) or (
            name in {"CIBW_ENVIRONMENT", "SKBUILD_BUILD_DIR"}
        ):
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


Build = Callable[..., int]


@pytest.fixture
def ccwheel_build() -> Build:
    """`ccwheel build` in-process, as a user's CI step runs it: (cache_dir, out, *args)."""
    from ccwheel.cli import main

    def build(cache_dir: Path, out: Path, *extra: str) -> int:
        # cibuildwheel computes the platform from --only and refuses both together.
        platform = [] if "--only" in extra else ["--platform", "linux"]
        return main(
            ["build", *platform, "--cache-dir", str(cache_dir), "--output-dir", str(out), *extra]
        )

    return build


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnostics are annotations under Actions; the tests read the plain form unless
    they set GITHUB_ACTIONS themselves (and the suite may itself run under Actions)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def end_build() -> None:
    """cibuildwheel's log.build_end as its release calls it: with the wheel's file name
    from 4.0 on, with nothing before (the hooks pass either through)."""
    import inspect

    from cibuildwheel.logger import Logger, log

    takes_name = len(inspect.signature(Logger.build_end).parameters) > 1
    log.build_end(*([None] if takes_name else []))
