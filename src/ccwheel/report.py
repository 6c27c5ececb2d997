"""The per-build report: a table on stdout, JSON for --report, Markdown for GitHub."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from ccwheel.buildinfo import BuildInfo
from ccwheel.console import in_github_actions, warn
from ccwheel.explain import Explanation, summarize
from ccwheel.stats import BuildStats


@dataclasses.dataclass
class BuildRecord:
    identifier: str
    stats: BuildStats
    seconds: float | None
    # This identifier had filled this cache before: a hit rate well below 100% means
    # something moved; --min-hit-rate applies to these builds only.
    warm: bool
    finished: bool
    warning: str | None = None
    # False for a build ccwheel did not cache: a platform it does not cache yet, a host
    # build that could not use the cache (`warning` says why). Nothing measured it.
    cached: bool = True
    # The build may have used the cache, but has no numbers (`warning` says why): not
    # "built without the cache".
    unmeasured: bool = False
    # Why the build's compiles went past ccache although it was cached (a compiler named by
    # full path, CMake's Visual Studio generator), when ccwheel knows; and whether the build
    # ran its frontend at all (cibuildwheel skips a build that can reuse an abi3 wheel).
    past_ccache: str | None = None
    frontend_ran: bool = True
    # Something the user should know about a build that did use the cache.
    note: str | None = None
    # Which ccache ran and what it routed (its info file), when the build left one.
    ccache: BuildInfo | None = None
    # With --explain: why each unit that missed did.
    explanations: list[Explanation] = dataclasses.field(default_factory=list)
    # A warm build: the seconds the last cold build of its identifier took, if recorded.
    cold_seconds: float | None = None

    @property
    def saved(self) -> float | None:
        """Seconds this build took less than its identifier's last cold build (negative:
        more), for a warm build that finished."""
        if not (self.warm and self.finished) or self.seconds is None:
            return None
        return None if self.cold_seconds is None else self.cold_seconds - self.seconds


@dataclasses.dataclass
class Report:
    cache_dir: Path
    builds: list[BuildRecord]
    cache_size: int
    exit_code: int
    # The remote storage, credentials redacted, when one is configured.
    remote: str | None = None
    # Stopped by Ctrl-C or SIGTERM: the numbers cover only what ran before.
    interrupted: bool = False
    # Why the cache directory could not be used at all, if it could not.
    unusable: str | None = None

    @property
    def totals(self) -> BuildStats:
        total = BuildStats()
        for build in self.builds:
            total.add(build.stats)
        return total

    @property
    def total_seconds(self) -> float | None:
        seconds = [b.seconds for b in self.builds if b.seconds is not None]
        return sum(seconds) if seconds else None

    @property
    def saved(self) -> float | None:
        saved = [b.saved for b in self.builds if b.saved is not None]
        return sum(saved) if saved else None


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _secs(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}s"


def duration(seconds: float) -> str:
    """45s, 2m10s, 1h02m: a time saved, read at a glance."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _saved(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return duration(seconds) if seconds >= 0 else f"-{duration(-seconds)}"


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


HEADER = (
    "build",
    "run",
    "compiles",
    "hits",
    "direct",
    "preproc",
    "misses",
    "uncacheable",
    "hit rate",
    "time",
    # Against the last cold build of the same identifier in this cache directory.
    "saved",
)


# With a remote storage, the hits split by where they came from, after "preproc".
REMOTE_HEADER = ("local", "remote")
REMOTE_AT = HEADER.index("preproc") + 1


def _header(report: Report) -> list[str]:
    header = list(HEADER)
    if report.remote:
        header[REMOTE_AT:REMOTE_AT] = REMOTE_HEADER
    return header


def _row(
    name: str, run: str, s: BuildStats, seconds: float | None, saved: float | None, remote: bool
) -> list[str]:
    row = [
        name,
        run,
        str(s.cacheable),
        str(s.hits),
        str(s.direct_hits),
        str(s.preprocessed_hits),
        str(s.misses),
        str(s.uncacheable_total),
        percent(s.hit_rate),
        _secs(seconds),
        _saved(saved),
    ]
    if remote:
        row[REMOTE_AT:REMOTE_AT] = [str(s.local_hits), str(s.remote_hits)]
    return row


def _run(b: BuildRecord) -> str:
    """Warm: this identifier had filled this cache before; cold: this build fills it."""
    if not b.cached:
        return "-"
    return "warm" if b.warm else "cold"


def _rows(report: Report) -> list[list[str]]:
    rows = []
    remote = bool(report.remote)
    for b in report.builds:
        name = b.identifier + ("" if b.finished else " (failed)")
        rows.append(_row(name, _run(b), b.stats, b.seconds, b.saved, remote))
    warm = sum(b.cached and b.warm for b in report.builds)
    rows.append(
        _row("total", f"{warm} warm", report.totals, report.total_seconds, report.saved, remote)
    )
    return rows


