"""`--jobs`: how the identifiers split, what is refused before any container starts, what
a group is told, and how a group's log is printed. The groups' builds themselves:
test_jobs_docker.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ccwheel import cli, config, jobs
from ccwheel.errors import ConfigError

X = [f"cp3{m}-manylinux_x86_64" for m in (10, 11, 12, 13)]


def test_without_recorded_times_the_groups_alternate_in_cibuildwheels_order() -> None:
    assert jobs.split(X, {}, 2) == [[X[0], X[2]], [X[1], X[3]]]
    assert jobs.split(X, {}, 3) == [[X[0], X[3]], [X[1]], [X[2]]]
    assert jobs.split(X[:1], {}, 2) == [X[:1]]


def test_recorded_times_make_the_groups_finish_together() -> None:
    seconds = {X[0]: 40.0, X[1]: 10.0, X[2]: 10.0, X[3]: 20.0}
    # 40 alone; 20 + 10 + 10 beside it.
    assert jobs.split(X, seconds, 2) == [[X[0]], [X[1], X[2], X[3]]]
    # An identifier with no time counts as the mean of the others.
    assert jobs.split(X, {X[0]: 30.0, X[1]: 10.0}, 2) == [[X[0], X[1]], [X[2], X[3]]]


def test_an_image_new_to_a_group_costs_its_start() -> None:
    musl = ["cp311-musllinux_x86_64", "cp312-musllinux_x86_64"]
    ids = [X[1], X[2], *musl]
    seconds = dict.fromkeys(ids, 10.0)
    # Equal loads either way: each image's builds stay in one group, one start each.
    assert jobs.split(ids, seconds, 2) == [[X[1], X[2]], musl]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_a_bad_jobs_value_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="--jobs: expected a number of builds side by side"):
        config.resolve(flags={"jobs": value}, env={}, file_table={})


def test_jobs_from_flag_variable_and_file() -> None:
    assert config.resolve(flags={}, env={}, file_table={}).jobs == 1
    assert config.resolve(flags={}, env={"CCWHEEL_JOBS": "auto"}, file_table={}).jobs is None
    assert config.resolve(flags={"jobs": "3"}, env={}, file_table={"jobs": 2}).jobs == 3


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "p"\nversion = "1"\n'
    )
    monkeypatch.chdir(root)
    for name in ("CIBW_BUILD", "CIBW_SKIP", "CIBW_ARCHS", "CIBW_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIBW_BUILD", "cp311-* cp312-*")
    return root


def test_jobs_on_a_host_that_builds_on_itself_is_refused_before_any_build(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_dir = project / "cache"
    args = ["build", "--platform", "windows", "--jobs", "2", "--cache-dir", str(cache_dir)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "ccwheel: error: --jobs 2: cp311-win32 builds on this machine, whose Pythons and "
        "work directory its builds share; --jobs is for Linux container builds only"
    )
    assert not cache_dir.exists()  # nothing made


def test_jobs_auto_on_such_a_host_says_it_builds_one_at_a_time(project: Path) -> None:
    settings = config.resolve(flags={"jobs": "auto"}, env={}, file_table={})
    assert jobs.plan(settings, ["--platform", "macos"]) is None


def test_a_plan_splits_what_cibuildwheel_selects(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = {"jobs": "2", "cache_dir": str(project / "c")}
    settings = config.resolve(flags=flags, env={}, file_table={})
    plan = jobs.plan(settings, ["--platform", "linux", "--archs", "x86_64"])
    # Each image's builds together: two containers, not four.
    assert plan == jobs.Plan(
        [
            ["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"],
            ["cp311-musllinux_x86_64", "cp312-musllinux_x86_64"],
        ],
        max(1, jobs.cores() // 2),
        tuple(f"cp31{m}-{libc}linux_x86_64" for libc in ("many", "musl") for m in (1, 2)),
    )
    assert jobs.plan(settings, ["--platform", "linux", "--only", "cp311-manylinux_x86_64"]) is None
    monkeypatch.setenv("CIBW_BUILD", "cp311-manylinux_x86_64")
    assert jobs.plan(settings, ["--platform", "linux", "--archs", "x86_64"]) is None
    assert "ccwheel: --jobs 2: 1 build selected, built in one run" in capsys.readouterr().err


def test_a_group_gets_the_users_flags_one_job_and_the_remote_storage() -> None:
    settings = config.resolve(
        flags={"jobs": "2", "remote_storage": "redis://h:1"}, env={}, file_table={}
    )
    flags = {"jobs": "2", "max_size": "1G", "explain": True, "report": None}
    env = jobs.group_env(settings, flags)
    assert env["CCWHEEL_JOBS"] == "1"
    assert env["CCWHEEL_MAX_SIZE"] == "1G"
    assert env["CCWHEEL_REMOTE_STORAGE"] == "redis://h:1"
    assert "CCWHEEL_REPORT" not in env
    assert config.resolve(flags={}, env=env, file_table={"jobs": 4}).explain is True
    assert config.resolve(flags={}, env=env, file_table={"jobs": 4}).jobs == 1


def _group(tmp_path: Path, log: bytes) -> jobs._Group:
    directory = tmp_path / "group-1"
    directory.mkdir()
    (directory / jobs.LOG).write_bytes(log)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return jobs._Group(1, [X[0]], directory, proc)


def test_a_builds_log_is_printed_whole_and_folded_under_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    log = b"::group::Building wheel\nline 1\n::endgroup::\nline 2\nthe next build\n"
    g = _group(tmp_path, log)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    jobs._print_log(g, log.index(b"the next"), "cp310: finished in 1.0s (group 1)")
    out = capfd.readouterr().out
    assert out == "::group::cp310: finished in 1.0s (group 1)\nline 1\nline 2\n::endgroup::\n"
    monkeypatch.delenv("GITHUB_ACTIONS")
    jobs._print_log(g, None, "group 1: the end")
    assert capfd.readouterr().out == "ccwheel: group 1: the end:\nthe next build\n"
    jobs._print_log(g, None, "nothing more", skip_empty=True)
    assert capfd.readouterr().out == ""


def test_a_member_stops_at_a_builds_start_after_another_groups_failure(tmp_path: Path) -> None:
    directory = tmp_path / "group-2"
    directory.mkdir()
    member = jobs.Member(directory, 1)
    member.started(X[1])
    member.ended(X[1])
    (tmp_path / jobs.STOP).touch()
    with pytest.raises(jobs.Stopped):
        member.started(X[3])
    lines = (directory / jobs.EVENTS).read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [["start", X[1]], ["end", X[1]]]
