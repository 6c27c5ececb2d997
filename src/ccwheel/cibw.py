"""The one seam between ccwheel and cibuildwheel's internals.

cibuildwheel documents no Python API, so every import of it lives here and nowhere else:
when a cibuildwheel release moves something, this is the module to adapt, and the nox
session `cibuildwheel` runs the tests against the newest release of each supported line.

What ccwheel relies on, by version:
- `cibuildwheel.__main__.compute_options(...)` returns the `Options` of a run (2.x-4.x).
- Per-build options come from `options.build_options(identifier)`: a method before 3.0, a
  `functools.cache` of `_compute_build_options` set in `Options.__init__` from 3.0. Both are
  replaced here by an instance attribute that composes ccwheel's settings into the user's
  resolved `BuildOptions`, so pyproject, overrides and CIBW_* keep working.
- `BuildOptions` is a frozen dataclass (`dataclasses.replace`); its `environment` is a
  `ParsedEnvironment` of assignments, `container_engine` an `OCIContainerEngineConfig`
  (per build since 2.18.1), `build_frontend` a `BuildFrontendConfig` (or None before 3.0,
  meaning the default frontend).
- `cibuildwheel.logger.log.build_start(identifier)` / `build_end(...)` mark each build.
- `cibuildwheel.oci_container.OCIContainer`: a context manager whose `__enter__` starts
  the container, and whose `copy_into(host_path, container_path)` copies a directory in
  through the engine (tar over `exec`, so it works with remote engines too) (2.x-4.x).
  Its `call(args, env=...)` runs every command of a build; the frontend's is
  `python -m pip wheel`, `python -m build` or `uv build` (cibuildwheel matches these
  shapes itself when it explains a failed build), and ccwheel puts frontend.py in front.
- The macOS and Windows builds (`cibuildwheel.platforms.macos`/`windows` from 3.0,
  `cibuildwheel.macos`/`windows` before) run every command through their module's own
  name `call(*args, env=...)`, from `cibuildwheel.util.cmd` (3.x+) or `.util` (2.x): the
  frontend's commands have the same shapes there (uv named by its full path).
- `Options.platform` is the run's platform name (2.x-4.x).
- `--print-build-identifiers` prints the selected identifiers on stdout, whitespace
  between them, in build order; `log.build_end` prints a build's last lines (`--jobs`
  splits a group's log there); `CIBW_BUILD` in the environment replaces the file's
  `build` unless `CIBW_INHERIT` (4.3+, `cibuildwheel.options.parse_inherit`) says otherwise.
- `cibuildwheel.__main__` makes its run directory, in which the macOS and Windows builds
  keep their virtualenvs, with its own name `mkdtemp(prefix="cibw-run-")`, resolved and
  removed when the run ends (2.x-4.x).
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Optional, Sequence, Tuple

from ccwheel.errors import UnsupportedCibuildwheelError
from ccwheel.platforms import BuildView, Injection
from ccwheel.platforms.common import FRONTEND_SCRIPT, frontend_command, is_frontend_command

Composer = Callable[[BuildView], Optional[Injection]]
# Called before each build container starts; returns a host directory to copy into the
# container, and where, once it has started (or None).
ContainerStart = Callable[[], Optional[Tuple[Path, PurePosixPath]]]
# Reads a file in the build's container: its text, or "" when it is not there.
ReadBack = Callable[[PurePosixPath], str]


@dataclasses.dataclass
class Hooks:
    """What ccwheel does at cibuildwheel's seams during one run."""

    compose: Composer
    build_start: Callable[[str], None] = lambda _: None
    # A command to run in the build's container when the build ends (or None).
    after_build: Callable[[], Sequence[str] | None] = lambda: None
    # With a reader of the finished build's container (None outside one).
    build_end: Callable[[ReadBack | None], None] = lambda _: None
    # After cibuildwheel has logged the build's end (its last line of the build).
    build_logged: Callable[[], None] = lambda: None
    container_start: ContainerStart = lambda: None
    # Told when the copy into a started container failed (the build goes on).
    copy_failed: Callable[[str], None] = lambda _: None
    # True while the builds are to run as plain cibuildwheel's (ccwheel's files did not
    # reach their container): each build's options are asked again inside it.
    plain: Callable[[], bool] = lambda: False
    # Told when the current build runs its frontend (a build cibuildwheel skips, reusing a
    # compatible abi3 wheel, compiles nothing).
    frontend_ran: Callable[[], None] = lambda: None
    # An empty directory at a fixed path for cibuildwheel's run directory on this
    # platform, or None for its own random one.
    run_directory: Callable[[str], Path | None] = lambda _platform: None


