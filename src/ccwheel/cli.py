"""ccwheel's command line: `ccwheel build [ccwheel options] [cibuildwheel arguments]`,
`ccwheel cache dir|info|clean` and `ccwheel ci keys|outputs` (for the GitHub Action).

The command line only: the options come from their declarations in config.py, the run from
run.py. `main(argv)` takes a list and returns the exit code, so tests call it in-process.
Errors are exceptions with their own message and exit code, turned into one red line here
and only here. stdout carries the report; stderr carries diagnostics.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Sequence

from ccwheel import __version__, cache, ci, cibw, config, console, report, run, stats
from ccwheel.console import error
from ccwheel.errors import CcwheelError, ConfigError

# cibuildwheel's own flags that look like ccwheel's: never "corrected" into ours.
_CIBW_LOOKALIKES = ("--clean-cache", "--config-file", "--output-dir", "--only", "--archs")


def own_options() -> tuple[str, ...]:
    return tuple(config.flag(name) for name in config.options())


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
    config.add_arguments(build)
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
    ci_cmd = sub.add_parser(
        "ci",
        help="step outputs for ccwheel's GitHub Action",
        description=(
            "keys: the cache directory and the actions/cache keys for this job (from the "
            "GitHub Actions environment); outputs: a report's figures, and whether the cache "
            "is worth saving. Both print name=value lines and append them to GITHUB_OUTPUT."
        ),
        allow_abbrev=False,
    )
    ci_cmd.add_argument("action", choices=("keys", "outputs"))
    ci_cmd.add_argument("--cache-dir", metavar="DIR", help="as for `ccwheel build`")
    ci_cmd.add_argument("--report", metavar="PATH", help="outputs: the report of `ccwheel build`")
    ci_cmd.add_argument(
        "--restored-key",
        default="",
        metavar="KEY",
        help="outputs: the key actions/cache restored (empty: none)",
    )
    ci_cmd.add_argument(
        "--own-prefix", default="", metavar="PREFIX", help="outputs: this job's restore prefix"
    )
    return parser


def _check_unknown(passthrough: Sequence[str]) -> None:
    """A near-miss of a ccwheel option is a typo, not a cibuildwheel argument."""
    for arg in passthrough:
        if not arg.startswith("--"):
            continue
        name = arg.split("=", 1)[0]
        if name in _CIBW_LOOKALIKES:
            continue
        close = difflib.get_close_matches(name, own_options(), n=1, cutoff=0.8)
        if close:
            msg = f"unknown option {name!r} (perhaps you meant {close[0]!r}?)"
            raise ConfigError(msg)


def cache_command(args: argparse.Namespace) -> int:
    settings = config.load({"cache_dir": args.cache_dir}, Path())
    cache_dir = settings.cache_dir.resolve()
    if args.action != "dir":
        cache.check_is_directory(cache_dir)
    if args.action == "dir":
        print(cache_dir)
        console.github_output(cache_dir)
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
    last = cache.last_run(cache_dir)
    if last is not None:
        print(f"last run:  {last.name}")
        for log in sorted(last.dir.glob("*.stats")):
            s = stats.read(log)
            print(
                f"  {log.stem}: {s.cacheable} compiles, {s.hits} hits "
                f"({s.direct_hits} direct), {s.misses} misses, "
                f"hit rate {report.percent(s.hit_rate)}"
            )
    return 0


def ci_command(args: argparse.Namespace) -> int:
    import os

    if args.action == "keys":
        # The settings the build step will have: [tool.ccwheel] beside the package's options.
        package = Path(os.environ.get("INPUT_PACKAGE_DIR") or ".")
        config_file = os.environ.get("INPUT_CONFIG_FILE", "")
        settings = config.load({"cache_dir": args.cache_dir}, package, config_file)
        found = ci.keys(os.environ, toolchain=f"cibw{cibw.version()}")
        values: dict[str, str | tuple[str, ...]] = {
            "cache-dir": str(settings.cache_dir.resolve()),
            "key": found.key,
            "own-prefix": found.restore_keys[0],
            "restore-keys": found.restore_keys,
        }
    else:
        if not args.report:
            msg = "ccwheel ci outputs needs --report PATH"
            raise ConfigError(msg)
        found_figures = ci.read_figures(Path(args.report))
        values = ci.outputs_of(found_figures, args.restored_key, args.own_prefix)
    try:
        ci.write_outputs(values)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return 0


def build_command(args: argparse.Namespace, passthrough: list[str]) -> int:
    _check_unknown(passthrough)
    package_dir, config_file = cibw.split_package_args(passthrough)
    flags = config.flags_from(args)
    settings = config.load(flags, package_dir, config_file)
    return run.build(settings, passthrough, flags)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    try:
        args, passthrough = parser.parse_known_args(argv)
        if args.command == "build":
            if args.help_cibuildwheel:
                return cibw.run(["--help"])
            return build_command(args, passthrough)
        if passthrough:
            parser.error(f"unrecognized arguments: {' '.join(passthrough)}")
        if args.command == "cache":
            return cache_command(args)
        if args.command == "ci":
            return ci_command(args)
        parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    except CcwheelError as e:
        error(str(e))
        return e.exit_code
    return 0  # pragma: no cover


def entry() -> None:
    sys.exit(main())
