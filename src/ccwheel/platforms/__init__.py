"""What ccwheel adds to a build, by the kind of build: one module per kind, as cibuildwheel
keeps one module per platform (its `platforms/`).

- linux.py: cibuildwheel builds in a container. ccwheel mounts the cache directory, copies
  its tools in, and routes the compilers inside (setup.sh).
- host.py: cibuildwheel builds on this machine (macOS, Windows). ccwheel routes the
  compilers from here, through the build's environment.
- pyodide, iOS, Android: not cached yet. Their entry in PLATFORMS says why, and ccwheel says
  it once per build. A kind for one of them is a module like host.py, and its entry here.

Every kind turns one build's resolved options (a BuildView, read by cibw.py) into what
ccwheel adds (an Injection, folded back in by cibw.py): pure data in, pure data out, so no
kind touches cibuildwheel. This module is the face: those two records, the Kind protocol
and the registry. What the kinds share (the build backend's settings, how the build
environment gets a fixed path, ccache's settings, the frontend command) is in common.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Protocol


@dataclasses.dataclass(frozen=True)
class BuildView:
    """The parts of the user's resolved options for one build that ccwheel composes with."""

    identifier: str
    frontend: str
    frontend_args: tuple[str, ...]
    env_names: frozenset[str]
    before_build: str
    config_settings: str
    package_dir: Path
    project_dir: Path
    # linux, macos, windows, pyodide, ios or android: cibuildwheel's name, the table's key.
    platform: str = "linux"
    # The container engine (Linux builds only).
    engine: str = ""
    create_args: tuple[str, ...] = ()
    # CC, CXX and PATH as the user's environment option sets them (evaluated over
    # ccwheel's own environment, as a host build's is; "" when they run a command).
    compilers: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Injection:
    """What ccwheel adds; `before_build` is the whole composed command (None: the user's,
    unchanged). `build_env` is what this build alone gets: cibw.py gives it to each of the
    build's commands rather than to the environment option, which cibuildwheel prints once
    per group of identical values (a value of one build's own makes a group of each)."""

    environment: tuple[tuple[str, str], ...]
    build_env: tuple[tuple[str, str], ...] = ()
    before_build: str | None = None
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


class Unavailable(Exception):
    """What keeps one build from the cache, in one line: the build goes on without it."""


class Kind(Protocol):
    """One kind of build, for one run (run.py makes one of each): what ccwheel adds to each
    build of that kind."""

    # Whether compose() needs the run's directory (the host's ccache writes the build's
    # statistics there directly; a container's setup step makes it itself).
    needs_run_dir: bool

    def compose(self, view: BuildView, backend: Backend, run_dir: Path | None) -> Injection:
        """What ccwheel adds to this build. Raises Unavailable when it cannot use the
        cache, ConfigError for what the user has to change."""
        ...

    def note(self, view: BuildView, backend: Backend) -> str | None:
        """A line for this build's report (what the user may change), or None."""
        ...

    def build_started(self, identifier: str) -> None: ...

    def close(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class NotCached:
    """A platform ccwheel does not cache yet, and why (said once per build)."""

    reason: str


# Every platform cibuildwheel builds for, by its name: the module for its kind of build,
# or why it is not cached. The Linux and host kinds are imported where they are used
# (they import this module).
KINDS = ("linux", "host")
PLATFORMS: dict[str, str | NotCached] = {
    "linux": "linux",
    "macos": "host",
    "windows": "host",
    "pyodide": NotCached("pyodide builds (emscripten's compilers) are not cached yet"),
    "ios": NotCached("iOS builds (Xcode's cross compilers) are not cached yet"),
    "android": NotCached("Android builds (the NDK's cross compilers) are not cached yet"),
}


def not_cached(platform: str) -> str | None:
    """Why builds for `platform` are not cached, or None when they are."""
    kind = PLATFORMS.get(platform)
    if kind is None:
        return f"ccwheel does not know the platform {platform!r}"
    return kind.reason if isinstance(kind, NotCached) else None