# The prefix of cibuildwheel's run directory (see the module's docstring).
RUN_DIRECTORY_PREFIX = "cibw-run-"


# Options of cibuildwheel's command line that take a value: needed to find the positional
# package directory among arguments ccwheel passes through without parsing them itself.
VALUE_OPTIONS = ("--platform", "--archs", "--only", "--output-dir", "--config-file", "--enable")


def version() -> str:
    import cibuildwheel

    return str(cibuildwheel.__version__)


def check_supported() -> str:
    """The running cibuildwheel's version, if ccwheel knows how to hook it."""
    ver = version()
    parts = tuple(int(p) for p in ver.split(".")[:2] if p.isdigit())
    if len(parts) < 2 or not ((2, 23) <= parts < (5, 0)):
        msg = f"cibuildwheel {ver} is not supported; ccwheel supports 2.23 to 4.x"
        raise UnsupportedCibuildwheelError(msg)
    return ver


def _default_frontend() -> str:
    # cibuildwheel 2.x built with pip by default; 3.0 switched the default to build.
    return "pip" if version().startswith("2.") else "build"


def _view(identifier: str, options: Any, bo: Any) -> BuildView:
    frontend = bo.build_frontend
    engine = bo.container_engine
    return BuildView(
        identifier=identifier,
        frontend=frontend.name if frontend is not None else _default_frontend(),
        frontend_args=tuple(frontend.args) if frontend is not None else (),
        engine=engine.name,
        create_args=tuple(engine.create_args),
        env_names=frozenset(a.name for a in bo.environment.assignments),
        before_build=bo.before_build or "",
        config_settings=bo.config_settings or "",
        package_dir=Path(options.globals.package_dir).resolve(),
        project_dir=Path.cwd(),
        platform=str(options.platform),
        compilers=_compilers(bo.environment) if options.platform != "linux" else (),
    )


def _compilers(environment: Any) -> tuple[tuple[str, str], ...]:
    """CC, CXX and PATH (where the build finds them) as the user's environment option
    sets them for a host build, evaluated by
    cibuildwheel's own evaluator over this process's environment (as the build's is), but
    never running a command: that runs once, in the build. One that would is "" (unknown,
    so not this process's own CC either)."""
    import os

    def refuse(*_args: Any, **_kwargs: Any) -> str:
        msg = "a command"
        raise RuntimeError(msg)

    env = dict(os.environ)
    found = []
    for assignment in environment.assignments:
        try:
            env[assignment.name] = assignment.evaluated_value(environment=env, executor=refuse)
        except Exception:  # a command, or what cibuildwheel will say itself in the build
            env[assignment.name] = ""
        if assignment.name in ("CC", "CXX", "PATH"):
            found.append((assignment.name, env[assignment.name]))
    return tuple(found)


def _compose(bo: Any, inj: Injection) -> Any:
    from cibuildwheel.environment import parse_environment

    extra_env = parse_environment(" ".join(f"{k}={v}" for k, v in inj.environment))
    environment = type(bo.environment)([*bo.environment.assignments, *extra_env.assignments])

    frontend = bo.build_frontend
    if inj.frontend_args:
        if frontend is None:
            from cibuildwheel.options import BuildFrontendConfig  # 2.x only

            frontend = BuildFrontendConfig(name=_default_frontend(), args=[])
        frontend = type(frontend)(name=frontend.name, args=[*frontend.args, *inj.frontend_args])

    engine = dataclasses.replace(
        bo.container_engine, create_args=(*bo.container_engine.create_args, *inj.create_args)
    )
    config_settings = " ".join(s for s in (bo.config_settings, *inj.config_settings) if s)
    return dataclasses.replace(
        bo,
        environment=environment,
        before_build=bo.before_build if inj.before_build is None else inj.before_build,
        build_frontend=frontend,
        container_engine=engine,
        config_settings=config_settings,
    )