def describe_ccache(info: BuildInfo) -> str:
    """Which ccache a build ran: whose, its architecture, native or emulated."""
    whose = {"image": "the image's", "ccwheel": "ccwheel's"}.get(info.origin, "a")
    text = f"{whose} ccache {info.version or '?'}"
    how = {"yes": "emulated", "no": "native"}.get(info.emulated, "native or not: unknown")
    details = [f"{info.arch}, {how}"] if info.arch else []
    if info.container and info.container != info.arch:
        details.append(f"container {info.container}")
    if details:
        text += f" ({'; '.join(details)})"
    unrouted = info.not_routed()
    if unrouted:
        text += f"; {unrouted}"
    return text


# What to change, for ccache's reasons that a build's own settings cause (MSVC's above all).
UNCACHEABLE_HINTS = {
    "unsupported_compiler_option": (
        "an option ccache cannot cache; with MSVC /Zi or /ZI, where /Z7 caches"
    ),
    "unsupported_environment_variable": (
        "MSVC's CL or _CL_, or DEPENDENCIES_OUTPUT or SUNPRO_DEPENDENCIES, is set"
    ),
    "multiple_source_files": "several sources in one compiler call",
}


def uncacheable_line(s: BuildStats, hinted_only: bool = False) -> str | None:
    """ccache's reasons for the calls it could not cache, with what to change (only the
    reasons a build's own settings cause, with `hinted_only`)."""
    reasons = {
        r: n for r, n in s.uncacheable_reasons.items() if r in UNCACHEABLE_HINTS or not hinted_only
    }
    if not reasons:
        return None
    parts = []
    for reason, count in sorted(reasons.items()):
        hint = UNCACHEABLE_HINTS.get(reason)
        parts.append(f"{reason} {count}" + (f" ({hint})" if hint else ""))
    return "uncacheable calls: " + ", ".join(parts)


def remote_errors_line(n: int) -> str:
    return (
        f"the remote storage failed on {n} compile{'' if n == 1 else 's'} (ccache's "
        "remote_storage_error or _timeout: its URL, credentials or server), the local "
        "cache served them"
    )


