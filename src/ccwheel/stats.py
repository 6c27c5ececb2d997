"""Per-build ccache statistics, read from ccache's stats log (CCACHE_STATSLOG).

Every ccache call appends a block: a `# <input file>` line, then one line per counter it
touched. The block's outcome is a hit (direct or preprocessed), a miss, or one reason the
call could not be cached (linking, no input file, ...). Lookup and storage counters say how
the outcome was reached, not what it was, except remote-storage hits, which are kept.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Collection
from pathlib import Path

_NOT_OUTCOMES_PREFIXES = ("local_storage_", "remote_storage_")
_NOT_OUTCOMES = {"direct_cache_miss", "preprocessed_cache_miss"}
# Compilations a build system makes to probe the compiler, not to build the project: they
# miss by nature (fresh random scratch files) and are counted apart from the hit rate.
_PROBE_MARKERS = (
    # CMake's try_compile and check_*_compiles scratch projects (3.25+, and before).
    "CMakeFiles/CMakeScratch/",
    "CMakeFiles/CMakeTmp/",
    # CMake's compiler identification, compiled in CMakeFiles/<version>/CompilerIdC/...
    "/CompilerIdC/",
    "/CompilerIdCXX/",
    "/CompilerIdCUDA/",
    # ... and its ABI probes, whose sources are in CMake's own Modules directory.
    "/Modules/CMakeCCompilerABI.",
    "/Modules/CMakeCXXCompilerABI.",
    "/Modules/CMakeCUDACompilerABI.",
    # meson's sanity checks and compiler probes, in its private build directory.
    "meson-private/",
)
# CMake's check_<lang>_source_compiles/compiler_flag probes compile a file named src.<ext>
# in their scratch directory. Inside CCACHE_BASEDIR (a build dir of the user's under
# /project) ccache logs the path relative to where it was compiled, so the scratch
# directory is gone from the log and only the bare name is left.
_PROBE_NAMES = ("src.c", "src.cxx", "src.cu", "src.m", "src.mm")


# A setup script's own probe (distutils' has_function, pybind11's has_flag, a project's
# check): a scratch source from tempfile, `tmp` or a prefix, then 8 random characters, in
# the temporary directory. A fresh name every run, so a miss by nature.
_SETUP_PROBE = re.compile(
    r"(?:^|.*[\\/])(?:tmp[a-z0-9_]{8}|(?:tmp|temp|T)[\\/][^\\/]*[a-z0-9_]{8})"
    r"\.(?:c|cc|cpp|cxx|m|mm)$",
)


def root_files(package_dir: Path) -> frozenset[str]:
    """The names of the files at a package's root, kept while it exists (an sdist's
    extracted directory is gone by the time the report is written)."""
    try:
        return frozenset(p.name for p in package_dir.iterdir() if p.is_file())
    except OSError:
        return frozenset()


def is_probe(source: str, root: Collection[str] | None = None) -> bool:
    """Whether a logged compilation is a build system's probe, by where it was compiled.

    A bare name is relative to the directory it was compiled in. The project's own files
    compiled at its root (setuptools compiles there) are the project's: a bare name that
    names a file at the project's root is one of its units, whatever it is called. Any other
    bare CMake probe name was compiled in a scratch directory."""
    where = "/" + source  # a marker may start the logged path, relative to the build dir
    if any(marker in where for marker in _PROBE_MARKERS):
        return True
    if source in _PROBE_NAMES or _SETUP_PROBE.match(source):
        return root is None or source not in root
    return False


# ccache's counters for calls that are no compile: a link, or a preprocess only (-E). ccache
# passes them to the compiler by design; nothing is wrong with them, and nothing to cache.
NOT_COMPILES = ("called_for_link", "called_for_preprocessing")


@dataclasses.dataclass
class BuildStats:
    direct_hits: int = 0
    preprocessed_hits: int = 0
    misses: int = 0
    remote_hits: int = 0
    probes: int = 0
    probe_hits: int = 0
    # Compiles whose remote storage failed (an error or a timeout: a wrong URL or
    # credentials, a server down). ccache carries on with the local cache, silently.
    remote_errors: int = 0
    uncacheable: dict[str, int] = dataclasses.field(default_factory=dict)
    missed_files: list[str] = dataclasses.field(default_factory=list)

    @property
    def hits(self) -> int:
        return self.direct_hits + self.preprocessed_hits

    @property
    def local_hits(self) -> int:
        """Hits served from the local cache directory, not the remote storage."""
        return self.hits - self.remote_hits

    @property
    def cacheable(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.cacheable if self.cacheable else None

    @property
    def direct_rate(self) -> float | None:
        return self.direct_hits / self.hits if self.hits else None

    @property
    def uncacheable_reasons(self) -> dict[str, int]:
        """The calls ccache could not cache that were compiles (see NOT_COMPILES)."""
        return {r: n for r, n in self.uncacheable.items() if r not in NOT_COMPILES}

    @property
    def uncacheable_total(self) -> int:
        return sum(self.uncacheable_reasons.values())

    @property
    def not_compiles(self) -> dict[str, int]:
        return {r: n for r, n in self.uncacheable.items() if r in NOT_COMPILES}

    @property
    def calls_past_cache(self) -> int:
        """Every call that reached ccache and was not cached, compile or not."""
        return sum(self.uncacheable.values())

    def add(self, other: BuildStats) -> None:
        for field in ("direct_hits", "preprocessed_hits", "misses", "remote_hits"):
            setattr(self, field, getattr(self, field) + getattr(other, field))
        self.probes += other.probes
        self.probe_hits += other.probe_hits
        self.remote_errors += other.remote_errors
        merged = Counter(self.uncacheable)
        merged.update(other.uncacheable)
        self.uncacheable = dict(merged)
        self.missed_files += other.missed_files


def _record(
    stats: BuildStats, source: str, counters: list[str], root: Collection[str] | None
) -> None:
    if not counters and not source:
        return
    outcome = set(counters)
    if outcome & {"remote_storage_error", "remote_storage_timeout"}:
        stats.remote_errors += 1
    hit = "direct_cache_hit" in outcome or "preprocessed_cache_hit" in outcome
    if is_probe(source, root) and (hit or "cache_miss" in outcome):
        stats.probes += 1
        stats.probe_hits += hit
        return
    if "direct_cache_hit" in outcome:
        stats.direct_hits += 1
    elif "preprocessed_cache_hit" in outcome:
        stats.preprocessed_hits += 1
    elif "cache_miss" in outcome:
        stats.misses += 1
        stats.missed_files.append(source)
    else:
        reasons = [
            c
            for c in counters
            if c not in _NOT_OUTCOMES and not c.startswith(_NOT_OUTCOMES_PREFIXES)
        ]
        reason = reasons[0] if reasons else "other"
        stats.uncacheable[reason] = stats.uncacheable.get(reason, 0) + 1
    if hit and "remote_storage_hit" in outcome:
        stats.remote_hits += 1


def parse(text: str, root: Collection[str] | None = None) -> BuildStats:
    """`root`: the names of the files at the package's root (see root_files)."""
    stats = BuildStats()
    source = ""
    counters: list[str] = []
    started = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            if started:
                _record(stats, source, counters, root)
            source, counters, started = line[1:].strip(), [], True
        elif line:
            counters.append(line)
    if started:
        _record(stats, source, counters, root)
    return stats


def read(path: Path, root: Collection[str] | None = None) -> BuildStats:
    """A missing log is a build that compiled nothing; other errors are the caller's."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return BuildStats()
    return parse(text, root)
