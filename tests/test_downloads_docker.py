"""The download cache, for real: build requirements fetched from an index on the host's
loopback in the first run come from the cache in the second, which downloads nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import index_server
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture
ID = "cp312-manylinux_x86_64"


# uv's cases, and the failed build below, run once (`long`), not against every line.
UV_CASES = [pytest.param(f, marks=pytest.mark.long) for f in ("build[uv]", "uv")]


@pytest.mark.parametrize("frontend", ["pip", "build", *UV_CASES])
def test_a_warm_build_downloads_no_build_requirement(
    frontend: str,
    tmp_path: Path,
    wheelhouse: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """pip, pypa/build and uv install from their caches, kept in ccwheel's cache directory
    (each run's pip and uv add to it at the run's end): the second run fetches no wheel.
    The user's before-build, which pip-installs too, gets the same."""
    example_project("fidelity")
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    with index_server.serve(wheelhouse) as (url, served):
        for name, value in index_server.environment(url, wheelhouse).items():
            monkeypatch.setenv(name, value)
        if "uv" in frontend:  # this image's uv takes its index from a configuration file
            config = tmp_path / "uv-config"
            config.mkdir()
            (config / "uv.toml").write_text(f'no-index = true\nfind-links = ["{url}"]\n')
            engine = os.environ["CIBW_CONTAINER_ENGINE"]
            monkeypatch.setenv("CIBW_CONTAINER_ENGINE", f"{engine} --volume={config}:/uvc:ro")
            monkeypatch.setenv("UV_CONFIG_FILE", "/uvc/uv.toml")
            passed = os.environ["CIBW_ENVIRONMENT_PASS_LINUX"]
            monkeypatch.setenv("CIBW_ENVIRONMENT_PASS_LINUX", f"{passed} UV_CONFIG_FILE")
        cache_dir = tmp_path / "cache"
        assert ccwheel_build(cache_dir, tmp_path / "cold", "--only", ID) == 0
        assert served.wheels >= 4, served.wheels  # setuptools, packaging x2, ninja, pathspec
        cold_bytes = served.wheel_bytes
        served.reset()
        report = tmp_path / "warm.json"
        assert (
            ccwheel_build(cache_dir, tmp_path / "warm", "--only", ID, "--report", str(report)) == 0
        )
        assert (served.wheels, served.wheel_bytes) == (0, 0), cold_bytes
    (b,) = json.loads(report.read_text())["builds"]
    assert b["hits"] == b["compilations"] == 1
    # The host user can remove what the container's root put there.
    _assert_everyone_may_remove(cache_dir / "downloads" / "pip")


def _assert_everyone_may_remove(tree: Path) -> None:
    found = [p for p in tree.rglob("*") if not p.is_symlink()]
    assert found, tree
    assert all(p.stat().st_mode & 0o002 for p in found), tree


