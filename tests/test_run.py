"""The run lifecycle (run.py) around cibuildwheel: what happens before, between and after
the builds. cibuildwheel itself is replaced here by a stand-in that drives the same hooks
the way its Linux build loop does (the container tests run the real one)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest

from ccwheel import binaries, cache, cibw, config, layout, platforms, run, verdict
from ccwheel.platforms import linux as container

ID = "cp311-manylinux_x86_64"
HIT = "# a.c\ndirect_cache_hit\n"


def _view(env_names: Sequence[str] = ()) -> platforms.BuildView:
    """What cibuildwheel's options give for ID, in the working directory."""
    return platforms.BuildView(
        identifier=ID,
        frontend="build",
        frontend_args=(),
        engine="sh",  # any engine found on PATH
        create_args=(),
        env_names=frozenset(env_names),
        before_build="",
        config_settings="",
        package_dir=Path.cwd(),
        project_dir=Path.cwd(),
    )


def _fake_cibuildwheel(
    monkeypatch: pytest.MonkeyPatch,
    *,
    stats_text: str = HIT,
    env_names: Sequence[str] = (),
    during: Callable[[], None] = lambda: None,
    code: int = 0,
    container_files: dict[str, str] | None = None,
    host_sees: bool = True,
    frontend: bool = True,
    finished: bool = True,
) -> list[platforms.Injection]:
    """One build of ID: compose, start a container, run the build (its setup step leaves
    the .info file, its compiles the stats log), end it."""
    injections: list[platforms.Injection] = []
    read_back = None if container_files is None else lambda path: container_files.get(str(path), "")

    def fake_run(argv: Sequence[str], hooks: cibw.Hooks | None = None) -> int:
        assert hooks is not None
        injections.append(hooks.compose(_view(env_names)))
        tools, where = hooks.container_start()
        assert (tools / "setup.sh").is_file() and where == container.TOOLS
        hooks.build_start(ID)
        runs = cache.runs(Path(os.environ["TEST_CACHE_DIR"]))
        if host_sees:
            (runs[0].dir / f"{ID}.info").write_text("ccache=/x origin=ccwheel version=4.14.2\n")
            runs[0].stats_log(ID).write_text(stats_text)
        if frontend:
            hooks.frontend_ran()
        during()
        if finished:  # cibuildwheel ends no build that failed
            hooks.build_end(read_back)
        return code

    monkeypatch.setattr(cibw, "run", fake_run)
    return injections


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> config.Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEST_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    return config.Settings(cache_dir=tmp_path / "c", report=tmp_path / "r.json")


