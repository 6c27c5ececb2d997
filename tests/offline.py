"""What a build on this repository's CI machine needs: the stand-in image, and build
requirements from a wheelhouse mounted into the container, since containers here cannot
reach any index. Shared by the container tests (conftest.py) and the benchmark (bench.py)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
IMAGE = "ccwheel-standin:latest"
AARCH64_IMAGE = "ccwheel-standin-aarch64:latest"
# The Pythons the stand-in image builds for, and so the wheelhouse must serve.
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
# Two releases of one pure-Python package for every one of them: the fidelity example pins
# one in its build requirements and its before-build installs the other. Two setuptools: a
# constraint of the differential test picks the older.
PINNED = ("packaging==24.2", "packaging==25.0", "setuptools==82.0.1")
# A current pip (the image's is older than 25.3, the first with build constraints): the
# differential test's before-build installs it, as a user's may.
CURRENT_PIP = "pip>=25.3"
# What the requirements need on Pythons older than this machine's (3.10: tomli and
# exceptiongroup for scikit-build-core and meson): `pip download --python-version` checks
# each wheel's tags against that version, but evaluates the markers for this interpreter.
BACKPORTS = ("tomli", "exceptiongroup", "typing-extensions")


def pip_download(target: Path, *args: str) -> None:
    """`pip download -d target ARGS` from the host's index (the one network this machine has)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "-d",
            str(target),
            *args,
        ],
        check=True,
    )


def cibuildwheel_sdist(version: str, downloads: Path) -> Path:
    """cibuildwheel's sdist for `version` (its action.yml and its tests are in it),
    downloaded once into `downloads`."""
    downloads.mkdir(parents=True, exist_ok=True)
    name = f"cibuildwheel-{version}.tar.gz"
    if not (downloads / name).is_file():
        pip_download(downloads, "--no-binary=:all:", "--no-deps", f"cibuildwheel=={version}")
    return downloads / name


def fill_wheelhouse(target: Path, archs: tuple[str, ...] = ("x86_64",)) -> Path:
    """Download the example projects' build requirements into `target` (a no-op for what is
    already there), for every Python of the image, for the images of `archs`. Held locked:
    test files run side by side (one pytest-xdist worker each), and a wheelhouse of
    CCWHEELTEST_WHEELHOUSE is one for all of them, where pip's copy of a file is not
    atomic."""
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".fill.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fill(target, archs)


def _fill(target: Path, archs: tuple[str, ...]) -> Path:
    requirements = (HERE / "projects" / "requirements.txt").read_text().split()
    for arch, version in [(a, v) for a in archs for v in PYTHONS]:
        pip_download(
            target,
            "--only-binary=:all:",
            "--python-version",
            version,
            "--platform",
            f"manylinux2014_{arch}",
            *requirements,
            *BACKPORTS,
        )
        pip_download(
            target, "--only-binary=:all:", "--no-deps", "--python-version", version, CURRENT_PIP
        )
    for pin in PINNED:  # one at a time: together they conflict
        pip_download(target, "--only-binary=:all:", "--no-deps", pin)
    # uv reads no PIP_* variable, and this uv has no UV_NO_INDEX: a config file it is.
    uv_toml = 'no-index = true\nfind-links = ["/wheelhouse"]\n'
    if not (target / "uv.toml").is_file() or (target / "uv.toml").read_text() != uv_toml:
        (target / "uv.toml").write_text(uv_toml)
    return target


def environment(
    image: str | None, wheelhouse: Path | None, aarch64_image: str | None = None
) -> dict[str, str]:
    """The settings a user of that image and wheelhouse would have: their image, their
    container create-args (the wheelhouse mount), their pip and uv settings passed into the
    container. ccwheel has to compose with all of them."""
    env = {"CIBW_CONTAINER_ENGINE": "docker"}
    if image:
        env["CIBW_MANYLINUX_X86_64_IMAGE"] = image
    if aarch64_image:
        env["CIBW_MANYLINUX_AARCH64_IMAGE"] = aarch64_image
    if wheelhouse:
        env["CIBW_CONTAINER_ENGINE"] = f"docker; create_args: --volume={wheelhouse}:/wheelhouse:ro"
        env.update(
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS="/wheelhouse",
            UV_CONFIG_FILE="/wheelhouse/uv.toml",
            CIBW_ENVIRONMENT_PASS_LINUX="PIP_NO_INDEX PIP_FIND_LINKS UV_CONFIG_FILE",
        )
    return env
