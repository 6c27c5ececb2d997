"""One `ccwheel build` run, from its settings to its report and exit code.

The order matters and is all here: check what can be checked before any container starts
(exit 2), prepare the cache directory, run cibuildwheel with ccwheel's hooks, then trim,
report and check the hit rate. Once cibuildwheel has run, nothing ccwheel does afterwards
may change its exit code except `--min-hit-rate`: a failed write is one warning.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Sequence

from ccwheel import (
    cache,
    cibw,
    config,
    console,
    explain,
    jobs,
    platforms,
    process,
    remote,
    report,
    stats,
    verdict,
)
from ccwheel.console import note, warn
from ccwheel.platforms import host
from ccwheel.platforms import linux as container

# The variable through which the remote storage URL reaches the containers: the engine's
# `--env NAME` copies it from ccwheel's own environment (see container.plan).
REMOTE_ENV = container.REMOTE_ENV


class _Builds:
    """Which builds cibuildwheel started and finished, and how long each took."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.current: str | None = None

    def start(self, identifier: str) -> None:
        self.order.append(identifier)
        self.started[identifier] = time.monotonic()
        self.current = identifier

    def end(self) -> None:
        if self.current is not None:
            self.seconds[self.current] = time.monotonic() - self.started[self.current]
            self.current = None


class _Lifecycle:
    """The state of one run with the cache, shared by cibuildwheel's hooks."""

    def __init__(
        self,
        settings: config.Settings,
        tools: Path,
        selinux_relabel: bool,
        unusable: str | None = None,
    ) -> None:
        self.settings = settings
        self.tools = tools
        self.selinux_relabel = selinux_relabel
        # Why the cache directory cannot be used at all, if it cannot: every build then
        # runs as plain cibuildwheel's, and nothing is written into that directory.
        self.unusable = unusable
        self.run_name = cache.new_run_name()
        # The names of the files at the root of the package cibuildwheel builds, taken
        # while it exists (an sdist's extracted directory is gone before the report).
        self.root_files: frozenset[str] | None = None
        self.run: cache.Run | None = None
        self.run_failed = unusable is not None
        # The builds that ran their frontend.
        self.frontend_ran: set[str] = set()
        self.builds = _Builds()
        self.warm_before: dict[str, bool] = {}
        # What the last cold build of a warm build's identifier took, where it was recorded.
        self.cold_seconds: dict[str, float | None] = {}
        # Builds whose user set CCACHE_MAXSIZE themselves: then no trim.
        self.own_max_size: set[str] = set()
        self._backends: dict[Path, platforms.Backend] = {}
        # Builds ccwheel does not cache, and why (a platform it does not cache yet, or a
        # host build that cannot use the cache): said once each, and in the report.
        self.uncached: dict[str, str] = {}
        # A note for a build's line in the report (a host build's CMake generator).
        self.notes: dict[str, str] = {}
        # The kind of each build ccwheel composed, by identifier (told when it starts).
        self._kind_of: dict[str, platforms.Kind] = {}
        # One of each kind of build (platforms.PLATFORMS names them).
        self.containers = container.ContainerBuilds.for_run(
            settings, self.run_name, selinux_relabel, tools
        )
        self.hosts = host.HostBuilds.for_run(
            settings, unusable, REMOTE_ENV if settings.remote_storage else ""
        )
        self.kinds: dict[str, platforms.Kind] = {"linux": self.containers, "host": self.hosts}
        # This run is one group of a `--jobs` run, or None.
        self.member = jobs.member()

    def hooks(self) -> cibw.Hooks:
        return cibw.Hooks(
            compose=self.compose,
            build_start=self.build_start,
            after_build=self.containers.after_build,
            build_end=self.build_end,
            build_logged=self.build_logged,
            container_start=self.container_start,
            copy_failed=self.containers.copy_failed,
            plain=lambda: self.containers.plain,
            frontend_ran=self._frontend_ran,
            run_directory=self.run_directory,
        )

    def run_directory(self, platform: str) -> Path | None:
        """cibuildwheel's run directory at a fixed path for the host builds (see
        HostBuilds.run_directory); cibuildwheel's own elsewhere."""
        if self.unusable or platforms.PLATFORMS.get(platform) != "host":
            return None
        return self.hosts.run_directory()

    def _frontend_ran(self) -> None:
        if self.builds.current is not None:
            self.frontend_ran.add(self.builds.current)

    def compose(self, view: platforms.BuildView) -> platforms.Injection | None:
        if view.identifier in self.uncached:
            return None
        reason = platforms.not_cached(view.platform)
        if reason is not None:
            # No silent no-op: said once per build, and in the report.
            self.uncached[view.identifier] = reason
            note(f"{view.identifier}: not cached: {reason}")
            return None
        if self.unusable:
            self.uncached[view.identifier] = self.unusable  # said once, at the start
            return None
        if "CCACHE_MAXSIZE" in view.env_names:
            self.own_max_size.add(view.identifier)
        if view.package_dir not in self._backends:
            self.root_files = stats.root_files(view.package_dir)
            self._backends[view.package_dir] = platforms.read_backend(view.package_dir)
        kind = self.kinds[str(platforms.PLATFORMS[view.platform])]
        self._kind_of[view.identifier] = kind
        backend = self._backends[view.package_dir]
        if kind.needs_run_dir:
            self._open_run()
        try:
            injection = kind.compose(view, backend, self.run.dir if self.run else None)
        except platforms.Unavailable as e:
            self.uncached[view.identifier] = str(e)
            warn(f"{view.identifier}: {e} - building without the cache")
            return None
        if injection is not None and self.member and self.member.parallel:
            injection = _share_cores(injection, view, self.member.parallel)
        line = kind.note(view, backend)
        if line:
            self.notes[view.identifier] = line
            note(f"{view.identifier}: {line}")
        return injection

    def container_start(self) -> tuple[Path, PurePosixPath] | None:
        """The run's directory is made when the first container starts, not before: runs
        that build nothing (--print-build-identifiers) leave none behind. So is the ccache
        for the kernel the containers run on (a download, where it has to be fetched)."""
        self._open_run()
        return self.containers.container_start(self.run is not None)

    def _open_run(self) -> None:
        if self.run is None and not self.run_failed:
            try:
                # A group keeps as many earlier runs as its run has groups.
                keep = cache.KEEP_RUNS * (self.member.groups if self.member else 1)
                self.run = cache.open_run(self.settings.cache_dir, self.run_name, keep)
            except cache.CacheUnusable as e:
                self.run_failed = True
                warn(f"{e} - building without the cache")

    def build_start(self, identifier: str) -> None:
        if self.member is not None:
            self.member.started(identifier)
        marker = cache.warm_marker(self.settings.cache_dir, identifier)
        self.warm_before[identifier] = not self.unusable and marker.exists()
        if self.warm_before[identifier]:
            self.cold_seconds[identifier] = cache.cold_seconds(marker)
        self.builds.start(identifier)
        self.containers.container_build_started(identifier)
        if identifier in self._kind_of:
            self._kind_of[identifier].build_started(identifier)

    def build_end(self, read: cibw.ReadBack | None) -> None:
        identifier = self.builds.current
        self.builds.end()
        if identifier is not None and read is not None and self.run is not None:
            self.containers.read_back(identifier, read, self.run)

    def build_logged(self) -> None:
        if self.member is not None and self.builds.order:
            self.member.ended(self.builds.order[-1])

    def close(self) -> None:
        for kind in self.kinds.values():
            kind.close()
        if self.run is not None:
            self.run.close()


