"""The download cache, for real: build requirements fetched from an index on the host's
loopback in the first run come from the cache in the second, which downloads nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import index_server
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture
ID = "cp312-manylinux_x86_64"


@pytest.mark.parametrize("frontend", ["pip", "build"])
def test_a_warm_build_downloads_no_build_requirement(
    frontend: str,
    tmp_path: Path,
    wheelhouse: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """pip (ccwheel's own build environment) and pypa/build (its --env-dir) both install
    from pip's cache, kept in ccwheel's cache directory: the second run fetches no wheel.
    The user's before-build, which pip-installs too, gets the same."""
    example_project("fidelity")
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    with index_server.serve(wheelhouse) as (url, served):
        for name, value in index_server.environment(url, wheelhouse).items():
            monkeypatch.setenv(name, value)
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
    pip_cache = cache_dir / "downloads" / "pip"
    assert pip_cache.is_dir()
    assert all(p.stat().st_mode & 0o002 for p in pip_cache.rglob("*") if not p.is_symlink())