@dataclasses.dataclass
class _Run:
    """What the patches share during one run of cibuildwheel."""

    hooks: Hooks
    # What each composed build alone gets in its commands' environment
    # (Injection.build_env), and the build running now (from log.build_start to
    # log.build_end): only it is known when a command runs.
    build_envs: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    current: str | None = None
    # The platform of the options computed last: the run's, when it makes its directory.
    platform: str | None = None
    # The containers builds are running in: cibuildwheel ends each build inside one.
    active: list[Any] = dataclasses.field(default_factory=list)

    def with_build_env(self, env: Any) -> Any:
        """The environment of a command, with what the build running now alone gets; only
        in a build ccwheel composed (its environment has ccwheel's variables). A copy:
        cibuildwheel's own dict stays as it is."""
        extra = self.build_envs.get(self.current) if self.current else None
        if extra and env is not None and FRONTEND_SCRIPT in env:
            return {**env, **extra}
        return env

    def with_build_env_kw(self, kw: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of a host command (`env=`), with_build_env applied."""
        if kw.get("env") is None:
            return kw
        return {**kw, "env": self.with_build_env(kw["env"])}

    def finish(self, container: Any) -> None:
        """The build's finishing command in its container, if it has one."""
        command = self.hooks.after_build()
        if command:
            # The cache must never be why a build fails.
            with contextlib.suppress(Exception):
                container.call(list(command))

    def frontend(self, args: Any, env: Any, run: Callable[[Any], Any], shown: Any) -> Any:
        """Run a build command with `run`, the frontend's through frontend.py; a failure
        of that shows `shown`, the command cibuildwheel gave (it tells a failed build by
        its command: troubleshooting hints)."""
        if is_frontend_command(list(args)):
            self.hooks.frontend_ran()
        wrapped = frontend_command(list(args), env)
        if wrapped is None:
            return run(args)
        try:
            return run(wrapped)
        except subprocess.CalledProcessError as e:
            e.cmd = shown
            raise


@contextlib.contextmanager
def _patched(owner: Any, name: str, replacement: Any) -> Iterator[Any]:
    """`owner.name` replaced while the context lasts, and restored after: an attribute set
    on an instance (cibuildwheel's `log`) is dropped, so the class's shows through again.
    Yields the original."""
    original = getattr(owner, name)
    own = name in vars(owner)
    setattr(owner, name, replacement)
    try:
        yield original
    finally:
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


def _compose_options(stack: contextlib.ExitStack, run: _Run) -> None:
    """Each build's options, as cibuildwheel resolved them, composed with ccwheel's."""
    import cibuildwheel.__main__ as cibw_main

    original = cibw_main.compute_options

    def compute_options(*args: Any, **kwargs: Any) -> Any:
        options = original(*args, **kwargs)
        run.platform = str(options.platform)
        resolve = options.build_options  # bound method (2.x) or functools.cache (3.x+)
        composed: dict[str, Any] = {}

        def build_options(identifier: str | None) -> Any:
            bo = resolve(identifier)
            # None asks for the run-wide view (summaries, troubleshooting): left as is.
            if identifier is None or (options.platform == "linux" and run.hooks.plain()):
                return bo
            if identifier not in composed:
                injection = run.hooks.compose(_view(identifier, options, bo))
                composed[identifier] = bo if injection is None else _compose(bo, injection)
                if injection is not None and injection.build_env:
                    run.build_envs[identifier] = dict(injection.build_env)
            return composed[identifier]

        options.build_options = build_options
        return options

    stack.enter_context(_patched(cibw_main, "compute_options", compute_options))


def _run_directory(stack: contextlib.ExitStack, run: _Run) -> None:
    """cibuildwheel's run directory at the fixed path the hooks give for the platform."""
    import cibuildwheel.__main__ as cibw_main

    original = cibw_main.mkdtemp

    def mkdtemp(*a: Any, **kw: Any) -> Any:
        if not a and kw == {"prefix": RUN_DIRECTORY_PREFIX} and run.platform:
            fixed = run.hooks.run_directory(run.platform)
            if fixed is not None:
                return str(fixed)
        return original(*a, **kw)

    stack.enter_context(_patched(cibw_main, "mkdtemp", mkdtemp))


def _build_marks(stack: contextlib.ExitStack, run: _Run) -> None:
    """The start and the end of each build, as cibuildwheel logs them."""
    from cibuildwheel.logger import log

    original_start, original_end = log.build_start, log.build_end

    def build_start(identifier: str, *a: Any, **kw: Any) -> Any:
        run.current = identifier
        run.hooks.build_start(identifier)
        return original_start(identifier, *a, **kw)

    def build_end(*a: Any, **kw: Any) -> Any:
        run.current = None  # the next container's before-all belongs to no build
        if run.active:
            run.finish(run.active[-1])
        run.hooks.build_end(_reader(run.active[-1]) if run.active else None)
        result = original_end(*a, **kw)
        run.hooks.build_logged()
        return result

    stack.enter_context(_patched(log, "build_start", build_start))
    stack.enter_context(_patched(log, "build_end", build_end))


def _containers(stack: contextlib.ExitStack, run: _Run) -> None:
    """Each build container: ccwheel's files copied in when it starts, every command's
    environment with what names the build, the frontend's command through frontend.py."""
    from cibuildwheel.oci_container import OCIContainer

    original_enter, original_exit = OCIContainer.__enter__, OCIContainer.__exit__
    original_call = OCIContainer.call

    def enter(container: Any) -> Any:
        copy = run.hooks.container_start()
        started = original_enter(container)
        run.active.append(container)
        if copy is not None:
            try:
                container.copy_into(*copy)
            except Exception as e:  # the cache must never be why a build fails
                run.hooks.copy_failed(f"{type(e).__name__}: {e}")
        return started

    def exit_(container: Any, *a: Any) -> Any:
        failed = bool(a) and isinstance(a[0], type)
        try:
            if container in run.active:
                run.active.remove(container)
                # A build that failed ends here, with no build_end (cibuildwheel's own
                # errors are BaseExceptions): its finishing step still runs, so what its
                # pip and uv wrote as root becomes the host user's to remove. Not when the
                # user stops the run.
                if failed and not issubclass(a[0], KeyboardInterrupt):
                    run.finish(container)
        finally:
            # cibuildwheel stops and removes the container whatever happened above (an
            # interrupt during the finishing step goes on after it).
            result = original_exit(container, *a)
        return result

    def call(container: Any, args: Any, *a: Any, **kw: Any) -> Any:
        env = run.with_build_env(kw.get("env", a[0] if a else None))
        if "env" in kw:
            kw = {**kw, "env": env}
        elif a:
            a = (env, *a[1:])
        return run.frontend(
            args, env, lambda cmd: original_call(container, cmd, *a, **kw), shown=args
        )

    stack.enter_context(_patched(OCIContainer, "__enter__", enter))
    stack.enter_context(_patched(OCIContainer, "__exit__", exit_))
    stack.enter_context(_patched(OCIContainer, "call", call))


def _host_commands(stack: contextlib.ExitStack, run: _Run) -> None:
    """The host builds run every command through their module's `call(*args, env=...)`,
    and before-all, before-build, repair (and on Windows the tests) through its
    `shell(command, env=...)`: both get what names the build, the frontend's command goes
    through frontend.py."""

    def host_shell(original: Any) -> Any:
        def shell(*commands: Any, **kw: Any) -> Any:
            return original(*commands, **run.with_build_env_kw(kw))

        return shell

    def host_call(original: Any) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            kw = run.with_build_env_kw(kw)
            shown = [str(a) for a in args]
            return run.frontend(args, kw.get("env"), lambda cmd: original(*cmd, **kw), shown)

        return call

    for module in _host_modules():
        stack.enter_context(_patched(module, "call", host_call(module.call)))
        if callable(getattr(module, "shell", None)):
            stack.enter_context(_patched(module, "shell", host_shell(module.shell)))


# Each patch of cibuildwheel's internals, applied in this order and undone in reverse.
_PATCHES = (_compose_options, _run_directory, _build_marks, _containers, _host_commands)

# Every internal the patches replace or call, with the parameters ccwheel passes by name
# or relies on (see the module's docstring). `missing_seams` checks them on the installed
# cibuildwheel, and a test runs it against every supported line: a release that moves one
# fails that test by name instead of a user's build.
SEAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("cibuildwheel.__main__", "compute_options", ()),
    ("cibuildwheel.__main__", "mkdtemp", ("prefix",)),
    ("cibuildwheel.__main__", "main", ()),
    ("cibuildwheel.logger", "log.build_start", ("identifier",)),
    ("cibuildwheel.logger", "log.build_end", ()),
    ("cibuildwheel.oci_container", "OCIContainer.__enter__", ()),
    ("cibuildwheel.oci_container", "OCIContainer.__exit__", ()),
    ("cibuildwheel.oci_container", "OCIContainer.call", ("args", "env", "capture_output")),
    ("cibuildwheel.oci_container", "OCIContainer.copy_into", ("from_path", "to_path")),
    ("cibuildwheel.environment", "parse_environment", ()),
)
# The fields of BuildOptions that _view reads and _compose replaces.
BUILD_OPTION_FIELDS = (
    "environment",
    "before_build",
    "build_frontend",
    "config_settings",
    "container_engine",
)


