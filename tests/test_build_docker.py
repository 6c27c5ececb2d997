"""The core path, for real: cibuildwheel, docker, the stand-in manylinux image, ccache
and gcc. Each ccwheel run starts fresh containers; only the host cache directory carries
over from one run to the next."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from ccwheel import binaries

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture

IDS = ("cp311-manylinux_x86_64", "cp312-manylinux_x86_64")
UNITS = 7  # the setuptools example: five C++ units and two C units


def _import_from_wheel(wheel: Path, tmp_path: Path) -> dict[str, object]:
    """Load the built module in a fresh interpreter and read what it was built with."""
    unpacked = tmp_path / f"unpacked-{wheel.stem}"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(unpacked)
    code = (
        "import json, ccwheel_example as m; "
        "print(json.dumps({'greeting': m.greeting(), 'before_build': m.before_build_ran(), "
        "'run': m.run(50)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=unpacked, check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out))


def test_second_build_hits_directly_and_user_config_still_applies(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    example_project("setuptools")
    cache_dir = tmp_path / "cache"

    assert ccwheel_build(cache_dir, tmp_path / "cold", "--report", str(tmp_path / "cold.json")) == 0
    cold = json.loads((tmp_path / "cold.json").read_text())
    assert [b["identifier"] for b in cold["builds"]] == list(IDS)
    for b in cold["builds"]:
        assert b["compilations"] == UNITS and b["warm"] is False
        assert b["ccache"]["origin"] == "ccwheel"  # the image has no ccache of its own
    capsys.readouterr()

    warm_json = tmp_path / "warm.json"
    assert (
        ccwheel_build(
            cache_dir,
            tmp_path / "warm",
            "--report",
            str(warm_json),
            "--min-hit-rate",
            "0.99",
        )
        == 0
    )
    stdout = capsys.readouterr().out
    report_block = stdout.split("ccwheel: ccache per build", 1)[1]
    warm = json.loads(warm_json.read_text())
    assert warm["complete"] is True
    for b in warm["builds"]:
        assert b["warm"] is True and b["finished"] is True
        assert b["compilations"] == UNITS
        assert b["hit_rate"] >= 0.99, b
        assert b["direct_hits"] == b["hits"], b  # every hit a direct hit
        assert b["missed_files"] == []
        # The report on stdout says the same as the JSON, one row per identifier.
        row = next(
            line
            for line in report_block.splitlines()
            if line.split() and line.split()[0] == b["identifier"]
        )
        assert row.split()[1:8] == [
            "warm",
            str(b["compilations"]),
            str(b["hits"]),
            str(b["direct_hits"]),
            str(b["preprocessed_hits"]),
            str(b["misses"]),
            str(b["uncacheable"]),
        ]
    assert warm["totals"]["hits"] == 2 * UNITS

    # The user's own before-build and environment reached the build.
    wheels = sorted((tmp_path / "warm").glob("*.whl"))
    assert len(wheels) == 2
    cp311 = next(w for w in wheels if "-cp311-" in w.name)
    built = _import_from_wheel(cp311, tmp_path)
    assert built["greeting"] == "hello-from-user-environment"
    assert built["before_build"] is True


def test_cache_disabled_still_builds(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    example_project("setuptools")
    cache_dir = tmp_path / "cache"
    assert ccwheel_build(cache_dir, tmp_path / "out", "--no-cache", "--only", IDS[0]) == 0
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    assert not cache_dir.exists()  # plain cibuildwheel: nothing mounted, nothing written
    assert "ccache per build" not in capsys.readouterr().out


def test_without_a_usable_ccache_the_wheel_is_still_built(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    """No ccache in the image and none from ccwheel for its architecture: one warning.
    With the pip frontend, whose build without isolation still needs ccwheel's setup to
    install the build requirements although ccache is out."""
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", "pip")
    example_project("setuptools")
    monkeypatch.setattr(binaries, "host_binary", lambda: None)
    report_path = tmp_path / "r.json"
    assert (
        ccwheel_build(
            tmp_path / "cache",
            tmp_path / "out",
            "--only",
            IDS[0],
            "--report",
            str(report_path),
        )
        == 0
    )
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    captured = capfd.readouterr()  # the warning comes from inside the container
    warnings = [line for line in captured.err.splitlines() if line.startswith("ccwheel: warning")]
    assert len(warnings) == 1 and "no usable ccache" in warnings[0]
    (build,) = json.loads(report_path.read_text())["builds"]
    assert "no usable ccache" in build["warning"] and build["compilations"] == 0


def test_pip_frontend_hits_through_a_build_without_isolation(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """pip has no --env-dir: ccwheel installs the build requirements into the build's own
    interpreter and runs pip without isolation, so no random build-env path is hashed."""
    example_project("setuptools")
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", "pip")
    cache_dir = tmp_path / "cache"
    for run in ("cold", "warm"):
        assert (
            ccwheel_build(
                cache_dir,
                tmp_path / run,
                "--only",
                IDS[0],
                "--report",
                str(tmp_path / f"{run}.json"),
            )
            == 0
        )
    (build,) = json.loads((tmp_path / "warm.json").read_text())["builds"]
    assert build["compilations"] == UNITS
    assert build["hit_rate"] >= 0.99 and build["direct_hits"] == build["hits"], build


def test_cp39_with_the_build_frontend_hits_without_isolation(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    ccwheel_build: Build,
) -> None:
    """The image's build for cp39 predates --env-dir (it needs Python >= 3.10), so ccwheel
    runs `python -m build --no-isolation` there, after installing the requirements."""
    example_project("setuptools")
    cache_dir = tmp_path / "cache"
    for run in ("cold", "warm"):
        code = ccwheel_build(
            cache_dir,
            tmp_path / run,
            "--only",
            "cp39-manylinux_x86_64",
            "--report",
            str(tmp_path / f"{run}.json"),
        )
        assert code == 0
    (build,) = json.loads((tmp_path / "warm.json").read_text())["builds"]
    assert build["compilations"] == UNITS
    assert build["hit_rate"] >= 0.99 and build["direct_hits"] == build["hits"], build


def test_explain_names_the_header_behind_the_misses(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    root = example_project("setuptools")
    cache_dir = tmp_path / "cache"
    assert ccwheel_build(cache_dir, tmp_path / "a", "--only", IDS[0], "--explain") == 0
    with (root / "src" / "kernels.hpp").open("a") as f:
        f.write("\ninline int ccwheel_added() { return 1; }\n")
    capsys.readouterr()
    report = tmp_path / "r.json"
    args = ("--only", IDS[0], "--explain", "--report", str(report))
    assert ccwheel_build(cache_dir, tmp_path / "b", *args) == 0
    (b,) = json.loads(report.read_text())["builds"]
    assert b["misses"] == 5 and b["hits"] == 2  # the C++ units; the C units still hit
    assert len(b["explain"]) == 5
    causes = {e["cause"] for e in b["explain"]}
    assert len(causes) == 1 and "kernels.hpp" in causes.pop(), b["explain"]
    assert "5 units missed: header" in capsys.readouterr().out


# What many setup.py files do before setup(): distutils' has_function and pybind11's
# has_flag compile a scratch source from a randomly named temporary file.
SETUP_PROBE = """
import tempfile
from setuptools._distutils.ccompiler import new_compiler
from setuptools._distutils.sysconfig import customize_compiler

_cc = new_compiler()
customize_compiler(_cc)
with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as _f:
    _f.write("int probe(void) { return 0; }\\n")
_cc.compile([_f.name], output_dir=tempfile.mkdtemp())
"""


def test_a_setup_script_s_probe_compiles_are_counted_apart(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    ccwheel_build: Build,
) -> None:
    """A fresh random name every run: the probe misses by nature, as CMake's and meson's
    probes do, and is counted apart from the project's compiles."""
    project = example_project("setuptools")
    setup_py = project / "setup.py"
    setup_py.write_text(SETUP_PROBE + setup_py.read_text())
    cache_dir = tmp_path / "cache"
    for name in ("cold", "warm"):
        report = tmp_path / f"{name}.json"
        assert (
            ccwheel_build(cache_dir, tmp_path / name, "--only", IDS[0], "--report", str(report))
            == 0
        )
    (b,) = json.loads((tmp_path / "warm.json").read_text())["builds"]
    assert b["warm"] is True
    assert (b["compilations"], b["hits"], b["direct_hits"]) == (UNITS, UNITS, UNITS), b
    assert b["hit_rate"] == 1.0 and b["missed_files"] == []
    assert b["probes"] >= 1, b