@pytest.mark.long
def test_what_a_failed_build_downloaded_is_the_host_user_s_too(
    tmp_path: Path,
    wheelhouse: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """A build that fails (here its repair) ends with no build_end: its finishing step
    still runs, so what its pip wrote as the container's root (umask 022) is the host
    user's to move to the shared cache and to remove."""
    example_project("fidelity")
    monkeypatch.setenv("CIBW_REPAIR_WHEEL_COMMAND_LINUX", "false")
    with index_server.serve(wheelhouse) as (url, served):
        for name, value in index_server.environment(url, wheelhouse).items():
            monkeypatch.setenv(name, value)
        cache_dir = tmp_path / "cache"
        assert ccwheel_build(cache_dir, tmp_path / "out", "--only", ID) != 0
        assert served.wheels >= 4, served.wheels
    _assert_everyone_may_remove(cache_dir / "downloads" / "pip")


# Run A's backend: it starts once pip has built its build requirement from the sdist (into
# the wheel cache of run A's pip), says so, and waits until run B is over: that wheel must
# still be where A's pip put it.
WAITS_SETUP = """
import glob, os, time
from setuptools import Extension, setup
open("/sync/a-ready", "w").close()
deadline = time.time() + 600
while not os.path.exists("/sync/b-done") and time.time() < deadline:
    time.sleep(0.5)
cache = os.environ["PIP_CACHE_DIR"]
if not glob.glob(os.path.join(cache, "wheels", "**", "sdistdep-*.whl"), recursive=True):
    raise SystemExit("another run removed what this run's pip built from an sdist")
setup(name="waits", version="1.0", ext_modules=[Extension("unit", ["unit.c"])])
"""
B_SETUP = """
from setuptools import Extension, setup
setup(name="other", version="1.0", ext_modules=[Extension("unit", ["unit.c"])])
"""


UNIT_C = """#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "unit"};
PyMODINIT_FUNC PyInit_unit(void) { return PyModule_Create(&def); }
"""


def _sdist(dest: Path) -> None:
    """sdistdep 1.0: an sdist only, which pip builds into its wheel cache."""
    import io
    import tarfile

    files = {
        "PKG-INFO": "Metadata-Version: 2.1\nName: sdistdep\nVersion: 1.0\n",
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
        'build-backend = "setuptools.build_meta"\n',
        "setup.py": "from setuptools import setup\nsetup(name='sdistdep', version='1.0')\n",
    }
    with tarfile.open(dest / "sdistdep-1.0.tar.gz", "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"sdistdep-1.0/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.long
def test_a_run_never_removes_what_another_live_run_built_from_an_sdist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs at once on one cache directory, for real: run B starts and ends a whole
    build while run A's build is under way, and what A's pip built from an sdist for A's
    build environment is still in A's wheel cache afterwards."""
    import subprocess
    import sys
    import time

    extra, sync = tmp_path / "extra", tmp_path / "sync"
    extra.mkdir()
    sync.mkdir()
    sync.chmod(0o777)
    _sdist(extra)
    projects = {"a": tmp_path / "a", "b": tmp_path / "b"}
    for name, path in projects.items():
        path.mkdir()
        requires = '"setuptools", "sdistdep"' if name == "a" else '"setuptools"'
        (path / "pyproject.toml").write_text(
            f'[build-system]\nrequires = [{requires}]\nbuild-backend = "setuptools.build_meta"\n'
        )
        (path / "setup.py").write_text(WAITS_SETUP if name == "a" else B_SETUP)
        # An extension module: cibuildwheel refuses to build a pure wheel.
        (path / "unit.c").write_text(UNIT_C)
    engine = os.environ["CIBW_CONTAINER_ENGINE"]
    monkeypatch.setenv(
        "CIBW_CONTAINER_ENGINE", f"{engine} --volume={extra}:/extra:ro --volume={sync}:/sync"
    )
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheelhouse /extra")
    cache_dir = tmp_path / "cache"

    def ccwheel(name: str) -> list[str]:
        out = tmp_path / f"out-{name}"
        return [sys.executable, "-m", "ccwheel", "build", "--only", ID, "--cache-dir",
                str(cache_dir), "--output-dir", str(out)]  # fmt: skip

    log = (tmp_path / "a.log").open("w")
    a = subprocess.Popen(ccwheel("a"), cwd=projects["a"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 600
        while not (sync / "a-ready").exists():
            assert a.poll() is None and time.time() < deadline, (tmp_path / "a.log").read_text()
            time.sleep(0.5)
        b = subprocess.run(
            ccwheel("b"), cwd=projects["b"], capture_output=True, text=True, timeout=600
        )
        assert b.returncode == 0, b.stdout + b.stderr
        (sync / "b-done").write_text("")
        assert a.wait(timeout=600) == 0, (tmp_path / "a.log").read_text()
    finally:
        (sync / "b-done").write_text("")
        if a.poll() is None:
            a.kill()
        log.close()
    assert list((tmp_path / "out-a").glob("waits-1.0-*.whl"))