def _share_cores(
    injection: platforms.Injection, view: platforms.BuildView, parallel: int
) -> platforms.Injection:
    """A group's share of the cores for its backend's compiles, where the user did not set
    it (scikit-build-core and CMake's `--build` otherwise take every core, in every group)."""
    if jobs.PARALLEL_VARIABLE in view.env_names:
        return injection
    extra = ((jobs.PARALLEL_VARIABLE, str(parallel)),)
    return dataclasses.replace(injection, environment=(*injection.environment, *extra))


def _facts(life: _Lifecycle, run: cache.Run | None, identifier: str) -> verdict.Facts:
    """What happened to one build: from the hooks, and the files it left in the run's
    directory (read here, once)."""
    base = verdict.Facts(
        identifier=identifier,
        finished=identifier in life.builds.seconds,
        seconds=life.builds.seconds.get(identifier),
        frontend_ran=identifier in life.frontend_ran,
        warm=life.warm_before.get(identifier, False),
        cold_seconds=life.cold_seconds.get(identifier),
        note=life.notes.get(identifier),
    )
    if identifier in life.uncached:
        return dataclasses.replace(base, uncached=life.uncached[identifier])
    if run is None:
        return dataclasses.replace(base, no_run_dir=True)
    stats_error = None
    try:
        build_stats = stats.read(run.stats_log(identifier), life.root_files)
    except OSError as e:
        build_stats, stats_error = stats.BuildStats(), str(e.strerror or e)
    return dataclasses.replace(
        base,
        copy_failure=life.containers.copy_failed_builds.get(identifier),
        status=run.status(identifier),
        info=run.info(identifier),
        stats=build_stats,
        stats_error=stats_error,
        explanations=_explain(life.settings, run, identifier, build_stats),
    )


