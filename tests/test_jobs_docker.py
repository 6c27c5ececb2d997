"""`--jobs 2`, for real: four identifiers of the setuptools example in two groups, each its
own cibuildwheel run and containers side by side, on one cache directory; against the same
four built with `--jobs 1`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture

IDS = [f"cp3{minor}-manylinux_x86_64" for minor in (10, 11, 12, 13)]
UNITS = 7  # the setuptools example: five C++ units and two C units
# cibuildwheel's own first line of a build, in every release line.
_BUILDING = re.compile(r"Building (cp\d+-\S+) wheel")
_SECTION = re.compile(r"^ccwheel: (\S+): (?:finished in [0-9.]+s|failed) \(group \d", re.M)


def _seen(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a report says of each build, but its times."""
    return [
        (
            b["identifier"],
            b["finished"],
            b["warm"],
            b["cached"],
            b["compilations"],
            b["warning"],
            b["ccache"].get("origin"),
        )
        for b in report["builds"]
    ]


def _sections(stdout: str) -> dict[str, str]:
    """Each build's log as printed, by identifier (its header to the next one's)."""
    marks = list(_SECTION.finditer(stdout))
    ends = [m.start() for m in marks[1:]] + [stdout.find("ccwheel: ccache per build")]
    return {m.group(1): stdout[m.end() : end] for m, end in zip(marks, ends)}


@pytest.fixture
def four(example_project: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    project = example_project("setuptools")
    monkeypatch.setenv("CIBW_BUILD", " ".join(IDS))  # the user's selection, composed with
    return project


def test_two_groups_build_what_one_run_builds_and_hit_on_the_second_run(
    tmp_path: Path, four: Path, capsys: pytest.CaptureFixture[str], ccwheel_build: Build
) -> None:
    one = tmp_path / "one.json"
    assert ccwheel_build(tmp_path / "cache1", tmp_path / "out1", "--report", str(one)) == 0
    capsys.readouterr()

    cold = tmp_path / "cold.json"
    cache = tmp_path / "cache"
    assert ccwheel_build(cache, tmp_path / "out", "--jobs", "2", "--report", str(cold)) == 0
    out, err = capsys.readouterr()
    assert _seen(json.loads(cold.read_text())) == _seen(json.loads(one.read_text()))
    wheels = sorted(p.name.split("-")[2] for p in (tmp_path / "out").glob("*.whl"))
    assert wheels == ["cp310", "cp311", "cp312", "cp313"]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.whl")) == sorted(
        p.name for p in (tmp_path / "out1").glob("*.whl")
    )
    assert "2 + 2 builds in 2 groups side by side" in err
    assert len(re.findall(r"^ccwheel: \[\d/4\] cp3\d+-manylinux_x86_64 started", err, re.M)) == 4
    # Each build's log whole, under its own header: cibuildwheel's lines of no other build.
    sections = _sections(out)
    assert sorted(sections) == IDS
    for identifier, text in sections.items():
        assert _BUILDING.findall(text) == [identifier], text[:2000]
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("ccwheel: 4 builds, ") and last.endswith("; cibuildwheel exited 0")

    warm = tmp_path / "warm.json"
    args = ("--jobs", "2", "--report", str(warm), "--min-hit-rate", "1")
    assert ccwheel_build(cache, tmp_path / "out2", *args) == 0
    builds = json.loads(warm.read_text())["builds"]
    assert [b["identifier"] for b in builds] == IDS
    for b in builds:
        assert b["warm"] and b["compilations"] == UNITS and b["direct_hits"] == UNITS, b
    # What each build took is what the next run splits by.
    assert sorted(p.name for p in (cache / ".ccwheel" / "times").iterdir()) == IDS


def test_a_failing_build_gives_cibuildwheels_exit_code_and_the_other_group_goes_on(
    tmp_path: Path,
    four: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ccwheel_build: Build,
) -> None:
    # cp310's before-build fails; the other builds' pass.
    fail = "import sys; sys.exit(3 if sys.version_info[:2] == (3, 10) else 0)"
    monkeypatch.setenv("CIBW_BEFORE_BUILD", f'python -c "{fail}"')
    one = tmp_path / "one.json"
    plain_code = ccwheel_build(tmp_path / "cache1", tmp_path / "out1", "--report", str(one))
    assert plain_code != 0
    capsys.readouterr()

    report = tmp_path / "jobs.json"
    code = ccwheel_build(
        tmp_path / "cache", tmp_path / "out", "--jobs", "2", "--report", str(report)
    )
    out, err = capsys.readouterr()
    assert code == plain_code
    builds = {b["identifier"]: b for b in json.loads(report.read_text())["builds"]}
    # The report says which failed; its group built nothing after it, as cibuildwheel
    # ends a run; the other group built all of its own, and its wheels are there.
    assert builds[IDS[0]]["finished"] is False
    assert sorted(builds) == [IDS[0], IDS[1], IDS[3]]
    assert builds[IDS[1]]["finished"] and builds[IDS[3]]["finished"]
    wheels = sorted(p.name.split("-")[2] for p in (tmp_path / "out").glob("*.whl"))
    assert wheels == ["cp311", "cp313"]
    assert f"ccwheel: {IDS[0]}: failed (cibuildwheel exited {plain_code}) (group 1):" in out
    assert "group 1 failed" in err and "the other group builds the rest of theirs" in err
    assert f"cibuildwheel exited {plain_code}" in out.rstrip().splitlines()[-1]
