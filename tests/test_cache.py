"""The host cache directory and `ccwheel cache dir|info|clean`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccwheel import cache, cli


def test_prepare_tags_installs_ccache_and_opens_a_run(tmp_path: Path) -> None:
    run = cache.prepare(tmp_path / "c")
    assert cache.is_ours(tmp_path / "c")
    assert (run.dir / "setup.sh").is_file() and (run.dir / "requires.py").is_file()
    binaries = list((tmp_path / "c" / ".ccwheel" / "bin").glob("*/ccache"))
    assert len(binaries) == 1 and binaries[0].stat().st_mode & 0o111
    assert cache.last_run(tmp_path / "c") == run


def test_runs_are_pruned(tmp_path: Path) -> None:
    for _ in range(cache.KEEP_RUNS + 3):
        cache.prepare(tmp_path)
    assert len(list((tmp_path / ".ccwheel" / "runs").iterdir())) == cache.KEEP_RUNS


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
    run = cache.prepare(tmp_path / "c")
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