def render_text(report: Report) -> str:
    header = _header(report)
    rows = [header, *_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    title = "ccwheel: ccache per build"
    if report.interrupted:
        title += " (INTERRUPTED: incomplete, only what ran before the interruption)"
    lines = ["", title]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  " + "  ".join(cells))
        if i == 0 or i == len(rows) - 2:
            lines.append("  " + "  ".join("-" * w for w in widths))
    for b in report.builds:
        if b.warning:
            what = "no numbers" if b.unmeasured else "built without the cache"
            lines.append(f"  {b.identifier}: {what}: {b.warning}")
        if b.note:
            lines.append(f"  {b.identifier}: {b.note}")
        if b.ccache:
            lines.append(f"  {b.identifier}: {describe_ccache(b.ccache)}")
        uncacheable = uncacheable_line(b.stats)
        if uncacheable:
            lines.append(f"  {b.identifier}: {uncacheable}")
        for line in summarize(b.explanations):
            lines.append(f"  {b.identifier}: {line}")
        if b.stats.remote_errors:
            lines.append(f"  {b.identifier}: {remote_errors_line(b.stats.remote_errors)}")
        if b.stats.probes:
            lines.append(
                f"  {b.identifier}: {b.stats.probes} build-system probe compiles "
                f"({b.stats.probe_hits} hit), not counted above"
            )
    cache = f"{report.cache_dir} ({human_size(report.cache_size)})"
    lines.append(f"  cache: {f'not used: {report.unusable}' if report.unusable else cache}")
    if report.remote:
        lines.append(f"  remote storage: {report.remote}")
    return "\n".join(lines)


def verdict(report: Report | None, code: int, why_uncached: str | None = None) -> str:
    """The run's one closing line, printed on success, failure and interruption alike:
    what was built, what hit, and cibuildwheel's own exit code. `report` None: nothing ran
    with the cache (`why_uncached` says why)."""
    ending = f"cibuildwheel exited {code}"
    if report is None:
        return f"ccwheel: not cached ({why_uncached}); {ending}"
    n = len(report.builds)
    if not n:
        return f"ccwheel: no build ran, nothing cached; {ending}"
    parts = [f"{n} build{'' if n == 1 else 's'}"]
    failed = sum(not b.finished for b in report.builds)
    if failed:
        parts[0] += f" ({failed} failed)"
    t = report.totals
    if t.cacheable:
        hits = f"{t.hits}/{t.cacheable} compiles hit ({percent(t.hit_rate)})"
        direct = "all direct" if t.direct_hits == t.cacheable else f"{t.direct_hits} direct"
        parts.append(f"{hits}, {direct}")
    else:
        parts.append("no compiles measured")
    saved = report.saved
    if saved is not None:
        parts.append(
            f"{duration(saved)} saved" if saved >= 0 else f"{duration(-saved)} slower than cold"
        )
    uncached = sum(not b.cached for b in report.builds)
    if uncached:
        parts.append(f"{uncached} not cached")
    if t.remote_errors:
        parts.append(f"remote storage failed on {t.remote_errors}")
    if report.interrupted:
        ending = f"interrupted, {ending}"
    return f"ccwheel: {', '.join(parts)}; {ending}"


def render_markdown(report: Report) -> str:
    rows = _rows(report)
    header = _header(report)
    out = [
        "### ccwheel: ccache per build"
        + (" (interrupted: incomplete)" if report.interrupted else ""),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for i, row in enumerate(rows):
        cells = [f"**{c}**" if i == len(rows) - 1 else c for c in row]
        out.append("| " + " | ".join(cells) + " |")
    cache = f"`{report.cache_dir}` ({human_size(report.cache_size)})"
    if report.unusable:
        cache = f"not used: `{report.unusable}`"
    out += ["", f"Cache: {cache}", ""]
    if report.remote:
        out[-1:-1] = [f"Remote storage: `{report.remote}`"]
    return "\n".join(out)


def _stats_json(s: BuildStats) -> dict[str, Any]:
    return {
        "compilations": s.cacheable,
        "hits": s.hits,
        "direct_hits": s.direct_hits,
        "preprocessed_hits": s.preprocessed_hits,
        "misses": s.misses,
        "local_hits": s.local_hits,
        "remote_hits": s.remote_hits,
        "uncacheable": s.uncacheable_total,
        "uncacheable_reasons": dict(sorted(s.uncacheable_reasons.items())),
        # Links and preprocess-only calls: not compiles, not a problem.
        "not_compiles": dict(sorted(s.not_compiles.items())),
        "hit_rate": s.hit_rate,
        "direct_rate": s.direct_rate,
        "probes": s.probes,
        "probe_hits": s.probe_hits,
        "remote_errors": s.remote_errors,
    }


def to_json(report: Report) -> dict[str, Any]:
    return {
        "cache_dir": str(report.cache_dir),
        "cache_size_bytes": None if report.unusable else report.cache_size,
        "cache_unusable": report.unusable,
        "remote_storage": report.remote,
        "exit_code": report.exit_code,
        "complete": all(b.finished for b in report.builds)
        and report.exit_code == 0
        and not report.interrupted,
        "interrupted": report.interrupted,
        "builds": [
            {
                "identifier": b.identifier,
                "finished": b.finished,
                "warm": b.warm,
                "seconds": b.seconds,
                "cold_seconds": b.cold_seconds,
                "saved_seconds": b.saved,
                "cached": b.cached,
                "unmeasured": b.unmeasured,
                "warning": b.warning,
                "note": b.note,
                "ccache": b.ccache.as_json() if b.ccache else {},
                **_stats_json(b.stats),
                "missed_files": b.stats.missed_files,
                "explain": [dataclasses.asdict(e) for e in b.explanations],
            }
            for b in report.builds
        ],
        "totals": {
            **_stats_json(report.totals),
            "seconds": report.total_seconds,
            "saved_seconds": report.saved,
        },
    }


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(report), indent=2) + "\n")


def append_step_summary(report: Report, path: Path) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(render_markdown(report) + "\n")


def publish(rep: Report, json_path: Path | None) -> None:
    """The report on stdout, and as JSON and in the step summary where asked."""
    # Under GitHub Actions the table folds into one line of the log (the step summary shows
    # it too); the verdict after it stays in sight.
    folded = in_github_actions()
    if folded:
        print(f"::group::ccwheel: ccache per build ({len(rep.builds)})")
    print(render_text(rep))
    if folded:
        print("::endgroup::")
    failed_remote = rep.totals.remote_errors
    if failed_remote:  # ccache itself says nothing: the cache just fills no remote
        sys.stdout.flush()
        warn(remote_errors_line(failed_remote))
    if json_path:
        try:
            write_json(rep, json_path)
        except OSError as e:
            warn(f"cannot write the report to {json_path}: {e.strerror or e}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_step_summary(rep, Path(summary))
        except OSError as e:
            warn(f"cannot append to GITHUB_STEP_SUMMARY: {e}")