def missing_seams() -> list[str]:
    """What of SEAMS, BUILD_OPTION_FIELDS and the host modules' `call` the installed
    cibuildwheel lacks, each as one line (empty when ccwheel can hook it)."""
    import importlib
    import inspect

    missing = []
    for module_name, path, params in SEAMS:
        try:
            target: Any = importlib.import_module(module_name)
            for part in path.split("."):
                target = getattr(target, part)
            signature = inspect.signature(target)
        except (ImportError, AttributeError, TypeError, ValueError) as e:
            missing.append(f"{module_name}.{path}: {e}")
            continue
        for param in params:
            if param not in signature.parameters:
                missing.append(f"{module_name}.{path}: no parameter {param!r}")
    from cibuildwheel.options import BuildOptions

    fields = {f.name for f in dataclasses.fields(BuildOptions)}
    missing += [f"BuildOptions.{f}: not a field" for f in BUILD_OPTION_FIELDS if f not in fields]
    modules = _host_modules()
    if len(modules) != 2 or not all(callable(getattr(m, "call", None)) for m in modules):
        missing.append(f"the macOS and Windows modules' call: found {modules}")
    return missing


@contextlib.contextmanager
def _hooks(hooks: Hooks) -> Iterator[None]:
    run = _Run(hooks)
    with contextlib.ExitStack() as stack:
        for patch in _PATCHES:
            patch(stack, run)
        yield