def _collect(
    settings: config.Settings, unusable: str | None, facts: list[verdict.Facts], code: int
) -> report.Report:
    records = [verdict.record(f, settings.cache_dir) for f in facts]
    # Not a walk through a directory that is not the cache (another tool's, say).
    size = 0 if unusable else cache.usage(settings.cache_dir)[0]
    rep = report.Report(
        settings.cache_dir,
        records,
        size,
        code,
        remote.label(settings.remote_storage, settings.remote_read_only),
    )
    rep.unusable = unusable
    return rep


def _explain(
    settings: config.Settings,
    run: cache.Run | None,
    identifier: str,
    build_stats: stats.BuildStats,
) -> list[explain.Explanation]:
    if run is None or not settings.explain or not build_stats.missed_files:
        return []
    current = run.debug_dir(identifier)
    if not current.is_dir():
        return []
    earlier = [
        r.debug_dir(identifier)
        for r in cache.runs(settings.cache_dir)
        if r.name < run.name and r.debug_dir(identifier).is_dir()
    ]
    try:
        return explain.explain(current, earlier, build_stats.missed_files)
    except OSError as e:
        warn(f"--explain: cannot read ccache's debug files of {identifier}: {e.strerror or e}")
        return []


def _mark_warm(rep: report.Report, cache_dir: Path) -> None:
    """The warm markers verdict.warm_marks names, written; and what each finished build
    took (what `--jobs` splits by)."""
    for identifier, cold in verdict.warm_marks(rep):
        try:
            cache.mark_warm(cache.warm_marker(cache_dir, identifier), cold)
        except OSError as e:
            warn(f"cannot mark {identifier} as warm in {cache_dir}: {e.strerror or e}")
    for b in rep.builds:
        if b.finished and b.cached and b.seconds is not None:
            try:
                cache.record_seconds(cache_dir, b.identifier, b.seconds)
            except OSError as e:
                warn(f"cannot record the time of {b.identifier} in {cache_dir}: {e.strerror or e}")


def _say_what_read_only_protects(settings: config.Settings) -> None:
    if settings.remote_storage and settings.remote_read_only:
        note(
            "--remote-read-only: ccache will not write the remote storage, but the URL is in "
            "every build process's environment, where the build could write with it; give "
            "untrusted jobs a credential that can only read"
        )


def build(
    settings: config.Settings, argv: Sequence[str], flags: dict[str, object] | None = None
) -> int:
    """`ccwheel build`: cibuildwheel with `argv`, with the cache as `settings` say (from
    the command line's `flags` among others, which `--jobs` hands on to its groups)."""
    cibw.check_supported()
    # Read into `settings` already: the URL (and its credentials) leaves the environment
    # under the name users give it, which cibuildwheel's environment-pass options could
    # print. For the run it is under ccwheel's private name only (_remote_in_environment):
    # the containers get it through the engine, the host builds inherit it (ccache in
    # them needs it). Put back afterwards: `main()` may be called again in the same process.
    with process.without_env(config.env_name("remote_storage")):
        return _build(settings, argv, flags or {})


def _plain(settings: config.Settings, argv: Sequence[str]) -> int:
    note("--no-cache: running plain cibuildwheel, without ccache")
    if settings.jobs != 1:
        note("--no-cache: --jobs does not apply, the builds run one at a time")
    code = cibw.run(argv)
    # stderr: stdout is cibuildwheel's alone here (a --print-build-identifiers list).
    print(report.verdict(None, code, "--no-cache"), file=sys.stderr)
    return code


