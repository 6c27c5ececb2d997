"""The cache must never be the reason a build fails, and never lie about what it measured:
real containers, each case provoked on purpose."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from ccwheel import binaries, cache

pytestmark = [pytest.mark.docker, pytest.mark.long, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture
ID = "cp311-manylinux_x86_64"
ID312 = "cp312-manylinux_x86_64"
UNITS = 7  # the setuptools example


def _report(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _ccwheel(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ccwheel", "build", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _containers_mounting(path: Path) -> list[str]:
    """Containers (running or not) with `path` among their mounts: this test's own, even
    when other builds share the engine."""
    out = subprocess.run(
        ["docker", "ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.Mounts}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split()[0] for line in out.splitlines() if str(path) in line]


# A ccache on the image's PATH that claims a recent 4.x but cannot compile, and one that is
# too old (a list of base directories needs 4.12).
BROKEN = "printf '#!/bin/sh\\necho ccache version 4.14.1\\nexit 0\\n'"
TOO_OLD = "printf '#!/bin/sh\\necho ccache version 4.11.3\\nexec \"$@\"\\n'"


@pytest.mark.parametrize("fake", [BROKEN, TOO_OLD], ids=["broken", "too-old"])
def test_a_broken_or_old_image_ccache_is_passed_over(
    fake: str,
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    example_project("setuptools")
    monkeypatch.setenv(
        "CIBW_BEFORE_ALL", f"{fake} > /usr/local/bin/ccache && chmod +x /usr/local/bin/ccache"
    )
    report = tmp_path / "r.json"
    assert (
        ccwheel_build(tmp_path / "cache", tmp_path / "out", "--only", ID, "--report", str(report))
        == 0
    )
    (b,) = _report(report)["builds"]
    assert b["ccache"]["origin"] == "ccwheel" and b["warning"] is None
    assert b["compilations"] == UNITS


def test_when_no_ccache_works_at_all_the_wheel_is_built_with_one_warning(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    """The image's ccache is broken and ccwheel's own binary is too."""
    example_project("setuptools")
    monkeypatch.setenv(
        "CIBW_BEFORE_ALL", f"{BROKEN} > /usr/local/bin/ccache && chmod +x /usr/local/bin/ccache"
    )
    fake = tmp_path / "ccache"
    fake.write_text("#!/bin/sh\necho ccache version 4.14.2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(binaries, "host_binary", lambda: fake)
    assert ccwheel_build(tmp_path / "cache", tmp_path / "out", "--only", ID) == 0
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    err = capfd.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("ccwheel: warning")]
    assert len(warnings) == 1 and "no usable ccache" in warnings[0], warnings


def test_an_unusable_cache_directory_still_builds(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    capfd: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    """A cache directory ccwheel cannot use (here: another tool's, not empty): one clear
    line, then plain cibuildwheel; still a report that says so, and a --min-hit-rate that
    does not pass unseen."""
    example_project("setuptools")
    blocked = tmp_path / "theirs"
    blocked.mkdir()
    (blocked / "notes.txt").write_text("mine")
    report = tmp_path / "r.json"
    args = ("--only", ID, "--report", str(report), "--min-hit-rate", "0.5")
    assert ccwheel_build(blocked, tmp_path / "out", *args) == 20
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    err = capfd.readouterr().err
    assert f"{blocked} exists, is not empty and is not a ccwheel cache" in err
    assert "building without the cache" in err
    assert "cannot hold for builds nothing measured: " + ID in err
    (b,) = _report(report)["builds"]
    assert b["finished"] and b["cached"] is False
    assert b["warning"].startswith(f"not cached: {blocked} exists")
    assert sorted(p.name for p in blocked.iterdir()) == ["notes.txt"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_still_builds(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    capfd: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    """A cache on a disk with room for ccwheel's own files and not for one compiled object:
    ccache cannot store a single result, and the wheel is built all the same."""
    example_project("setuptools")
    full = tmp_path / "full"
    full.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], check=True)
    report = tmp_path / "r.json"
    try:
        args = ("--only", ID, "--report", str(report))
        assert ccwheel_build(full / "cache", tmp_path / "out", *args) == 0
        assert cache.usage(full / "cache")[0] < 64 * 1024
    finally:
        subprocess.run(["umount", str(full)], check=True)
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    assert "Traceback" not in capfd.readouterr().err
    (b,) = _report(report)["builds"]
    assert b["finished"] is True


def test_two_runs_sharing_one_cache_at_once_each_report_their_own(
    tmp_path: Path, example_project: Callable[[str], Path]
) -> None:
    root = example_project("setuptools")
    cache_dir = tmp_path / "cache"
    runs = {
        identifier: _ccwheel(
            "--only",
            identifier,
            "--cache-dir",
            str(cache_dir),
            "--output-dir",
            str(tmp_path / identifier),
            "--report",
            str(tmp_path / f"{identifier}.json"),
            cwd=root,
        )
        for identifier in (ID, ID312)
    }
    for identifier, proc in runs.items():
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, out[-3000:]
        (b,) = _report(tmp_path / f"{identifier}.json")["builds"]
        assert b["identifier"] == identifier and b["finished"]
        assert b["compilations"] == UNITS and b["misses"] == UNITS


def test_a_build_failing_half_way_keeps_its_exit_code_and_its_numbers(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    ccwheel_build: Build,
) -> None:
    root = example_project("setuptools")
    # Sorted last among the C++ sources: the five others compile first.
    (root / "src" / "zz_broken.cpp").write_text("int broken( {\n")
    report = tmp_path / "r.json"
    code = ccwheel_build(
        tmp_path / "cache", tmp_path / "out", "--only", ID, "--report", str(report)
    )
    assert code == 1  # cibuildwheel's own exit code for a failed build
    data = _report(report)
    assert data["complete"] is False and data["exit_code"] == 1
    (b,) = data["builds"]
    assert b["finished"] is False
    assert b["compilations"] == 5 and b["misses"] == 5
    assert b["uncacheable_reasons"].get("compile_failed") == 1


def test_sigterm_leaves_no_container_and_no_complete_report(
    tmp_path: Path, example_project: Callable[[str], Path]
) -> None:
    root = example_project("setuptools")
    report = tmp_path / "r.json"
    proc = _ccwheel(
        "--only",
        ID,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--output-dir",
        str(tmp_path / "out"),
        "--report",
        str(report),
        cwd=root,
    )
    # Wait until the build is under way inside its container: ccwheel's setup ran.
    deadline = time.monotonic() + 300
    while not list((tmp_path / "cache" / ".ccwheel" / "runs").glob(f"*/{ID}.info")):
        assert proc.poll() is None and time.monotonic() < deadline, "the build never started"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, out[-3000:]
    assert _containers_mounting(tmp_path / "cache") == [], "a build container was left behind"
    assert "INTERRUPTED" in out
    data = _report(report)
    assert data["complete"] is False and data["interrupted"] is True


def test_what_the_container_writes_the_host_user_can_remove(
    tmp_path: Path, example_project: Callable[[str], Path], ccwheel_build: Build
) -> None:
    """The container runs as root; a non-root host user must still be able to remove the
    cache (checked on the mode bits: the suite itself runs as root in CI)."""
    example_project("setuptools")
    cache_dir = tmp_path / "cache"
    assert ccwheel_build(cache_dir, tmp_path / "out", "--only", ID) == 0
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700  # nobody else reaches into it
    written = [p for p in (cache_dir / "data").rglob("*")]
    written += [p for p in (cache_dir / ".ccwheel" / "runs").rglob(f"{ID}.*")]
    assert written
    for path in written:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o777 if path.is_dir() else 0o666
        assert mode & wanted == wanted, f"{path}: {oct(mode)}"


LIMITED_C = """\
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "limited", "", -1, methods};
PyMODINIT_FUNC PyInit_limited(void) { return PyModule_Create(&module); }
"""
LIMITED_SETUP = """\
from setuptools import Extension, setup
setup(
    ext_modules=[Extension("limited", ["limited.c"], py_limited_api=True,
                           define_macros=[("Py_LIMITED_API", "0x030B0000")])],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
"""


def test_a_build_that_reused_an_abi3_wheel_is_said_so_not_warned_about(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    """cibuildwheel skips the build step of cp312 when cp311's abi3 wheel fits it: no
    setup runs in the container, and that is no sign of a cache it cannot see."""
    root = tmp_path / "limited"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "limited"\nversion = "1.0"\n'
    )
    (root / "setup.py").write_text(LIMITED_SETUP)
    (root / "limited.c").write_text(LIMITED_C)
    monkeypatch.chdir(root)
    monkeypatch.setenv("CIBW_BUILD", f"{ID} {ID312}")
    # cibuildwheel 4 audits abi3 wheels in a virtualenv it would download: not offline.
    monkeypatch.setenv("CIBW_AUDIT_COMMAND", "")
    report = tmp_path / "r.json"
    assert ccwheel_build(tmp_path / "cache", tmp_path / "out", "--report", str(report)) == 0
    (wheel,) = (tmp_path / "out").glob("*.whl")
    assert "-cp311-abi3-" in wheel.name
    built, reused = _report(report)["builds"]
    assert (built["identifier"], reused["identifier"]) == (ID, ID312)
    assert built["compilations"] == 1 and built["warning"] is None
    assert reused["compilations"] == 0 and reused["warning"] is None
    assert reused["note"].startswith("nothing built: cibuildwheel reused")
    assert "left no word" not in capfd.readouterr().out