def _host_modules() -> list[Any]:
    """cibuildwheel's macOS and Windows build modules: `platforms.macos` from 3.0,
    `cibuildwheel.macos` before."""
    import importlib

    modules = []
    for name in ("macos", "windows"):
        for path in (f"cibuildwheel.platforms.{name}", f"cibuildwheel.{name}"):
            try:
                modules.append(importlib.import_module(path))
                break
            except ImportError:
                continue
    return modules


def _reader(container: Any) -> ReadBack:
    def read(path: PurePosixPath) -> str:
        try:
            out = container.call(
                ["sh", "-c", f"cat '{path}' 2>/dev/null || true"], capture_output=True
            )
        except Exception:  # a reading that fails is a reading that found nothing
            return ""
        return str(out)

    return read


def run(argv: Sequence[str], hooks: Hooks | None = None) -> int:
    """Run cibuildwheel in this process with `argv`; return its exit code."""
    import cibuildwheel.__main__ as cibw_main

    saved_argv = sys.argv
    sys.argv = ["ccwheel build", *argv]  # argparse names itself after argv[0]
    try:
        if hooks is None:
            cibw_main.main()
        else:
            with _hooks(hooks):
                cibw_main.main()
    except SystemExit as e:
        return _exit_code(e.code)
    finally:
        sys.argv = saved_argv
    return 0


def identifiers(argv: Sequence[str]) -> tuple[list[str], int]:
    """The identifiers cibuildwheel would build with `argv`, in its order (its own
    --print-build-identifiers, in this process), and its exit code. What it says besides
    is not shown: the runs that build say it."""
    import io

    # Imported before the redirect: cibuildwheel's logger decides on colours and Unicode
    # once, from the stream it first sees, for the rest of this process.
    import cibuildwheel.__main__  # noqa: F401

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(["--print-build-identifiers", *argv])
    return out.getvalue().split(), code


# Arguments with which cibuildwheel builds one identifier at most, or nothing.
ONE_RUN_ARGS = ("--print-build-identifiers", "--help", "-h", "--only", "--clean-cache")