def _trims(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(cache, "trim", lambda _dir, size: calls.append(size))
    return calls


def test_a_build_that_used_the_cache_is_trimmed_and_marked_warm(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_cibuildwheel(monkeypatch)
    trims = _trims(monkeypatch)
    assert run.build(settings, []) == 0
    assert trims == ["5G"]
    assert cache.warm_marker(settings.cache_dir, ID).exists()
    first = json.loads(Path(str(settings.report)).read_text())
    assert first["builds"][0]["warm"] is False
    assert run.build(settings, []) == 0
    second = json.loads(Path(str(settings.report)).read_text())
    assert second["builds"][0]["warm"] is True and second["complete"] is True


def test_the_downloads_are_trimmed_only_when_no_other_run_is_live(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run's builds may be using pip's or uv's cache this moment."""
    _fake_cibuildwheel(monkeypatch)
    _trims(monkeypatch)
    trimmed: list[Path] = []
    monkeypatch.setattr(cache, "trim_downloads", lambda d, _size, _stale: trimmed.append(d))
    assert run.build(settings, []) == 0
    assert trimmed == [settings.cache_dir]
    other = cache.open_run(settings.cache_dir, cache.new_run_name())
    assert run.build(settings, []) == 0
    assert trimmed == [settings.cache_dir]
    other.close()


def test_a_user_max_size_leaves_the_cache_untrimmed(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    injections = _fake_cibuildwheel(monkeypatch, env_names=["CCACHE_MAXSIZE"])
    trims = _trims(monkeypatch)
    assert run.build(settings, []) == 0
    assert trims == []
    assert not any(k == "CCACHE_MAXSIZE" for k, _ in injections[0].environment)


def test_the_min_hit_rate_fails_a_warm_build_below_it(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccwheel.errors import HitRateTooLowError

    _fake_cibuildwheel(monkeypatch, stats_text="# a.c\ncache_miss\n")
    _trims(monkeypatch)
    strict = config.Settings(cache_dir=settings.cache_dir, min_hit_rate=0.9)
    assert run.build(strict, []) == 0  # cold: a first build misses by nature
    with pytest.raises(HitRateTooLowError):
        run.build(strict, [])


def test_the_min_hit_rate_fails_a_container_build_that_went_without_the_cache(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """setup.sh said why (no usable ccache, say): nothing measured the build, even cold."""
    from ccwheel.errors import HitRateTooLowError

    def status() -> None:
        runs = cache.runs(settings.cache_dir)
        (runs[0].dir / f"{ID}.info").unlink()
        (runs[0].dir / f"{ID}.status").write_text("no usable ccache for x86_64\n")

    _fake_cibuildwheel(monkeypatch, during=status, stats_text="")
    _trims(monkeypatch)
    strict = config.Settings(cache_dir=settings.cache_dir, min_hit_rate=0.9)
    with pytest.raises(HitRateTooLowError, match=r"no usable ccache"):
        run.build(strict, [])
    # A container that left no word (cibuildwheel reused a compatible abi3 wheel, before
    # any setup ran): not ccwheel's to fail.
    _fake_cibuildwheel(monkeypatch, stats_text="", host_sees=False, frontend=False)
    assert run.build(strict, []) == 0


def test_a_build_that_reused_a_wheel_says_so_and_is_not_marked_warm(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibuildwheel skips the build step (ccwheel's setup with it) of an identifier that
    can use an abi3 wheel built earlier in the run: no "cannot see the cache" warning."""
    _fake_cibuildwheel(monkeypatch, stats_text="", host_sees=False, frontend=False)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["warning"] is None and b["note"] == verdict.REUSED_NOTE
    assert not cache.warm_marker(settings.cache_dir, ID).exists()
    # The same with its frontend run: the container did not see the cache.
    _fake_cibuildwheel(monkeypatch, stats_text="", host_sees=False)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["warning"].startswith("the container left no word") and b["note"] is None


def _foreign_dir(tmp_path: Path) -> Path:
    theirs = tmp_path / "theirs"
    (theirs / "data").mkdir(parents=True)
    (theirs / "data" / "x").write_text("x" * 1000)
    # Whatever it holds says nothing about ccwheel's builds.
    (theirs / ".ccwheel" / "warm").mkdir(parents=True)
    (theirs / ".ccwheel" / "warm" / ID).touch()
    (theirs / "CACHEDIR.TAG").write_text(cache.TAG_SIGNATURE + "\n# created by cibuildwheel\n")
    return theirs


def _symlink_loop(tmp_path: Path) -> Path:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    return loop


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.is_dir() else []


@pytest.mark.parametrize("unusable", [_foreign_dir, _symlink_loop], ids=["foreign", "loop"])
def test_an_unusable_cache_dir_builds_plain_and_still_reports_each_build(
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    unusable: Callable[[Path], Path],
) -> None:
    """Nothing of ccwheel's reaches the builds (no injection, no files copied into the
    container, no finishing step, no remote storage URL), nothing is written into the
    directory, and the report and --min-hit-rate still see every build."""
    from ccwheel.errors import HitRateTooLowError

    cache_dir = unusable(tmp_path)
    before = _listing(cache_dir)
    seen: list[object] = []

    def fake_run(argv: Sequence[str], hooks: cibw.Hooks | None = None) -> int:
        assert hooks is not None
        seen.extend([hooks.compose(_view()), hooks.container_start(), hooks.plain()])
        hooks.build_start(ID)
        seen.append(hooks.after_build())
        seen.append(os.environ.get(container.REMOTE_ENV))
        hooks.build_end(None)
        return 0

    monkeypatch.setattr(cibw, "run", fake_run)
    monkeypatch.setattr(cache, "usage", lambda _dir: pytest.fail("walked a foreign directory"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    strict = config.Settings(
        cache_dir=cache_dir,
        report=settings.report,
        min_hit_rate=0.5,
        remote_storage="redis://pw@host",
    )
    with pytest.raises(HitRateTooLowError, match=f"{ID} \\(not cached: [^)]*{cache_dir.name}"):
        run.build(strict, [])
    assert seen == [None, None, True, None, None]
    data = json.loads(Path(str(settings.report)).read_text())
    assert str(cache_dir) in data["cache_unusable"]
    assert data["cache_size_bytes"] is None and data["remote_storage"] is None
    (b,) = data["builds"]
    assert b["identifier"] == ID and b["cached"] is False and b["finished"]
    assert b["warm"] is False
    summary = (tmp_path / "summary.md").read_text()
    assert f"Cache: not used: `{data['cache_unusable']}`" in summary
    captured = capsys.readouterr()
    (line,) = [x for x in captured.err.splitlines() if x.startswith("ccwheel:")]
    assert line.endswith("building without the cache (nor the remote storage)")
    assert f"cache: not used: {data['cache_unusable']}" in captured.out
    assert _listing(cache_dir) == before


def test_a_run_directory_that_cannot_be_opened_leaves_the_containers_plain(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(cache_dir: Path, name: str, keep: int = cache.KEEP_RUNS) -> cache.Run:
        raise cache.CacheUnusable("cannot lock this run's directory")

    monkeypatch.setattr(cache, "open_run", refuse)
    cache.prepare(settings.cache_dir)
    life = run._Lifecycle(settings, settings.cache_dir / "tools", False)
    hooks = life.hooks()
    assert hooks.container_start() is None
    assert hooks.plain() and hooks.after_build() is None
    life.close()


def test_a_build_that_stopped_before_its_frontend_is_no_reused_wheel(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_cibuildwheel(monkeypatch, host_sees=False, frontend=False, code=1, finished=False)
    _trims(monkeypatch)
    assert run.build(settings, []) == 1
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["note"] is None and b["warning"].startswith("the container left no word")


def test_a_build_whose_setup_found_no_ccache_is_no_reused_wheel(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ccwheel's setup step ran (and said why it could not cache): no wheel was reused,
    whether or not its frontend call was seen."""

    def status() -> None:
        (run_,) = cache.runs(settings.cache_dir)
        (run_.dir / f"{ID}.status").write_text("no usable ccache for x86_64\n")

    _fake_cibuildwheel(monkeypatch, host_sees=False, frontend=False, during=status)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["note"] is None and b["warning"] == "no usable ccache for x86_64"


def test_a_build_that_compiled_is_no_reused_wheel_even_if_its_frontend_went_unseen(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_cibuildwheel(monkeypatch, frontend=False)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["note"] is None and b["compilations"] == 1


def test_a_failed_copy_is_said_for_the_builds_in_that_container_only(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    life = run._Lifecycle(settings, settings.cache_dir / "tools", False)
    hooks = life.hooks()
    hooks.container_start()
    hooks.copy_failed("tar: broken pipe")
    hooks.build_start("cp311-manylinux_x86_64")
    hooks.build_end(None)
    hooks.container_start()  # the next container got ccwheel's files
    hooks.build_start("cp312-manylinux_x86_64")
    hooks.build_end(None)
    assert list(life.containers.copy_failed_builds) == ["cp311-manylinux_x86_64"]
    life.close()


def test_sigterm_exits_143_with_an_incomplete_report(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def terminate() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises first

    _fake_cibuildwheel(monkeypatch, during=terminate)
    _trims(monkeypatch)
    assert run.build(settings, []) == 128 + signal.SIGTERM
    data = json.loads(Path(str(settings.report)).read_text())
    assert data["interrupted"] is True and data["complete"] is False
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back


def test_the_run_is_unlocked_when_it_ends(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished run can be pruned by later ones; a live one cannot."""
    seen: list[bool] = []

    def try_lock_during_the_build() -> None:
        (live,) = cache.runs(settings.cache_dir)
        fd = os.open(live.dir / cache.LOCK_FILE, os.O_RDWR)
        seen.append(cache._try_lock(fd))
        os.close(fd)

    _fake_cibuildwheel(monkeypatch, during=try_lock_during_the_build)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    (done,) = cache.runs(settings.cache_dir)
    fd = os.open(done.dir / cache.LOCK_FILE, os.O_RDWR)
    assert seen == [False] and cache._try_lock(fd)
    os.close(fd)


def test_a_warm_marker_that_cannot_be_written_is_one_warning(
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def block_the_markers() -> None:
        (settings.cache_dir / ".ccwheel" / "warm").write_text("in the way")

    _fake_cibuildwheel(monkeypatch, during=block_the_markers)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    err = capsys.readouterr().err
    assert f"ccwheel: warning: cannot mark {ID} as warm" in err


def test_a_build_the_container_reported_nothing_of_says_so(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the host sees when the container could not see the mount: no .info, no
    .status. The report must not show a silent zero."""
    _fake_cibuildwheel(monkeypatch)
    monkeypatch.setattr(cache.Run, "info", lambda self, identifier: None)
    trims = _trims(monkeypatch)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["warning"].startswith("the container left no word in the cache directory")
    assert trims == [] and not cache.warm_marker(settings.cache_dir, ID).exists()


def test_no_cache_says_so(
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cibw, "run", lambda argv, hooks=None: 0)
    assert run.build(config.Settings(cache=False), []) == 0
    assert "--no-cache: running plain cibuildwheel" in capsys.readouterr().err


def test_read_only_remote_says_what_it_does_not_protect(
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _fake_cibuildwheel(monkeypatch)
    _trims(monkeypatch)
    ro = config.Settings(
        cache_dir=settings.cache_dir, remote_storage="redis://pw@host", remote_read_only=True
    )
    assert run.build(ro, []) == 0
    err = capsys.readouterr().err
    assert "the URL is in every build process's environment" in err and "pw@" not in err


def test_statistics_are_read_back_from_a_container_that_cannot_see_the_cache(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote engine with remote storage: setup.sh wrote the files in the container, the
    host reads them back at the end of the build, and the report has real numbers."""
    runs_inside: dict[str, str] = {}

    def inside(suffix: str) -> str:
        (run_dir,) = cache.runs(settings.cache_dir)
        return f"{container.CACHE}/.ccwheel/runs/{run_dir.name}/{ID}.{suffix}"

    def fill() -> None:
        runs_inside[inside("info")] = "ccache=/x origin=ccwheel cache=remote-only\n"
        runs_inside[inside("stats")] = "# a.c\ndirect_cache_hit\nremote_storage_hit\n"

    _fake_cibuildwheel(monkeypatch, host_sees=False, container_files=runs_inside, during=fill)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert (b["hits"], b["remote_hits"], b["warning"]) == (1, 1, None)
    assert b["note"] == verdict.REMOTE_ONLY_NOTE
    assert cache.warm_marker(settings.cache_dir, ID).exists()  # --min-hit-rate applies next


def test_nothing_is_read_back_when_the_host_has_it(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    class Recorder(dict):  # type: ignore[type-arg]
        def get(self, key: str, default: str = "") -> str:
            asked.append(key)
            return default

    _fake_cibuildwheel(monkeypatch, container_files=Recorder())
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    assert asked == []


def test_the_run_stays_locked_until_its_report_is_made(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run may prune this one only once its files were read: the trim may take
    minutes, and the stats log is read after it."""
    _fake_cibuildwheel(monkeypatch)
    locked_during_trim: list[bool] = []

    def trim(_dir: Path, _size: str) -> None:
        (live,) = cache.runs(settings.cache_dir)
        fd = os.open(live.dir / cache.LOCK_FILE, os.O_RDWR)
        locked_during_trim.append(not cache._try_lock(fd))
        os.close(fd)

    monkeypatch.setattr(cache, "trim", trim)
    assert run.build(settings, []) == 0
    assert locked_during_trim == [True]


def test_statistics_that_cannot_be_read_are_a_warning_not_a_traceback(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CCACHE_UMASK=077 of the user's: the container's root writes the log 0600."""

    def unreadable(path: Path, project: Path | None = None) -> None:
        raise PermissionError(13, "Permission denied")

    _fake_cibuildwheel(monkeypatch)
    _trims(monkeypatch)
    monkeypatch.setattr(run.stats, "read", unreadable)
    assert run.build(settings, []) == 0
    (b,) = json.loads(Path(str(settings.report)).read_text())["builds"]
    assert b["warning"] == "cannot read its statistics: Permission denied"


def test_each_container_gets_the_ccache_for_its_engine_s_kernel_once(
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The engine's kernel decides which binary is staged and what setup.sh is told; a
    binary that cannot be had is one warning for the run, not one per container."""
    monkeypatch.setattr(binaries, "kernel_arch", lambda engine: "s390x")
    staged: list[str] = []

    def linux_binary(arch: str, cache_dir: Path, offered: Path | None = None) -> Path:
        staged.append(arch)
        raise binaries.BinaryUnavailable("no wheel for it")

    monkeypatch.setattr(binaries, "linux_binary", linux_binary)
    injections = _fake_cibuildwheel(monkeypatch)
    _trims(monkeypatch)
    life_hooks: list[cibw.Hooks] = []
    reasons: list[str] = []
    real_run = cibw.run

    def twice(argv: Sequence[str], hooks: cibw.Hooks | None = None) -> int:
        assert hooks is not None
        life_hooks.append(hooks)
        tools, _ = hooks.container_start()  # a first container, then the build's own
        code = real_run(argv, hooks)
        reasons.append((tools / layout.TOOLS_BIN / layout.NO_BINARY).read_text())
        return code

    monkeypatch.setattr(cibw, "run", twice)
    assert run.build(settings, []) == 0
    assert dict(injections[0].build_env)["CCWHEEL_KERNEL_ARCH"] == "s390x"
    assert staged == ["s390x"]
    # Said once, by setup.sh in each build's log (the image may have a ccache of its own).
    assert "warning" not in capsys.readouterr().err
    assert reasons == ["ccwheel has no Linux ccache for s390x: no wheel for it\n"]


def test_the_binary_for_the_kernel_is_staged_where_setup_looks(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "a-ccache"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setattr(binaries, "kernel_arch", lambda engine: "aarch64")
    monkeypatch.setattr(binaries, "linux_binary", lambda arch, cache_dir, offered=None: fake)
    seen: list[bool] = []

    def check_tools() -> None:
        tools = Path(os.environ["TEST_TOOLS"])
        seen.append((tools / "bin" / "aarch64" / "ccache").read_text() == "#!/bin/sh\n")

    injections = _fake_cibuildwheel(monkeypatch, during=check_tools)
    real_start = run._Lifecycle.container_start

    def start(self: run._Lifecycle) -> tuple[Path, Any]:
        result = real_start(self)
        monkeypatch.setenv("TEST_TOOLS", str(result[0]))
        return result

    monkeypatch.setattr(run._Lifecycle, "container_start", start)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    assert seen == [True] and injections


def test_the_remote_url_leaves_the_environment_of_what_runs_on_this_host(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read into the settings, the URL leaves CCWHEEL_REMOTE_STORAGE: macOS and Windows
    builds (and their tests) run in this process's environment. Only the engine's
    variable holds it, for the containers, while cibuildwheel runs."""
    monkeypatch.setenv("CCWHEEL_REMOTE_STORAGE", "redis://pw@host")
    seen: dict[str, str | None] = {}

    def fake_run(argv: Sequence[str], hooks: cibw.Hooks | None = None) -> int:
        seen["own"] = os.environ.get("CCWHEEL_REMOTE_STORAGE")
        seen["engine"] = os.environ.get(container.REMOTE_ENV)
        return 0

    monkeypatch.setattr(cibw, "run", fake_run)
    _trims(monkeypatch)
    with_remote = config.Settings(cache_dir=settings.cache_dir, remote_storage="redis://pw@host")
    assert run.build(with_remote, []) == 0
    assert seen == {"own": None, "engine": "redis://pw@host"}
    assert container.REMOTE_ENV not in os.environ
    # Put back: a second `ccwheel build` in the same process reads it again.
    assert os.environ["CCWHEEL_REMOTE_STORAGE"] == "redis://pw@host"


@pytest.mark.parametrize("code", [0, 1])
def test_the_closing_verdict_is_the_report_s_last_line_on_success_and_failure(
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
) -> None:
    _fake_cibuildwheel(monkeypatch, code=code)
    _trims(monkeypatch)
    assert run.build(settings, []) == code
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert (
        last
        == f"ccwheel: 1 build, 1/1 compiles hit (100.0%), all direct; cibuildwheel exited {code}"
    )


def test_a_warm_build_reports_the_time_saved_against_its_cold_build(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cold build records its time in its warm marker; the warm builds after it are
    measured against that time, and a warm build does not overwrite it."""
    _trims(monkeypatch)
    _fake_cibuildwheel(monkeypatch, during=lambda: time.sleep(0.3))
    assert run.build(settings, []) == 0
    first = capsys.readouterr().out
    marker = cache.warm_marker(settings.cache_dir, ID)
    cold = float(marker.read_text())
    assert 0.3 <= cold < 5
    assert re.search(rf"^  {ID} +cold ", first, re.M) and "saved" not in first.splitlines()[-1]
    # As if the cold build had taken 130 s: the warm one saved about 2m10s.
    marker.write_text("130.0\n")
    _fake_cibuildwheel(monkeypatch)
    assert run.build(settings, []) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^  {ID} +warm .* 2m10s$", out, re.M)
    assert out.rstrip("\n").splitlines()[-1] == (
        "ccwheel: 1 build, 1/1 compiles hit (100.0%), all direct, 2m10s saved; "
        "cibuildwheel exited 0"
    )
    assert marker.read_text() == "130.0\n"


def test_a_cold_build_the_remote_storage_served_records_no_baseline(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trims(monkeypatch)
    _fake_cibuildwheel(monkeypatch, stats_text="# a.c\ndirect_cache_hit\nremote_storage_hit\n")
    assert run.build(settings, []) == 0
    marker = cache.warm_marker(settings.cache_dir, ID)
    assert marker.exists() and marker.read_text() == ""


def test_the_report_table_folds_under_github_actions(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    _fake_cibuildwheel(monkeypatch)
    _trims(monkeypatch)
    assert run.build(settings, []) == 0
    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    assert lines[0] == "::group::ccwheel: ccache per build (1)"
    assert lines[-2] == "::endgroup::" and lines[-1].startswith("ccwheel: 1 build, ")


def test_the_closing_verdict_is_printed_on_sigterm(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def terminate() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    _fake_cibuildwheel(monkeypatch, during=terminate, finished=False)
    _trims(monkeypatch)
    assert run.build(settings, []) == 143
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert last.startswith("ccwheel: 1 build (1 failed), ")
    assert last.endswith("; interrupted, cibuildwheel exited 143")


def test_without_builds_or_cache_the_verdict_goes_to_stderr(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdout is cibuildwheel's alone then: a --print-build-identifiers list a script reads."""
    monkeypatch.setattr(cibw, "run", lambda argv, hooks=None: 0)
    assert run.build(settings, []) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err.splitlines()[-1]
        == "ccwheel: no build ran, nothing cached; cibuildwheel exited 0"
    )
    assert run.build(config.Settings(cache=False), []) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err.splitlines()[-1] == "ccwheel: not cached (--no-cache); cibuildwheel exited 0"
    )


def test_warnings_are_github_annotations_under_actions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ccwheel import console

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    console.warn("50% of it\nand a second line")
    console.error("bad")
    assert capsys.readouterr().err.splitlines() == [
        "::warning title=ccwheel::50%25 of it%0Aand a second line",
        "::error title=ccwheel::bad",
    ]
