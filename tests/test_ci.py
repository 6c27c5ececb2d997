"""`ccwheel ci`: what the GitHub Action computes around the build (keys, outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccwheel import ci
from ccwheel.cli import main

RUNNER = {"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "GITHUB_JOB": "wheels"}


def test_the_key_changes_every_run_and_the_prefixes_find_the_newest_earlier() -> None:
    first = ci.keys({**RUNNER, "GITHUB_RUN_ID": "10", "GITHUB_RUN_ATTEMPT": "1"}, "cibw4.3.5")
    again = ci.keys({**RUNNER, "GITHUB_RUN_ID": "10", "GITHUB_RUN_ATTEMPT": "2"}, "cibw4.3.5")
    later = ci.keys({**RUNNER, "GITHUB_RUN_ID": "11", "GITHUB_RUN_ATTEMPT": "1"}, "cibw4.3.5")
    assert len({first.key, again.key, later.key}) == 3  # GitHub never overwrites an entry
    assert first.restore_keys == later.restore_keys
    job, toolchain, runner = first.restore_keys
    assert (toolchain, runner) == ("ccwheel-1-Linux-X64-cibw4.3.5-", "ccwheel-1-Linux-X64-")
    assert job.startswith(toolchain) and toolchain.startswith(runner)
    assert first.key.startswith(job) and later.key.startswith(job)


def test_jobs_runners_and_toolchains_get_their_own_prefixes() -> None:
    base = ci.keys(RUNNER, "cibw4.3.5")
    others = [
        ci.keys({**RUNNER, "CIBW_BUILD": "cp312-*"}, "cibw4.3.5"),
        ci.keys({**RUNNER, "INPUT_ONLY": "cp311-manylinux_x86_64"}, "cibw4.3.5"),
        # Every CIBW_* variable, the matrix leg and the step tell uses apart too.
        ci.keys({**RUNNER, "CIBW_MANYLINUX_X86_64_IMAGE": "manylinux_2_28"}, "cibw4.3.5"),
        ci.keys({**RUNNER, "INPUT_MATRIX": '{"python": "3.12"}'}, "cibw4.3.5"),
        ci.keys({**RUNNER, "GITHUB_ACTION": "second"}, "cibw4.3.5"),
    ]
    own = {k.restore_keys[0] for k in [base, *others]}
    assert len(own) == 1 + len(others)
    # All share the toolchain's and the runner's prefixes: either's cache helps.
    assert {k.restore_keys[1:] for k in [base, *others]} == {base.restore_keys[1:]}
    arm = ci.keys({**RUNNER, "RUNNER_ARCH": "ARM64"}, "cibw4.3.5")
    assert not arm.key.startswith(base.restore_keys[2])
    # Another cibuildwheel release: colder, still restored by the last prefix.
    older = ci.keys(RUNNER, "cibw3.4.1")
    assert not older.key.startswith(base.restore_keys[1])
    assert older.key.startswith(base.restore_keys[2])


@pytest.mark.parametrize(
    ("totals", "restored", "save"),
    [
        ({"compilations": 7, "hits": 5, "misses": 2, "hit_rate": 5 / 7}, "own-1", "true"),
        ({"compilations": 7, "hits": 7, "misses": 0, "hit_rate": 1.0}, "own-1", "false"),
        # All hit, but from another job's cache (or none): this job saves its own.
        ({"compilations": 7, "hits": 7, "misses": 0, "hit_rate": 1.0}, "other-1", "true"),
        ({"compilations": 0, "hits": 0, "misses": 0, "hit_rate": None}, "", "true"),
        ({"compilations": 0, "hits": 0, "misses": 0, "hit_rate": None}, "own-1", "false"),
    ],
    ids=["misses", "all-hit-own", "all-hit-other", "nothing-restored", "nothing-compiled"],
)
def test_outputs_and_whether_to_save(totals: dict[str, object], restored: str, save: str) -> None:
    found = ci.figures({"totals": totals, "complete": True})
    out = ci.outputs_of(found, restored, "own-")
    assert out["save"] == save
    assert out["compiles"] == str(totals["compilations"])
    assert out["hits"] == str(totals["hits"])
    assert out["hit-rate"] == ("" if totals["hit_rate"] is None else f"{totals['hit_rate']:.4f}")


def test_a_line_break_in_a_value_cannot_forge_outputs() -> None:
    with pytest.raises(ValueError, match="line break"):
        ci.output_lines({"cache-dir": "/c\nsave=true"})


def test_a_missing_or_broken_report_saves_nothing(tmp_path: Path) -> None:
    assert ci.read_figures(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert ci.read_figures(tmp_path / "bad.json") is None
    assert ci.outputs_of(None)["save"] == "false"


def test_a_run_that_could_not_use_the_cache_directory_saves_nothing() -> None:
    """Whatever is at that path (a file, another tool's directory) is not ccwheel's cache."""
    totals = {"compilations": 0, "hits": 0, "misses": 0, "hit_rate": None}
    found = ci.figures({"totals": totals, "cache_unusable": "cache directory /c is not usable"})
    assert ci.outputs_of(found, "", "own-")["save"] == "false"
    found = ci.figures({"totals": totals, "cache_unusable": None})
    assert ci.outputs_of(found, "", "own-")["save"] == "true"


def test_the_commands_append_github_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    for name, value in {**RUNNER, "GITHUB_RUN_ID": "5"}.items():
        monkeypatch.setenv(name, value)
    assert main(["ci", "keys", "--cache-dir", str(tmp_path / "cache")]) == 0
    text = out.read_text()
    assert f"cache-dir={tmp_path / 'cache'}\n" in text
    key = next(line for line in text.splitlines() if line.startswith("key="))
    assert key.endswith("-5-1")
    # restore-keys spans lines: GitHub's delimited form, two prefixes inside.
    start = text.index("restore-keys<<")
    delimiter = text[start:].split("\n", 1)[0].split("<<", 1)[1]
    block = text[start:].split("\n")[1:]
    assert block[3] == delimiter and key[4:].startswith(block[0])
    assert f"own-prefix={block[0]}\n" in text
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"totals": {"compilations": 3, "hits": 3, "misses": 0}}))
    assert (
        main(
            [
                "ci",
                "outputs",
                "--report",
                str(report),
                "--restored-key",
                "k-1",
                "--own-prefix",
                "k-",
            ]
        )
        == 0
    )
    assert "save=false\n" in out.read_text() and "compiles=3\n" in out.read_text()
    assert main(["ci", "outputs"]) == 2  # --report is required
    assert "save=false" in capsys.readouterr().out