def builds_at_most_one(argv: Sequence[str]) -> bool:
    return any(a.split("=", 1)[0] in ONE_RUN_ARGS for a in argv)


def without_build_inherit(value: str) -> str:
    """CIBW_INHERIT (cibuildwheel 4.3 and newer) without its rules for `build` (and
    `build-PLATFORM`): with one, the environment's CIBW_BUILD adds to the file's
    selection, not replaces it. Unchanged where it does not parse (cibuildwheel then says
    why) or before 4.3 (no CIBW_INHERIT)."""
    if not value.strip():
        return value
    try:
        from cibuildwheel.options import parse_inherit
    except ImportError:
        return value
    try:
        rules = parse_inherit(value)
    except BaseException as e:  # cibuildwheel's own errors are BaseExceptions
        if isinstance(e, KeyboardInterrupt):
            raise
        return value
    kept = {k: v for k, v in rules.items() if k != "build" and not k.startswith("build-")}
    if len(kept) == len(rules):
        return value
    return "; ".join(f"{k}: {v.name.lower()}" for k, v in kept.items())


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints only when uncaught
    return 1


@dataclasses.dataclass(frozen=True)
class Resolved:
    """One build's options after composition, as plain values (for tests and diagnostics)."""

    environment: list[str]
    # The environment as the build sees it, evaluated by cibuildwheel itself on top of a
    # PATH=/usr/bin (it runs $(...) commands on the host, as it would in the container).
    values: dict[str, str]
    before_all: str
    before_build: str
    frontend: str
    frontend_args: list[str]
    engine: str
    create_args: list[str]
    config_settings: str
    repair_command: str
    # What the build's commands get besides (Injection.build_env), as cibw.py gives it.
    build_env: dict[str, str] = dataclasses.field(default_factory=dict)


def resolved(
    package_dir: Path,
    identifier: str,
    env: dict[str, str],
    composer: Composer | None = None,
    platform: str = "linux",
) -> Resolved:
    """cibuildwheel's own option resolution for `identifier` on `platform`, composed by
    `composer`."""
    import cibuildwheel.__main__ as cibw_main
    from cibuildwheel.options import CommandLineArguments

    args = dataclasses.replace(
        CommandLineArguments.defaults(), package_dir=package_dir, platform=platform
    )
    composed: list[Injection] = []

    def record(view: BuildView) -> Injection | None:
        injection = composer(view) if composer is not None else None
        if injection is not None:
            composed.append(injection)
        return injection

    with contextlib.ExitStack() as stack:
        if composer is not None:
            stack.enter_context(_hooks(Hooks(compose=record)))
        options = cibw_main.compute_options(platform=platform, command_line_arguments=args, env=env)
        bo = options.build_options(identifier)
    frontend = bo.build_frontend
    return Resolved(
        environment=[repr(a) for a in bo.environment.assignments],
        values=bo.environment.as_dictionary(prev_environment={"PATH": "/usr/bin"}),
        before_all=bo.before_all,
        before_build=bo.before_build or "",
        frontend=frontend.name if frontend is not None else _default_frontend(),
        frontend_args=list(frontend.args) if frontend is not None else [],
        engine=bo.container_engine.name,
        create_args=list(bo.container_engine.create_args),
        config_settings=bo.config_settings,
        repair_command=bo.repair_command,
        build_env=dict(composed[-1].build_env) if composed else {},
    )


def split_package_args(argv: Sequence[str]) -> tuple[Path, str]:
    """(package dir, --config-file) from cibuildwheel arguments, as cibuildwheel sees them."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name in VALUE_OPTIONS:
        parser.add_argument(name, action="append" if name == "--enable" else "store")
    parser.add_argument("package_dir", nargs="?", default=".")
    known, _ = parser.parse_known_args(list(argv))
    config_file = known.config_file or ""
    return Path(known.package_dir), config_file if config_file else ""


__all__: list[str] = [
    "Composer",
    "ContainerStart",
    "Hooks",
    "ReadBack",
    "Resolved",
    "builds_at_most_one",
    "check_supported",
    "identifiers",
    "resolved",
    "run",
    "split_package_args",
    "version",
    "without_build_inherit",
]
