"""What each build's line of the report says, and what `--min-hit-rate` says of the run:
pure functions of what happened to each build (one `Facts` per build, gathered by run.py
from the hooks and the files the build left). Nothing here reads a file or prints."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ccwheel import report
from ccwheel.buildinfo import BuildInfo
from ccwheel.errors import HitRateTooLowError
from ccwheel.explain import Explanation
from ccwheel.stats import BuildStats

# A build that finished without running its frontend, and of whose container nothing was
# heard: cibuildwheel found a wheel it built earlier in this run that this identifier can
# use (abi3 or pure), and skipped the build step, ccwheel's setup with it.
REUSED_NOTE = "nothing built: cibuildwheel reused a compatible (abi3) wheel of this run"
REMOTE_ONLY_NOTE = (
    "the container could not see the cache directory: ccache used the remote storage only "
    "(statistics read back from the container)"
)


@dataclasses.dataclass(frozen=True)
class Facts:
    """What happened to one build, as values."""

    identifier: str
    # It finished (cibuildwheel ended it), in `seconds`; it ran its frontend.
    finished: bool
    seconds: float | None
    frontend_ran: bool
    # The identifier had filled this cache directory before, and its last cold build took
    # `cold_seconds` (when that was recorded).
    warm: bool
    cold_seconds: float | None = None
    # ccwheel did not cache it, and why (a platform it does not cache yet, a host build
    # that could not use the cache, a cache directory it cannot use).
    uncached: str | None = None
    # The run's directory could not be made: nothing recorded what the build did.
    no_run_dir: bool = False
    # ccwheel's files did not reach its container, and why.
    copy_failure: str | None = None
    # What the build left: its status line (why it went without the cache), its info
    # file, its statistics (or why they could not be read).
    status: str | None = None
    info: BuildInfo | None = None
    stats: BuildStats = dataclasses.field(default_factory=BuildStats)
    stats_error: str | None = None
    # The note of its kind of build (a host build's CMake generator, say).
    note: str | None = None
    explanations: list[Explanation] = dataclasses.field(default_factory=list)


def no_word(cache_dir: Path) -> str:
    """A container build that left neither status nor info: why there are no numbers."""
    return (
        f"the container left no word in the cache directory {cache_dir}: it cannot see it "
        f"(a remote or rootless container engine, or SELinux without --selinux-relabel?), "
        f"or the build stopped before ccwheel's setup step; no statistics for this build"
    )


def record(f: Facts, cache_dir: Path) -> report.BuildRecord:
    """The report's line of one build."""
    warning, cached, unmeasured = _outcome(f, cache_dir)
    note = f.note
    if f.info is not None and f.info.cache == "remote-only":
        note = REMOTE_ONLY_NOTE
    # Finished without running its frontend, nothing compiled, and ccache not refused:
    # cibuildwheel reused a wheel (in a container, before ccwheel's setup step ran).
    # Neither a cache it could not see nor a build without it.
    if _reused(f):
        warning, note, cached, unmeasured = None, REUSED_NOTE, True, False
    past = f.note or (f.info.not_routed() if f.info is not None else None)
    return report.BuildRecord(
        identifier=f.identifier,
        stats=f.stats,
        seconds=f.seconds,
        warm=f.warm,
        cold_seconds=f.cold_seconds,
        finished=f.finished,
        warning=warning,
        cached=cached,
        unmeasured=unmeasured,
        past_ccache=past,
        frontend_ran=f.frontend_ran,
        ccache=f.info,
        note=note,
        explanations=f.explanations,
    )


def _outcome(f: Facts, cache_dir: Path) -> tuple[str | None, bool, bool]:
    """(why the build went without the cache, or has no numbers; whether ccwheel cached
    it; whether it is the numbers that are missing, the cache perhaps used)."""
    if f.uncached is not None:
        return f"not cached: {f.uncached}", False, False
    if f.no_run_dir:
        return "no cache directory this run", False, False
    cached = not (f.status or f.copy_failure)
    if f.stats_error is not None:  # a CCACHE_UMASK of the user's own, say
        # Nothing measured it: --min-hit-rate cannot pass it.
        return f"cannot read its statistics: {f.stats_error}", False, cached
    if f.status or f.info is not None:
        return f.status, cached, False
    if f.copy_failure:
        return f.copy_failure, False, False
    # setup.sh writes one or the other, which the host reads back from the container when
    # the container could not write them into the cache directory.
    return no_word(cache_dir), cached, True


def _reused(f: Facts) -> bool:
    if f.uncached is not None or f.no_run_dir:
        return False
    compiled = f.stats.cacheable or f.stats.calls_past_cache
    return f.finished and not f.frontend_ran and not f.status and not compiled


def warm_marks(rep: report.Report) -> list[tuple[str, float | None]]:
    """The identifiers to mark warm, each with the cold seconds to record (None: keep).
    A build that finished with the cache has filled it: next time it is warm (not one that
    reused an earlier wheel and compiled nothing). A cold one records its time, the
    baseline of what later warm builds saved; not one the remote storage served."""
    return [
        (b.identifier, None if b.warm or b.stats.remote_hits else b.seconds)
        for b in rep.builds
        if b.finished and not b.warning and b.frontend_ran
    ]


def check_hit_rate(rep: report.Report, minimum: float | None) -> None:
    """--min-hit-rate: only warm builds that finished count (a cold build misses by nature);
    and a build ccwheel did not cache fails it, since nothing measured it (a platform
    ccwheel does not cache yet, a host build that could not use the cache)."""
    if minimum is None:
        return
    unmeasured = [f"{b.identifier} ({b.warning})" for b in rep.builds if not b.cached]
    # A warm build that ran its frontend and none of whose compiles reached ccache, or was
    # cacheable, for a reason ccwheel knows (a compiler named by full path, CMake's Visual
    # Studio generator, MSVC's /Zi).
    for b in rep.builds:
        if not (b.cached and b.warm and b.finished and b.frontend_ran) or b.stats.cacheable:
            continue
        why = b.past_ccache or report.uncacheable_line(b.stats, hinted_only=True)
        if why:
            unmeasured.append(f"{b.identifier} (nothing reached ccache's cache: {why})")
    if unmeasured:
        msg = (
            f"--min-hit-rate {100 * minimum:.1f}% cannot hold for builds nothing measured: "
            f"{'; '.join(unmeasured)}"
        )
        raise HitRateTooLowError(msg)
    low = [
        f"{b.identifier} {100 * b.stats.hit_rate:.1f}%"
        for b in rep.builds
        if b.warm and b.finished and b.stats.hit_rate is not None and b.stats.hit_rate < minimum
    ]
    if low:
        msg = f"hit rate below --min-hit-rate {100 * minimum:.1f}% on warm builds: {', '.join(low)}"
        raise HitRateTooLowError(msg)
