"""What ccwheel adds to one Linux container build: mount, environment, before-build step,
frontend arguments and backend settings.

Pure data in, pure data out: cibw.py reads the user's resolved options into a BuildView
and folds the returned Injection back in, so this module never touches cibuildwheel.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path, PurePosixPath

from ccwheel import remote as remote_storage
from ccwheel.errors import ConfigError

# Inside the container. /project is where cibuildwheel always copies the project, so it is
# the one base directory that makes source paths the same in every run.
MOUNT = PurePosixPath("/ccache")
CCACHE_DIR = MOUNT / "data"
PROJECT = PurePosixPath("/project")
# Fixed, container-local paths for everything that tools would otherwise put under a
# random temporary name that then lands on the compile line.
WORK = PurePosixPath("/tmp/ccwheel")
LINKS = WORK / "bin"
ENV_DIR = WORK / "build-env"
SKBUILD_DIR = WORK / "skbuild"
MESONPY_DIR = WORK / "mesonpy"

# In the run directory: the remote storage URL, for the container to read (see remote.py).
REMOTE_FILE = "remote-storage"

BUILD_FRONTENDS = ("build", "build[uv]")
# Arguments with which the user already chose how the frontend isolates the build.
ISOLATION_ARGS = ("--env-dir", "--no-isolation", "-n", "--no-build-isolation")


@dataclasses.dataclass(frozen=True)
class BuildView:
    """The parts of the user's resolved options for one build that ccwheel composes with."""

    identifier: str
    frontend: str
    frontend_args: tuple[str, ...]
    engine: str
    create_args: tuple[str, ...]
    env_names: frozenset[str]
    before_build: str
    config_settings: str
    package_dir: Path
    project_dir: Path


@dataclasses.dataclass(frozen=True)
class Injection:
    """What ccwheel adds; `before_build` is the whole composed command."""

    environment: tuple[tuple[str, str], ...]
    before_build: str
    frontend_args: tuple[str, ...] = ()
    create_args: tuple[str, ...] = ()
    config_settings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Backend:
    """What the project's pyproject.toml says about its build backend."""

    name: str = ""
    build_dir_set: bool = False

    @property
    def is_scikit_build_core(self) -> bool:
        return self.name.startswith("scikit_build_core")

    @property
    def is_meson_python(self) -> bool:
        return self.name == "mesonpy"

    @property
    def is_setuptools(self) -> bool:
        # No build-backend at all means setuptools' legacy backend.
        return self.name in ("", "setuptools.build_meta", "setuptools.build_meta:__legacy__")


def read_backend(package_dir: Path) -> Backend:
    from ccwheel.config import tomllib

    try:
        with (package_dir / "pyproject.toml").open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return Backend()  # cibuildwheel itself reports an unreadable project
    name = str(data.get("build-system", {}).get("build-backend", ""))
    skbuild = data.get("tool", {}).get("scikit-build", {})
    return Backend(name=name, build_dir_set=bool(skbuild.get("build-dir")))


def container_package_dir(view: BuildView) -> PurePosixPath:
    try:
        rel = view.package_dir.relative_to(view.project_dir)
    except ValueError:
        return PROJECT  # an sdist build: cibuildwheel runs it from the extracted directory
    return PROJECT.joinpath(*rel.parts) if rel.parts else PROJECT


def python_version(identifier: str) -> tuple[int, int] | None:
    """(3, 11) for cp311-..., pp311-...; None for interpreters without such a tag."""
    match = re.match(r"(?:cp|pp)(\d)(\d+)", identifier)
    return (int(match.group(1)), int(match.group(2))) if match else None


def env_dir_possible(view: BuildView) -> bool:
    # pypa/build gained --env-dir in 1.6, which needs Python >= 3.10: the build frontend of
    # an older interpreter can never take it (cibuildwheel pins build 1.4 for cp39).
    version = python_version(view.identifier)
    return view.frontend in BUILD_FRONTENDS and version is not None and version >= (3, 10)


def isolation_mode(view: BuildView, requested: str) -> str:
    """'env-dir', 'no-isolation' or 'off' for this build's frontend."""
    if requested == "off" or any(
        a == opt or a.startswith(opt + "=") for a in view.frontend_args for opt in ISOLATION_ARGS
    ):
        return "off"  # the user already decided how the frontend isolates
    if requested == "auto":
        return "env-dir" if env_dir_possible(view) else "no-isolation"
    if requested == "env-dir" and view.frontend in BUILD_FRONTENDS and not env_dir_possible(view):
        msg = (
            f"stable-build-env = 'env-dir' needs pypa/build >= 1.6, which needs Python >= "
            f"3.10, but {view.identifier} is older; use 'auto' (no isolation there) or "
            f"'no-isolation'"
        )
        raise ConfigError(msg)
    if requested == "env-dir" and view.frontend not in BUILD_FRONTENDS:
        msg = (
            f"stable-build-env = 'env-dir' needs the 'build' frontend (--env-dir is an option "
            f"of pypa/build), but {view.identifier} builds with {view.frontend!r}; use 'auto' "
            f"or 'no-isolation'"
        )
        raise ConfigError(msg)
    return requested


def _user_set(view: BuildView, name: str) -> bool:
    """The user set this ccache setting in their environment, or turned it off with its
    CCACHE_NO* form (how a boolean CCACHE_FOO is switched off): theirs wins."""
    return name in view.env_names or "CCACHE_NO" + name[len("CCACHE_") :] in view.env_names


