"""`--jobs`: how the identifiers split, what is refused before any container starts, what
a group is told, and how a group's log is printed. The groups' builds themselves:
test_jobs_docker.py."""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from ccwheel import cibw, cli, config, jobs
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


@pytest.mark.parametrize("asked", [{"flags": {"jobs": "auto"}}, {"file_table": {"jobs": 2}}])
def test_jobs_auto_or_from_the_file_on_such_a_host_builds_one_at_a_time(
    project: Path, asked: dict[str, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = config.resolve(**{"flags": {}, "env": {}, "file_table": {}, **asked})
    on_command_line = bool(asked.get("flags"))
    assert jobs.plan(settings, ["--platform", "macos"], on_command_line) is None
    assert "builds on this machine, one build at a time" in capsys.readouterr().err


def test_a_plan_splits_what_cibuildwheel_selects(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = {"jobs": "2", "cache_dir": str(project / "c")}
    settings = config.resolve(flags=flags, env={}, file_table={})
    plan = jobs.plan(settings, ["--platform", "linux", "--archs", "x86_64"], True)
    # Each image's builds together: two containers, not four.
    assert plan == jobs.Plan(
        [
            ["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"],
            ["cp311-musllinux_x86_64", "cp312-musllinux_x86_64"],
        ],
        max(1, jobs.cores() // 2),
        tuple(f"cp31{m}-{libc}linux_x86_64" for libc in ("many", "musl") for m in (1, 2)),
    )
    only = ["--platform", "linux", "--only", "cp311-manylinux_x86_64"]
    assert jobs.plan(settings, only, True) is None
    # cibuildwheel's own cache is not cleared to plan a run that would clear it.
    assert jobs.plan(settings, ["--platform", "linux", "--clean-cache"], True) is None
    monkeypatch.setenv("CIBW_BUILD", "cp311-manylinux_x86_64")
    assert jobs.plan(settings, ["--platform", "linux", "--archs", "x86_64"], True) is None
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


def test_a_member_tells_each_builds_start_and_end_with_the_logs_offset(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "group-2"
    directory.mkdir()
    member = jobs.Member(directory, 1)
    member.started(X[1])
    member.ended(X[1])
    lines = (directory / jobs.EVENTS).read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [["start", X[1]], ["end", X[1]]]


def test_a_groups_selection_replaces_the_users_never_adds_to_it() -> None:
    # cibuildwheel 4.3's CIBW_INHERIT: a rule for `build` would add the group's CIBW_BUILD
    # to the file's selection, and every group would build everything. Before 4.3 there is
    # no such variable, and it is left as it is.
    import cibuildwheel.options

    if not hasattr(cibuildwheel.options, "parse_inherit"):
        assert cibw.without_build_inherit("build; skip") == "build; skip"
        return
    assert cibw.without_build_inherit("build") == ""
    assert cibw.without_build_inherit("build; environment: prepend") == "environment: prepend"
    assert cibw.without_build_inherit("build-linux: append; skip") == "skip: append"
    assert cibw.without_build_inherit("environment: prepend") == "environment: prepend"
    assert cibw.without_build_inherit("") == ""
    settings = config.resolve(flags={}, env={}, file_table={})
    with pytest.MonkeyPatch.context() as m:
        m.setenv("CIBW_INHERIT", "build; before-build: prepend")
        assert jobs.group_env(settings, {})["CIBW_INHERIT"] == "before-build: prepend"


@pytest.fixture
def fake_groups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Groups that are jobs_fake_group.py (the real Member inside), not `ccwheel build`."""
    fake = Path(__file__).with_name("jobs_fake_group.py")
    monkeypatch.setattr(jobs, "GROUP_COMMAND", (sys.executable, str(fake)))
    monkeypatch.setattr(jobs, "_POLL_SECONDS", 0.05)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _plan(*groups: list[str]) -> jobs.Plan:
    return jobs.Plan(list(groups), 1, tuple(sorted(i for g in groups for i in g)))


def test_the_groups_builds_are_followed_and_their_facts_come_together_in_order(
    fake_groups: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    done = jobs.run_groups(_plan([X[0], X[2]], [X[1], X[3]]), dict(os.environ), [])
    out, err = capfd.readouterr()
    assert [f.identifier for f in done.facts] == X
    assert done.code == 0 and not done.interrupted
    assert sorted(re.findall(r"\[\d/4\] (cp3\d+)-\S+ started \(group", err)) == [
        "cp310",
        "cp311",
        "cp312",
        "cp313",
    ]
    sections = re.split(r"^ccwheel: (.*):$", out, flags=re.M)[1:]
    titled = dict(zip(sections[::2], sections[1::2]))
    for identifier in X:
        (text,) = [
            t for title, t in titled.items() if title.startswith(f"{identifier}: finished in")
        ]
        assert re.findall(r"Building (\S+) wheel", text) == [identifier]
    assert list(fake_groups.glob("ccwheel-jobs-*")) == []  # its logs go when all went well
    # Each group in a session of its own: a Ctrl-C in the terminal reaches them only
    # through this run, once.
    sessions = re.findall(r"session (\d+)", out)
    assert len(sessions) == 2 and str(os.getsid(0)) not in sessions


def test_a_failed_build_ends_its_group_the_others_build_the_rest_and_its_code_is_the_runs(
    fake_groups: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_FAIL", X[0])
    done = jobs.run_groups(_plan([X[0], X[2]], [X[1], X[3]]), dict(os.environ), [])
    out, err = capfd.readouterr()
    assert done.code == 1
    assert [(f.identifier, f.finished) for f in done.facts] == [
        (X[0], False),
        (X[1], True),
        (X[3], True),
    ]
    assert f"ccwheel: {X[0]}: failed (cibuildwheel exited 1) (group 1):" in out
    assert f"error: {X[0]} failed" in out
    assert "group 1 failed (exit 1): the other group builds the rest of theirs" in err
    assert len(list(fake_groups.glob("ccwheel-jobs-*/group-*/log"))) == 2  # kept, and said
    assert "the groups' logs are kept in" in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_of_the_run_alone_reaches_every_group_once(
    fake_groups: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    signum: int,
) -> None:
    monkeypatch.setenv("FAKE_SECONDS", "30")
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signum))
    timer.start()
    try:
        done = jobs.run_groups(_plan([X[0]], [X[1]]), dict(os.environ), [])
    finally:
        timer.cancel()
    out, err = capfd.readouterr()
    assert done.interrupted and done.code == 128 + signum
    assert [f.identifier for f in done.facts] == []  # neither build ended
    assert "failed" not in out + err  # an interrupt is no build's failure
    assert f"ccwheel: {X[0]}: interrupted (group 1):" in out


def test_a_group_stopped_by_another_hand_is_the_runs_failure(
    fake_groups: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_SECONDS", "30")
    original = jobs._start

    def start_then_stop_the_first(*args: object, **kwargs: object) -> jobs._Group:
        g = original(*args, **kwargs)  # type: ignore[arg-type]
        if g.number == 1:
            threading.Timer(1.5, g.proc.send_signal, (signal.SIGTERM,)).start()
        else:
            threading.Timer(1.5, g.proc.send_signal, (signal.SIGINT,)).start()
        return g

    monkeypatch.setattr(jobs, "_start", start_then_stop_the_first)
    done = jobs.run_groups(_plan([X[0]], [X[1]]), dict(os.environ), [])
    _, err = capfd.readouterr()
    # Not a run that went well with builds missing: the first group to end is its failure.
    assert done.code == 130 and not done.interrupted
    assert "the groups' logs are kept in" in err


def test_the_groups_end_when_the_run_is_killed(tmp_path: Path) -> None:
    fake = Path(__file__).with_name("jobs_fake_group.py")
    script = (
        "import os, sys; from ccwheel import jobs\n"
        f"jobs.GROUP_COMMAND = (sys.executable, {str(fake)!r})\n"
        f"jobs.run_groups(jobs.Plan([[{X[0]!r}], [{X[1]!r}]], 1, ()), dict(os.environ), [])\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path), "FAKE_SECONDS": "30"}
    run = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while len(list(tmp_path.glob("ccwheel-jobs-*/group-*/events"))) < 2:
        assert time.monotonic() < deadline, "the groups did not start"
        time.sleep(0.1)
    run.kill()
    run.wait()
    while len(list(tmp_path.glob("ccwheel-jobs-*/group-*/handover"))) < 2:
        assert time.monotonic() < deadline, "a group outlived the run"
        time.sleep(0.1)
    for handover in tmp_path.glob("ccwheel-jobs-*/group-*/handover"):
        with handover.open("rb") as f:
            assert pickle.load(f).interrupted


def test_each_groups_step_summary_is_kept_in_group_order(
    fake_groups: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = fake_groups / "summary.md"
    summary.write_text("before\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    jobs.run_groups(_plan([X[0]], [X[1]]), dict(os.environ), [])
    assert summary.read_text() == f"before\nsummary of {X[0]}\n\nsummary of {X[1]}\n\n"


def test_a_group_killed_by_a_signal_exits_as_a_shell_says() -> None:
    assert jobs._exit_status(-9) == 137
    assert jobs._exit_status(3) == 3


def test_a_group_keeps_its_module_path_where_python_puts_no_directory_first(
    tmp_path: Path,
) -> None:
    (tmp_path / "probe.py").write_text("")
    code = jobs.GROUP_COMMAND[2].replace("from ccwheel.cli import entry; entry()", "import probe")
    env = {**os.environ, "PYTHONSAFEPATH": "1", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_group_does_not_import_from_the_project_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "difflib.py").write_text("raise ImportError('the project shadowed difflib')\n")
    command = [*jobs.GROUP_COMMAND[:3], "--version"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ccwheel ")
