"""The options cibuildwheel prints at the start of a run, with `ccwheel build` as against
plain cibuildwheel: cibuildwheel prints a build option once per group of identifiers with
the same value, so what ccwheel composes must be the same for every build (what names one
build goes to its commands instead, see cibw.py). Run for real, up to that summary: with a
container engine that refuses to start anything (no docker needed), and with the real
engine and a before-all that fails (--run-docker)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ccwheel.cli import main

# cibuildwheel's default Linux selection of a project without requires-python, one
# architecture: 18 identifiers (cibuildwheel 4.3).
SMALL = "cp311-manylinux_x86_64 cp312-manylinux_x86_64"


def _options_lines(stdout: str) -> list[str]:
    """The options section cibuildwheel prints: from "Build options:" to the blank line."""
    lines = stdout.splitlines()
    start = lines.index("Build options:")
    end = lines.index("", start)
    return lines[start:end]


def _printed(project: Path, out: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    code = main(["build", "--platform", "linux", "--output-dir", str(out), *args, str(project)])
    assert code != 0  # no build ran: the engine (or the before-all) stopped the run
    return _options_lines(capsys.readouterr().out)


def _identifiers(project: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["build", "--no-cache", "--platform", "linux", "--print-build-identifiers",
                 str(project)]) == 0  # fmt: skip
    return capsys.readouterr().out.split()


def _growth(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, int, int]:
    """(identifiers, lines printed by plain cibuildwheel, lines printed by ccwheel)."""
    ids = len(_identifiers(project, capsys))
    plain = _printed(project, tmp_path / "out", capsys, "--no-cache")
    ours = _printed(project, tmp_path / "out", capsys, "--cache-dir", str(tmp_path / "cache"))
    with capsys.disabled():
        print(f"\n{ids} identifiers: cibuildwheel prints {len(plain)} lines of options, "
              f"{len(ours)} under ccwheel build")  # fmt: skip
    return ids, len(plain), len(ours)


def _check(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    ids, plain, ours = _growth(project, tmp_path, capsys)
    assert ids >= 12  # both libcs, every Python of the release
    assert ours - plain <= 2 * ids
    # A constant: what ccwheel adds does not grow with the number of identifiers.
    monkeypatch.setenv("CIBW_BUILD", SMALL)
    small_ids, small_plain, small_ours = _growth(project, tmp_path / "small", capsys)
    assert small_ids == 2
    assert ours - plain == small_ours - small_plain


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "setup.py").write_text("")
    monkeypatch.chdir(root)
    for name in list(os.environ):
        if name.startswith(("CIBW_", "CCWHEEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CIBW_ARCHS", "x86_64")
    return root


def test_the_printed_options_grow_by_a_constant(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An engine that refuses everything: the run stops when the first container would
    start, after the options are printed."""
    engine = tmp_path / "engine" / "docker"
    engine.parent.mkdir()
    engine.write_text("#!/bin/sh\necho 'no containers here' >&2\nexit 1\n")
    engine.chmod(0o755)
    monkeypatch.setenv("PATH", f"{engine.parent}{os.pathsep}{os.environ['PATH']}")
    _check(project, tmp_path, capsys, monkeypatch)


@pytest.mark.docker
def test_the_printed_options_grow_by_a_constant_with_a_real_engine(
    project: Path,
    offline_build_env: None,  # after project, which clears CIBW_*
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stand-in image, and a before-all that fails: the run stops in the first
    container, right after the options are printed."""
    monkeypatch.setenv("CIBW_BEFORE_ALL", "false")
    _check(project, tmp_path, capsys, monkeypatch)
