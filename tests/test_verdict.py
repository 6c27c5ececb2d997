"""The verdict of each build, from what happened to it: a table of cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccwheel import report, verdict
from ccwheel.buildinfo import BuildInfo
from ccwheel.stats import parse

ID = "cp312-manylinux_x86_64"
CACHE = Path("/cache")
INFO = BuildInfo(origin="ccwheel", version="4.14.2", cache="shared")
HIT = parse("# a.c\ndirect_cache_hit\n")


def facts(**given: object) -> verdict.Facts:
    base: dict[str, object] = dict(
        identifier=ID, finished=True, seconds=5.0, frontend_ran=True, warm=True
    )
    return verdict.Facts(**{**base, **given})  # type: ignore[arg-type]


# (case, facts, (warning starts with, cached, unmeasured, note))
CASES = [
    ("cached", facts(info=INFO, stats=HIT), (None, True, False, None)),
    ("not cached", facts(uncached="pyodide"), ("not cached: pyodide", False, False, None)),
    ("no run dir", facts(no_run_dir=True), ("no cache directory", False, False, None)),
    ("setup said why", facts(status="no ccache", info=INFO), ("no ccache", False, False, None)),
    (
        "files not copied",
        facts(copy_failure="ccwheel's files could not be copied"),
        ("ccwheel's files could not", False, False, None),
    ),
    (
        "statistics unreadable",
        facts(info=INFO, stats_error="Permission denied"),
        ("cannot read its statistics: Permission denied", False, True, None),
    ),
    ("no word", facts(), ("the container left no word", True, True, None)),
    (
        "reused abi3 wheel",
        facts(frontend_ran=False),
        (None, True, False, verdict.REUSED_NOTE),
    ),
    (
        "remote only",
        facts(info=BuildInfo(cache="remote-only"), stats=HIT),
        (None, True, False, verdict.REMOTE_ONLY_NOTE),
    ),
    ("kind's note", facts(info=INFO, note="generator"), (None, True, False, "generator")),
]


@pytest.mark.parametrize(("given", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_build_s_verdict(
    given: verdict.Facts, expected: tuple[str | None, bool, bool, str | None]
) -> None:
    rec = verdict.record(given, CACHE)
    warning, cached, unmeasured, note = expected
    assert (rec.warning or "").startswith(warning or "") and bool(rec.warning) == bool(warning)
    assert (rec.cached, rec.unmeasured, rec.note) == (cached, unmeasured, note)


def test_what_was_not_routed_and_the_kind_s_note_say_why_compiles_went_past() -> None:
    routed = BuildInfo(unrouted=("/opt/cc",))
    assert verdict.record(facts(info=routed), CACHE).past_ccache == (
        "not routed: /opt/cc (named by full path)"
    )
    with_note = facts(info=routed, note="the Visual Studio generator")
    assert verdict.record(with_note, CACHE).past_ccache == "the Visual Studio generator"


def test_a_build_without_numbers_is_not_said_to_be_built_without_the_cache() -> None:
    rec = verdict.record(facts(info=INFO, stats_error="Permission denied"), CACHE)
    text = report.render_text(report.Report(CACHE, [rec], 0, 0))
    assert f"{ID}: no numbers: cannot read its statistics" in text
    assert "built without the cache" not in text
    without = verdict.record(facts(status="no usable ccache", info=INFO), CACHE)
    text = report.render_text(report.Report(CACHE, [without], 0, 0))
    assert f"{ID}: built without the cache: no usable ccache" in text


def test_warm_marks_go_to_builds_that_finished_with_the_cache() -> None:
    cold = verdict.record(facts(warm=False, info=INFO, stats=HIT), CACHE)
    warm = verdict.record(facts(identifier="cp311", info=INFO, stats=HIT), CACHE)
    failed = verdict.record(facts(identifier="cp310", finished=False, info=INFO), CACHE)
    without = verdict.record(facts(identifier="cp39", status="no ccache"), CACHE)
    rep = report.Report(CACHE, [cold, warm, failed, without], 0, 0)
    assert verdict.warm_marks(rep) == [(ID, 5.0), ("cp311", None)]
