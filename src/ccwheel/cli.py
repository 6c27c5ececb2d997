"""ccwheel's command line: `ccwheel build [ccwheel options] [cibuildwheel arguments]`.

`main(argv)` takes a list and returns the exit code, so tests call it in-process. Errors are
exceptions with their own message and exit code, turned into one red line here and only
here. stdout carries the report; stderr carries diagnostics.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from ccwheel import __version__, cache, cibw, config, container, explain, remote, report, stats
from ccwheel.errors import (
    CcwheelError,
    ConfigError,
    ContainerEngineMissingError,
    HitRateTooLowError,
)

OWN_OPTIONS = (
    "--cache-dir",
    "--no-cache",
    "--max-size",
    "--report",
    "--min-hit-rate",
    "--selinux-relabel",
    "--stable-build-env",
    "--remote-storage",
    "--remote-read-only",
    "--explain",
)
# cibuildwheel's own flags that look like ccwheel's: never "corrected" into ours.
_CIBW_LOOKALIKES = ("--clean-cache", "--config-file", "--output-dir", "--only", "--archs")


def _colour(text: str, code: str) -> str:
    use = sys.stderr.isatty() or bool(os.environ.get("FORCE_COLOR"))
    return f"\033[{code}m{text}\033[0m" if use and not os.environ.get("NO_COLOR") else text


def warn(message: str) -> None:
    print(_colour(f"ccwheel: warning: {message}", "33"), file=sys.stderr)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccwheel",
        description="Build wheels with cibuildwheel, with ccache that hits in Linux containers.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"ccwheel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    build = sub.add_parser(
        "build",
        help="run cibuildwheel with ccache (same arguments as cibuildwheel)",
        description=(
            "Run cibuildwheel with the given arguments, with ccache set up in every Linux "
            "container build. Arguments not listed here go to cibuildwheel unchanged; "
            "`ccwheel build --help-cibuildwheel` shows them."
        ),
        allow_abbrev=False,
    )
    build.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="host cache directory (default: the user cache dir; CCWHEEL_CACHE_DIR)",
    )
    build.add_argument(
        "--no-cache",
        dest="cache",
        action="store_const",
        const=False,
        default=None,
        help="run plain cibuildwheel, no ccache",
    )
    build.add_argument("--max-size", metavar="SIZE", help="ccache size cap (default 5G)")
    build.add_argument("--report", metavar="PATH", help="also write the report as JSON")
    build.add_argument(
        "--min-hit-rate",
        metavar="X",
        help="fail with exit code 20 when a warm build's hit rate is below X (0.95 or 95%%)",
    )
    build.add_argument(
        "--selinux-relabel",
        action="store_const",
        const=True,
        default=None,
        help="mount the cache with :z (SELinux hosts)",
    )
    build.add_argument(
        "--stable-build-env", metavar="MODE", help="auto (default), env-dir, no-isolation or off"
    )
    build.add_argument(
        "--remote-storage",
        metavar="URL",
        help="ccache remote storage shared by machines, e.g. redis://host:6379 (prefer "
        "CCWHEEL_REMOTE_STORAGE from a CI secret when the URL has credentials)",
    )
    build.add_argument(
        "--remote-read-only",
        action="store_const",
        const=True,
        default=None,
        help="read the remote storage, never write it (e.g. pull-request jobs)",
    )
    build.add_argument(
        "--explain",
        action="store_const",
        const=True,
        default=None,
        help="keep ccache's debug inputs and say why each missed unit missed (against the "
        "previous --explain run of the same build)",
    )
    build.add_argument(
        "--help-cibuildwheel", action="store_true", help="show cibuildwheel's own arguments"
    )
    cache_cmd = sub.add_parser(
        "cache", help="show or empty the host cache directory", allow_abbrev=False
    )
    cache_cmd.add_argument(
        "action",
        choices=("dir", "info", "clean"),
        help="dir: print its path; info: size, entries and the last run's numbers; "
        "clean: empty it (only a ccwheel cache)",
    )
    cache_cmd.add_argument("--cache-dir", metavar="DIR", help="as for `ccwheel build`")
    return parser


def _check_unknown(passthrough: Sequence[str]) -> None:
    """A near-miss of a ccwheel option is a typo, not a cibuildwheel argument."""
    for arg in passthrough:
        if not arg.startswith("--"):
            continue
        name = arg.split("=", 1)[0]
        if name in _CIBW_LOOKALIKES:
            continue
        close = difflib.get_close_matches(name, OWN_OPTIONS, n=1, cutoff=0.8)
        if close:
            msg = f"unknown option {name!r} (perhaps you meant {close[0]!r}?)"
            raise ConfigError(msg)


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


def _composer(settings: config.Settings, run: cache.Run, own_max_size: set[str]) -> cibw.Composer:
    """`own_max_size` collects the builds whose user set CCACHE_MAXSIZE themselves."""
    checked_engines: dict[str, bool] = {}
    backends: dict[Path, container.Backend] = {}

    def compose(view: container.BuildView) -> container.Injection:
        # Before any container starts: cibuildwheel would only find out per build step.
        if view.engine not in checked_engines:
            checked_engines[view.engine] = shutil.which(view.engine) is not None
        if not checked_engines[view.engine]:
            raise ContainerEngineMissingError(view.engine)
        if "CCACHE_MAXSIZE" in view.env_names:
            own_max_size.add(view.identifier)
        if view.package_dir not in backends:
            backends[view.package_dir] = container.read_backend(view.package_dir)
        return container.plan(
            view,
            host_cache_dir=settings.cache_dir.resolve(),
            run_dir_name=run.name,
            max_size=settings.max_size,
            selinux_relabel=settings.selinux_relabel,
            stable_build_env=settings.stable_build_env,
            backend=backends[view.package_dir],
            remote=settings.remote_storage,
            explain=settings.explain,
        )

    return compose


def _collect(
    settings: config.Settings,
    run: cache.Run,
    builds: _Builds,
    code: int,
    warm_before: dict[str, bool],
) -> report.Report:
    records = []
    for identifier in builds.order:
        if "linux" not in identifier:
            continue
        build_stats = stats.read(run.stats_log(identifier))
        records.append(
            report.BuildRecord(
                identifier=identifier,
                stats=build_stats,
                seconds=builds.seconds.get(identifier),
                warm=warm_before.get(identifier, False),
                finished=identifier in builds.seconds,
                warning=run.status(identifier),
                ccache=run.info(identifier),
                explanations=_explain(settings, run, identifier, build_stats),
            )
        )
    size, _entries = cache.usage(settings.cache_dir)
    return report.Report(settings.cache_dir, records, size, code, _remote_label(settings))


def _explain(
    settings: config.Settings, run: cache.Run, identifier: str, build_stats: stats.BuildStats
) -> list[explain.Explanation]:
    current = run.debug_dir(identifier)
    if not settings.explain or not build_stats.missed_files or not current.is_dir():
        return []
    earlier = [
        r.debug_dir(identifier)
        for r in cache.runs(settings.cache_dir)
        if r.name < run.name and r.debug_dir(identifier).is_dir()
    ]
    return explain.explain(current, earlier, build_stats.missed_files)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every context manager on the way out runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _remote_label(settings: config.Settings) -> str | None:
    if not settings.remote_storage:
        return None
    label = remote.redact(settings.remote_storage)
    return label + (" (read-only)" if settings.remote_read_only else "")


def _write_remote_file(settings: config.Settings, run: cache.Run) -> Path | None:
    """The remote storage URL for the containers to read (see remote.py); owner-only."""
    if not settings.remote_storage:
        return None
    value = settings.remote_storage
    if settings.remote_read_only:
        value = remote.with_read_only(value)
    path = run.dir / container.REMOTE_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return path


def _publish(rep: report.Report, settings: config.Settings) -> None:
    print(report.render_text(rep))
    if settings.report:
        report.write_json(rep, settings.report)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            report.append_step_summary(rep, Path(summary))
        except OSError as e:
            warn(f"cannot append to GITHUB_STEP_SUMMARY: {e}")


def _check_hit_rate(rep: report.Report, minimum: float | None) -> None:
    if minimum is None:
        return
    low = [
        f"{b.identifier} {100 * b.stats.hit_rate:.1f}%"
        for b in rep.builds
        if b.warm and b.finished and b.stats.hit_rate is not None and b.stats.hit_rate < minimum
    ]
    if low:
        msg = f"hit rate below --min-hit-rate {100 * minimum:.1f}% on warm builds: {', '.join(low)}"
        raise HitRateTooLowError(msg)


def _github_output(cache_dir: Path) -> None:
    """In GitHub Actions, the cache directory as a step output (for actions/cache)."""
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        try:
            with Path(path).open("a", encoding="utf-8") as f:
                f.write(f"cache-dir={cache_dir}\n")
        except OSError as e:
            warn(f"cannot write GITHUB_OUTPUT: {e}")


def cache_command(args: argparse.Namespace) -> int:
    settings = config.load({"cache_dir": args.cache_dir}, config.config_file_for(Path(), ""))
    cache_dir = settings.cache_dir.resolve()
    if args.action == "dir":
        print(cache_dir)
        _github_output(cache_dir)
        return 0
    if args.action == "clean":
        try:
            removed = cache.clean(cache_dir)
        except cache.CacheUnusable as e:
            raise ConfigError(str(e)) from None
        print(f"emptied {cache_dir} ({removed} entries removed)")
        return 0
    print(f"cache dir: {cache_dir}")
    if not cache.is_ours(cache_dir):
        print("  (not created yet)")
        return 0
    size, entries = cache.usage(cache_dir)
    print(f"size:      {report.human_size(size)} (cap {settings.max_size})")
    print(f"entries:   {entries}")
    run = cache.last_run(cache_dir)
    if run is not None:
        print(f"last run:  {run.name}")
        for log in sorted(run.dir.glob("*.stats")):
            s = stats.read(log)
            print(
                f"  {log.stem}: {s.cacheable} compiles, {s.hits} hits "
                f"({s.direct_hits} direct), {s.misses} misses, "
                f"hit rate {report.percent(s.hit_rate)}"
            )
    return 0


def build(args: argparse.Namespace, passthrough: list[str]) -> int:
    _check_unknown(passthrough)
    package_dir, config_file = cibw.split_package_args(passthrough)
    file_path = config.config_file_for(package_dir, config_file)
    flags = {
        "cache_dir": args.cache_dir,
        "cache": args.cache,
        "max_size": args.max_size,
        "report": args.report,
        "min_hit_rate": args.min_hit_rate,
        "selinux_relabel": args.selinux_relabel,
        "stable_build_env": args.stable_build_env,
        "remote_storage": args.remote_storage,
        "remote_read_only": args.remote_read_only,
        "explain": args.explain,
    }
    settings = config.load(flags, file_path)
    cibw.check_supported()
    if not settings.cache:
        return cibw.run(passthrough)
    try:
        run = cache.prepare(settings.cache_dir)
    except cache.CacheUnusable as e:
        warn(f"{e} - building without the cache")
        return cibw.run(passthrough)

    _github_output(settings.cache_dir.resolve())
    warm_before: dict[str, bool] = {}
    builds = _Builds()

    def on_start(identifier: str) -> None:
        warm_before[identifier] = cache.warm_marker(settings.cache_dir, identifier).exists()
        builds.start(identifier)

    remote_file = _write_remote_file(settings, run)
    own_max_size: set[str] = set()
    interrupted = False
    try:
        with _terminate_as_interrupt():
            composer = _composer(settings, run, own_max_size)
            code = cibw.run(passthrough, composer, on_start, builds.end)
    except KeyboardInterrupt as e:
        # cibuildwheel's containers were removed on the way out (its context managers ran);
        # what was compiled so far is still reported, marked as incomplete.
        interrupted = True
        code = 128 + (e.signum if isinstance(e, Terminated) else signal.SIGINT)
    finally:
        # The URL may carry credentials, and the cache directory may be uploaded whole.
        if remote_file is not None:
            remote_file.unlink(missing_ok=True)
    # A CCACHE_MAXSIZE of the user's own wins over ccwheel's cap, here as in the container;
    # and a run in which no build could use ccache wrote nothing to trim.
    used = any(run.info(identifier) for identifier in builds.order)
    if used and not own_max_size:
        try:
            cache.trim(settings.cache_dir, settings.max_size)
        except cache.CacheUnusable as e:
            warn(str(e))
    rep = _collect(settings, run, builds, code, warm_before)
    rep.interrupted = interrupted
    for b in rep.builds:
        if b.finished and not b.warning:
            marker = cache.warm_marker(settings.cache_dir, b.identifier)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
    if rep.builds:
        _publish(rep, settings)
    if code == 0:
        _check_hit_rate(rep, settings.min_hit_rate)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    try:
        args, passthrough = parser.parse_known_args(argv)
        if args.command == "build":
            if args.help_cibuildwheel:
                return cibw.run(["--help"])
            return build(args, passthrough)
        if passthrough:
            parser.error(f"unrecognized arguments: {' '.join(passthrough)}")
        if args.command == "cache":
            return cache_command(args)
        parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    except CcwheelError as e:
        print(_colour(f"ccwheel: error: {e}", "31"), file=sys.stderr)
        return e.exit_code
    return 0  # pragma: no cover


def entry() -> None:
    sys.exit(main())