def _build(settings: config.Settings, argv: Sequence[str], flags: dict[str, object]) -> int:
    if not settings.cache:
        return _plain(settings, argv)
    if settings.report:
        config.check_writable(settings.report, "--report")
    member = jobs.member()
    # Before anything is made: a --jobs that cannot apply here is refused now.
    on_command_line = flags.get("jobs") is not None
    the_plan = jobs.plan(settings, argv, on_command_line) if member is None else None
    # A cache directory ccwheel cannot use: the builds go on as plain cibuildwheel's, and
    # are still reported (--report is still written, --min-hit-rate does not pass unseen).
    # Without it nothing is cached, remote storage included: its URL stays out of the
    # builds' environment, as with plain cibuildwheel.
    unusable: str | None = None
    selinux_relabel = False
    try:
        for line in cache.prepare(settings.cache_dir):
            note(line)
    except cache.CacheUnusable as e:
        unusable = str(e)
        remote_too = " (nor the remote storage)" if settings.remote_storage else ""
        warn(f"{e} - building without the cache{remote_too}")
        settings = dataclasses.replace(settings, remote_storage="")
    else:
        if member is None:  # the run that started the groups says these
            console.github_output(settings.cache_dir.resolve())
            _say_what_read_only_protects(settings)
        selinux_relabel = container.selinux_relabel(settings.selinux_relabel)
        if the_plan is not None:
            together = jobs.run_groups(the_plan, jobs.group_env(settings, flags), argv)
            return conclude(settings, None, together)
    if the_plan is not None:
        note("--jobs: without the cache, the builds run one at a time")
    return _run_one(settings, argv, selinux_relabel, unusable)


def _run_one(
    settings: config.Settings, argv: Sequence[str], selinux_relabel: bool, unusable: str | None
) -> int:
    """One cibuildwheel run with ccwheel's hooks: all the builds, or one group's."""
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="ccwheel-tools-") as tools:
        container.stage_tools(Path(tools))
        life = _Lifecycle(settings, Path(tools), selinux_relabel, unusable)
        try:
            try:
                remote_env = process.remote_in_environment(
                    settings.remote_storage, settings.remote_read_only, REMOTE_ENV
                )
                with process.terminate_as_interrupt(), remote_env:
                    code = cibw.run(argv, life.hooks())
            except KeyboardInterrupt as e:
                # cibuildwheel's containers were removed on the way out (its context
                # managers ran); what was compiled so far is still reported, as incomplete.
                interrupted = True
                code = 128 + (e.signum if isinstance(e, process.Terminated) else signal.SIGINT)
            return _finish(life, code, interrupted)
        finally:
            # Only now may another run prune this one: its files are read above.
            life.close()


def _finish(life: _Lifecycle, code: int, interrupted: bool) -> int:
    settings, run = life.settings, life.run
    facts = [_facts(life, run, identifier) for identifier in life.builds.order]
    if run is not None:
        own = run.dir / container.RUN_DOWNLOADS
        cache.publish_downloads(settings.cache_dir, own, container.BUILT_BY_INSTALLERS)
    together = jobs.HandOver(facts, code, interrupted, bool(life.own_max_size))
    if life.member is not None:  # the run that started the groups concludes
        life.member.hand_over(together)
        return code
    return conclude(settings, life.unusable, together, life.run_name)


def conclude(
    settings: config.Settings,
    unusable: str | None,
    done: jobs.HandOver,
    own_run: str = "",
) -> int:
    """The run's end from what its builds did (one run's, or every group's): the cache
    trimmed, the report, the verdict and --min-hit-rate. Nothing here changes cibuildwheel's
    exit code except --min-hit-rate."""
    facts, code = done.facts, done.code
    # A CCACHE_MAXSIZE of the user's own wins over ccwheel's cap, here as in the container;
    # and a run in which no build could use ccache wrote nothing to trim.
    used = any(f.info for f in facts)
    if used and not done.own_max_size:
        try:
            cache.trim(settings.cache_dir, settings.max_size)
        except cache.CacheUnusable as e:
            warn(str(e))
    # Not while another run's builds may be using the downloads (a uv cache that vanishes
    # under a build can fail it): the last run to end trims them.
    if used and not cache.others_live(settings.cache_dir, own_run):
        stale = container.BUILT_BY_INSTALLERS
        problem = cache.trim_downloads(settings.cache_dir, settings.max_size, stale)
        if problem:
            warn(problem)
    rep = _collect(settings, unusable, facts, code)
    rep.interrupted = done.interrupted
    if not unusable:
        _mark_warm(rep, settings.cache_dir)
    if rep.builds:
        report.publish(rep, settings.report)
    # Always, also when cibuildwheel failed or was stopped: the report's last line on
    # stdout; on stderr when no build ran, where stdout is cibuildwheel's alone (a
    # --print-build-identifiers list a script reads). A failed --min-hit-rate follows it.
    sys.stdout.flush()
    print(report.verdict(rep, code), file=sys.stdout if rep.builds else sys.stderr, flush=True)
    if code == 0:
        verdict.check_hit_rate(rep, settings.min_hit_rate)
    return code
