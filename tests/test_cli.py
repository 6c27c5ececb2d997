"""The command line, in-process: bad input fails before any container starts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from ccwheel import cache, cli, config, report, stats, verdict
from ccwheel.buildinfo import BuildInfo
from ccwheel.errors import HitRateTooLowError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "p"
        version = "1"
        [tool.cibuildwheel]
        build = "cp311-manylinux_x86_64"
        """)
    )
    monkeypatch.chdir(root)
    for name in ("CIBW_BUILD", "CIBW_SKIP", "CIBW_CONTAINER_ENGINE", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return root


def _print_identifiers(cache_dir: str) -> int:
    """A full ccwheel run that stops before any container: cibuildwheel lists its builds."""
    return cli.main(
        ["build", "--platform", "linux", "--print-build-identifiers", "--cache-dir", cache_dir]
    )


def test_typo_in_own_option(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build", "--max-sise", "1G"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == "ccwheel: error: unknown option '--max-sise' (perhaps you meant '--max-size'?)"
    )


def test_unknown_cibuildwheel_option_fails_in_cibuildwheel(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "--no-such-thing", "--cache-dir", str(project / "c")]) == 2
    assert "unrecognized arguments: --no-such-thing" in capsys.readouterr().err


def test_bad_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text("[tool.ccwheel]\nmax-size = [\n")
    assert cli.main(["build"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_unknown_config_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (project / "pyproject.toml").open("a") as f:
        f.write("[tool.ccwheel]\ncache-dri = 'x'\n")
    assert cli.main(["build"]) == 2
    assert "perhaps you meant 'cache-dir'" in capsys.readouterr().err


def test_missing_container_engine_before_any_container(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no docker to be found
    code = cli.main(["build", "--platform", "linux", "--cache-dir", str(tmp_path / "c")])
    assert code == 2
    err = capsys.readouterr().err
    assert "ccwheel: error: container engine 'docker' not found" in err


def test_print_build_identifiers_passes_through_and_opens_no_run(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _print_identifiers(str(tmp_path / "c"))
    assert code == 0
    assert capsys.readouterr().out.split() == ["cp311-manylinux_x86_64"]
    # A run that builds nothing leaves no run directory to push a live one out.
    assert not (tmp_path / "c" / ".ccwheel" / "runs").exists()


@pytest.mark.parametrize("where", ["a-file/r.json", "a-dir"])
def test_an_unwritable_report_path_fails_before_any_container(
    where: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir").mkdir()
    code = cli.main(
        [
            "build",
            "--platform",
            "linux",
            "--cache-dir",
            str(tmp_path / "c"),
            "--report",
            str(tmp_path / where),
            "--print-build-identifiers",
        ]
    )
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # cibuildwheel never ran
    assert f"ccwheel: error: --report {tmp_path / where}: " in captured.err


def test_a_report_that_cannot_be_written_after_the_build_is_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once the wheels are built, a failed write loses nothing but the file."""
    (tmp_path / "gone").write_text("")  # where the report's directory should be
    settings = config.Settings(cache_dir=tmp_path, report=tmp_path / "gone" / "r.json")
    report.publish(_report(tmp_path), settings.report)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("ccwheel: warning: cannot write the report")


def test_cache_dir_that_is_not_ours_is_left_alone(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-empty directory without ccwheel's CACHEDIR.TAG is the user's: not used, not
    touched, and the build goes on without the cache."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    assert _print_identifiers(str(theirs)) == 0
    assert "not a ccwheel cache" in capsys.readouterr().err
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt"]

    # Tagged as a cache, but by another tool: not ours either.
    (theirs / "CACHEDIR.TAG").write_text(cache.TAG_SIGNATURE + "\n# created by cibuildwheel\n")
    assert _print_identifiers(str(theirs)) == 0
    assert "not a ccwheel cache" in capsys.readouterr().err
    assert sorted(p.name for p in theirs.iterdir()) == ["CACHEDIR.TAG", "notes.txt"]


def test_unusable_cache_dir_warns_and_builds(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory ccwheel cannot use this time (here: one it did not create) is one
    warning, and the build goes on."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    code = _print_identifiers(str(theirs))
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.split() == ["cp311-manylinux_x86_64"]
    line, verdict = [x for x in captured.err.splitlines() if x.startswith("ccwheel:")]
    assert "not a ccwheel cache" in line and "building without the cache" in line
    assert verdict == "ccwheel: no build ran, nothing cached; cibuildwheel exited 0"


@pytest.mark.parametrize("where", ["file", "file/cache"])
@pytest.mark.parametrize("command", ["build", "info", "clean"])
def test_a_cache_dir_that_is_a_file_is_an_error_before_anything_runs(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, command: str
) -> None:
    """The user named it: exit 2 and one line, not an uncached build, and not "not created
    yet" or "emptied" from the cache commands. The file is left as it was."""
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    cache_dir = str(tmp_path / where)
    if command == "build":
        code = _print_identifiers(cache_dir)
    else:
        code = cli.main(["cache", command, "--cache-dir", cache_dir])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("ccwheel: error: --cache-dir ") and "not a directory" in line
    assert blocker.read_text() == "mine"


@pytest.mark.parametrize("value", ["nope.toml", "{package}/nope.toml", "."])
def test_a_missing_config_file_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """Plain cibuildwheel stops with a traceback here."""
    code = cli.main(["build", "--config-file", value, "--print-build-identifiers"])
    assert code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ccwheel: error: --config-file {value}: ")


def test_a_bad_mode_lists_the_valid_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build", "--stable-build-env", "yes"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("(one of: auto, env-dir, fixed-env, no-isolation, off)")


def test_help_cibuildwheel(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build", "--help-cibuildwheel"]) == 0
    assert "--print-build-identifiers" in capsys.readouterr().out


def _report(tmp_path: Path) -> report.Report:
    warm = stats.parse("# a.c\ndirect_cache_hit\n# b.c\ncache_miss\n# x.o\ncalled_for_link\n")
    cold = stats.parse("# a.c\ncache_miss\n")
    return report.Report(
        tmp_path,
        [
            report.BuildRecord(
                "cp311-manylinux_x86_64", warm, 3.0, warm=True, finished=True, cold_seconds=10.0
            ),
            report.BuildRecord(
                "cp312-manylinux_x86_64",
                cold,
                4.0,
                warm=False,
                finished=False,
                warning="no usable ccache",
            ),
        ],
        cache_size=2048,
        exit_code=1,
    )


def test_min_hit_rate_applies_to_warm_builds_only(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    # A cold build that finished at 0%: a first build misses by nature.
    rep.builds.append(
        report.BuildRecord(
            "cp39-manylinux_x86_64",
            stats.parse("# a.c\ncache_miss\n"),
            1.0,
            warm=False,
            finished=True,
        )
    )
    verdict.check_hit_rate(rep, None)
    verdict.check_hit_rate(rep, 0.5)  # warm build at 50%; the cold ones at 0% do not count
    with pytest.raises(
        HitRateTooLowError, match=r"warm builds: cp311-manylinux_x86_64 50\.0%$"
    ) as e:
        verdict.check_hit_rate(rep, 0.9)
    assert e.value.exit_code == 20


def test_report_forms_agree(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    data = report.to_json(rep)
    assert data["complete"] is False
    assert [b["hit_rate"] for b in data["builds"]] == [0.5, 0.0]
    # A link call is no compile: not counted as one ccache could not cache.
    assert data["totals"]["compilations"] == 3 and data["totals"]["uncacheable"] == 0
    assert data["builds"][0]["not_compiles"] == {"called_for_link": 1}
    assert data["builds"][0]["saved_seconds"] == 7.0 and data["totals"]["saved_seconds"] == 7.0
    text = report.render_text(rep)
    assert "cp312-manylinux_x86_64 (failed)" in text
    assert "built without the cache: no usable ccache" in text
    md = report.render_markdown(rep)
    assert "| cp311-manylinux_x86_64 | warm | 2 | 1 | 1 | 0 | 1 | 0 | 50.0% | 3.0s | 7s |" in md
    failed_row = (
        "| cp312-manylinux_x86_64 (failed) | cold | 1 | 0 | 0 | 0 | 1 | 0 | 0.0% | 4.0s | - |"
    )
    assert failed_row in md
    assert "uncacheable calls" not in text

    path = tmp_path / "out" / "r.json"
    report.write_json(rep, path)
    assert json.loads(path.read_text()) == data
    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    report.append_step_summary(rep, summary)
    assert summary.read_text().startswith("before\n### ccwheel")


def _info(fields: dict[str, str]) -> BuildInfo:
    return BuildInfo.parse(" ".join(f"{k}={v}" for k, v in fields.items()))


def test_the_report_says_which_ccache_ran() -> None:
    emulated = {"origin": "ccwheel", "version": "4.14.2", "arch": "x86_64", "container": "aarch64"}
    assert (
        report.describe_ccache(_info({**emulated, "emulated": "no"}))
        == "ccwheel's ccache 4.14.2 (x86_64, native; container aarch64)"
    )
    image = {"origin": "image", "version": "4.9", "arch": "s390x", "container": "s390x"}
    assert report.describe_ccache(_info({**image, "emulated": "unknown"})) == (
        "the image's ccache 4.9 (s390x, native or not: unknown)"
    )
    assert (
        report.describe_ccache(_info({**image, "emulated": "yes", "unrouted": "/opt/cc,/opt/c++"}))
        == "the image's ccache 4.9 (s390x, emulated); not routed: /opt/cc (named by full path), "
        "/opt/c++ (named by full path)"
    )
    # A host build's other reasons, each said as it is (C:\ has a colon too).
    host = {"origin": "ccwheel", "version": "4.14.2", "arch": "arm64", "emulated": "no"}
    host["unrouted"] = r"gcc-13:not-found,CC:by-a-command,C:\tools\cl.exe"
    assert report.describe_ccache(_info(host)) == (
        "ccwheel's ccache 4.14.2 (arm64, native); not routed: gcc-13 (found on no PATH), "
        r"CC (set by a command), C:\tools\cl.exe (named by full path)"
    )


def test_a_failing_remote_storage_is_said_in_the_report_and_the_verdict(tmp_path: Path) -> None:
    failed = stats.parse("# a.c\ncache_miss\nremote_storage_error\n")
    build = report.BuildRecord("cp311-manylinux_x86_64", failed, 1.0, warm=False, finished=True)
    rep = report.Report(tmp_path, [build], 0, 0, "redis://***@host")
    assert "cp311-manylinux_x86_64: the remote storage failed on 1 compile " in (
        report.render_text(rep)
    )
    assert report.verdict(rep, 0).endswith(", remote storage failed on 1; cibuildwheel exited 0")
    assert report.to_json(rep)["totals"]["remote_errors"] == 1