def _quote(value: str) -> str:
    # cibuildwheel evaluates environment values like bash; single quotes keep them literal.
    return shlex.quote(value)


def plan(
    view: BuildView,
    *,
    host_cache_dir: Path,
    run_dir_name: str,
    max_size: str,
    selinux_relabel: bool,
    stable_build_env: str,
    backend: Backend | None = None,
    remote: str = "",
    explain: bool = False,
) -> Injection:
    """`remote` is the remote storage setting, only to decide the networking: the URL itself
    reaches the container through the run directory's remote-storage file (see remote.py)."""
    backend = backend or Backend()
    run_dir = MOUNT / ".ccwheel" / "runs" / run_dir_name
    mode = isolation_mode(view, stable_build_env)

    env = [("PATH", f'"{LINKS}:$PATH"')]
    # The user's own CCACHE_* settings win: ccwheel only fills in what they left unset.
    defaults = {
        "CCACHE_DIR": str(CCACHE_DIR),
        "CCACHE_BASEDIR": str(PROJECT),
        # -g puts the working directory into the debug info, and so into the hash.
        "CCACHE_NOHASHDIR": "1",
        # The compiler's content, not its mtime: a re-pulled image with the same compiler
        # keeps hitting.
        "CCACHE_COMPILERCHECK": "content",
        "CCACHE_MAXSIZE": max_size,
        # A miss then costs no extra preprocessor run (ccache's figure: 1-3% overhead instead
        # of 5-20%) wherever the compiler writes a dependency file (-MD: CMake with Ninja,
        # meson); elsewhere ccache falls back to its usual mode by itself. ccwheel's stable
        # paths are what make direct-mode lookups hit, so nothing relies on the fallback.
        "CCACHE_DEPEND": "1",
        # The container's root writes the cache; the host user must be able to read and
        # remove it (ccwheel creates the cache directory itself owner-only).
        "CCACHE_UMASK": "000",
    }
    env += [(k, _quote(v)) for k, v in defaults.items() if not _user_set(view, k)]
    # The per-build statistics: a log of this build's own compilations, so two runs that
    # share the cache, or a build that fails half-way, still report exactly their own.
    env.append(("CCACHE_STATSLOG", _quote(f"{run_dir}/{view.identifier}.stats")))
    create_args = [f"--volume={host_cache_dir}:{MOUNT}" + (":z" if selinux_relabel else "")]
    if remote and "CCACHE_REMOTE_STORAGE" not in view.env_names:
        # Read at build time, inside the container: cibuildwheel prints this assignment,
        # and the URL may carry credentials.
        env.append(("CCACHE_REMOTE_STORAGE", f"$(cat {run_dir}/{REMOTE_FILE})"))
        if remote_storage.is_loopback(remote) and not any(
            a.startswith(("--network", "--net=")) or a == "--net" for a in view.create_args
        ):
            # A server on the host's loopback is only reachable with the host's network.
            create_args.append("--network=host")
    if explain:
        # Debug files (the hash inputs of every compilation) for the host to compare.
        env.append(("CCACHE_DEBUG", "1"))
        env.append(("CCACHE_DEBUGDIR", _quote(f"{run_dir}/debug/{view.identifier}")))
    env.append(("CCWHEEL_RUN_DIR", _quote(str(run_dir))))
    env.append(("CCWHEEL_IDENTIFIER", _quote(view.identifier)))
    env.append(("CCWHEEL_ISOLATION", mode))
    env.append(("CCWHEEL_FRONTEND", _quote(view.frontend)))
    env.append(("CCWHEEL_PACKAGE", _quote(str(container_package_dir(view)))))

    if backend.is_setuptools and not _user_set(view, "CCACHE_DEPEND"):
        # setuptools asks the compiler for no dependency file, so ccache's depend mode
        # would not apply and every miss would cost one more preprocessor run. -MD makes
        # gcc and clang write one beside each object (and is ignored when linking).
        env.append(("CPPFLAGS", '"-MD $CPPFLAGS"'))

    config_settings: tuple[str, ...] = ()
    if backend.is_scikit_build_core and not (
        backend.build_dir_set
        or "SKBUILD_BUILD_DIR" in view.env_names
        or "build-dir" in view.config_settings
    ):
        # Its default is a random temporary directory, which reaches every compile line.
        env.append(("SKBUILD_BUILD_DIR", _quote(str(SKBUILD_DIR))))
    if backend.is_meson_python and "build-dir" not in view.config_settings:
        config_settings = (f"build-dir={MESONPY_DIR}",)

    frontend_args: tuple[str, ...] = ()
    if mode == "env-dir":
        frontend_args = (f"--env-dir={ENV_DIR}",)
    elif mode == "no-isolation":
        frontend_args = (
            ("--no-isolation",) if view.frontend in BUILD_FRONTENDS else ("--no-build-isolation",)
        )

    setup = f"sh {run_dir}/setup.sh"
    before_build = f"{setup}; {view.before_build}" if view.before_build else setup

    return Injection(
        environment=tuple(env),
        before_build=before_build,
        frontend_args=frontend_args,
        create_args=tuple(create_args),
        config_settings=config_settings,
    )
