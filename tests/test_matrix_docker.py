"""Every backend with every frontend cibuildwheel offers, in real containers: the second
run (fresh container, same Python version) hits. One Python version each, to keep CI short;
the setuptools x build and pip cells live in test_build_docker.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.long, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture

CP311 = "cp311-manylinux_x86_64"
CP312 = "cp312-manylinux_x86_64"
# Project -> compilations of its own, probes not counted.
UNITS = {"setuptools": 7, "scikit-build-pybind11": 4, "meson-c": 4}
CELLS = [
    ("setuptools", "build[uv]"),
    ("setuptools", "uv"),
    ("scikit-build-pybind11", "build"),
    ("scikit-build-pybind11", "pip"),
    ("scikit-build-pybind11", "build[uv]"),
    ("scikit-build-pybind11", "uv"),
    ("meson-c", "build"),
    ("meson-c", "pip"),
    ("meson-c", "build[uv]"),
    ("meson-c", "uv"),
]


def cold_then_warm(
    build: Build, tmp_path: Path, *extra: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    cache_dir = tmp_path / "cache"
    reports = []
    for run in ("cold", "warm"):
        report = tmp_path / f"{run}.json"
        assert build(cache_dir, tmp_path / run, "--report", str(report), *extra) == 0
        assert len(list((tmp_path / run).glob("*.whl"))) >= 1
        reports.append(json.loads(report.read_text()))
    return reports[0], reports[1]


def assert_warm_hits(build: dict[str, Any], units: int) -> None:
    assert build["finished"] and build["warm"], build
    assert build["compilations"] == units, build
    assert build["hit_rate"] >= 0.99, build
    assert build["direct_hits"] >= 0.95 * build["hits"], build


@pytest.mark.parametrize(("project", "frontend"), CELLS)
def test_warm_rebuild_hits(
    project: str,
    frontend: str,
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    example_project(project)
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    _, warm = cold_then_warm(ccwheel_build, tmp_path, "--only", CP311)
    (b,) = warm["builds"]
    assert_warm_hits(b, UNITS[project])
    if project == "scikit-build-pybind11":
        # CMake's compiler probes are reported apart, not hidden and not in the hit rate.
        assert b["probes"] >= 1


@pytest.mark.parametrize(
    "how", ["pyproject", "config-settings", "environment"], ids=lambda h: f"build-dir-{h}"
)
def test_scikit_build_core_with_the_users_own_build_dir(
    how: str,
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """A build-dir the user chose is kept (ccwheel sets none), and hits: inside /project it
    is under CCACHE_BASEDIR, so its paths are relative in the hash."""
    root = example_project("scikit-build-pybind11")
    if how == "pyproject":
        with (root / "pyproject.toml").open("a") as f:
            f.write('\n[tool.scikit-build]\nbuild-dir = "build/{wheel_tag}"\n')
    elif how == "config-settings":
        monkeypatch.setenv("CIBW_CONFIG_SETTINGS", "build-dir=build/{wheel_tag}")
    else:
        monkeypatch.setenv("CIBW_ENVIRONMENT", "SKBUILD_BUILD_DIR=/project/build/cibw")
    _, warm = cold_then_warm(ccwheel_build, tmp_path, "--only", CP311)
    (b,) = warm["builds"]
    assert_warm_hits(b, UNITS["scikit-build-pybind11"])
    # The user's directory was used: CMake's probes ran in it, not in ccwheel's.
    stats = next((tmp_path / "cache" / ".ccwheel" / "runs").glob(f"*/{CP311}.stats"))
    assert "/tmp/ccwheel/skbuild" not in stats.read_text()


def test_units_without_python_headers_hit_across_python_versions(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    ccwheel_build: Build,
) -> None:
    """One cold run of cp311 then cp312: the second version reuses every unit that does not
    include Python headers. Only the pybind11 binding unit compiles again."""
    example_project("scikit-build-pybind11")
    report = tmp_path / "r.json"
    assert ccwheel_build(tmp_path / "cache", tmp_path / "out", "--report", str(report)) == 0
    first, second = json.loads(report.read_text())["builds"]
    assert (first["identifier"], second["identifier"]) == (CP311, CP312)
    assert first["hits"] == 0
    assert second["compilations"] == UNITS["scikit-build-pybind11"]
    assert [Path(f).name for f in second["missed_files"]] == ["bindings.cpp"]
    assert second["hits"] == 3 and second["direct_hits"] == 3
