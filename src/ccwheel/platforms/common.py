"""What the kinds of build share (see platforms/__init__.py): how the frontend isolates the
build and its environment gets a fixed path, the backends' build directories, ccache's
settings as environment assignments, quoting for cibuildwheel's environment parser, and the
frontend command that frontend.py wraps. Pure functions of a BuildView."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import PurePath

from ccwheel import layout
from ccwheel.errors import ConfigError
from ccwheel.platforms import Backend, BuildView

BUILD_FRONTENDS = ("build", "build[uv]")
# Arguments with which the user already chose how the frontend isolates the build.
ISOLATION_ARGS = ("--env-dir", "--no-isolation", "-n", "--no-build-isolation", "--no-use-pep517")
# ... or variables in the build's environment.
ISOLATION_VARS = (
    "PIP_NO_BUILD_ISOLATION",
    "UV_NO_BUILD_ISOLATION",
    "PIP_USE_PEP517",
    "PIP_NO_USE_PEP517",
)


def python_version(identifier: str) -> tuple[int, int] | None:
    """(3, 11) for cp311-..., pp311-..., gp311_242-...; None for others."""
    match = re.match(r"(?:cp|pp|gp)(\d)(\d+)", identifier)
    return (int(match.group(1)), int(match.group(2))) if match else None


def env_dir_possible(view: BuildView) -> bool:
    # pypa/build gained --env-dir in 1.6, which needs Python >= 3.10: the build frontend of
    # an older interpreter can never take it (cibuildwheel pins build 1.4 for cp39).
    version = python_version(view.identifier)
    return view.frontend in BUILD_FRONTENDS and version is not None and version >= (3, 10)


def isolation_mode(view: BuildView, requested: str) -> str:
    """How this build's frontend gets a build environment at a fixed path: 'env-dir'
    (pypa/build's own --env-dir), 'fixed-env' (one of ccwheel's, see frontend.py),
    'no-isolation' (the requirements go into the build interpreter) or 'off'."""
    if (
        requested == "off"
        or any(
            a == opt or a.startswith(opt + "=")
            for a in view.frontend_args
            for opt in ISOLATION_ARGS
        )
        or any(var in view.env_names for var in ISOLATION_VARS)
    ):
        return "off"  # the user already decided how the frontend isolates
    if requested == "auto":
        return "env-dir" if env_dir_possible(view) else "fixed-env"
    if requested == "env-dir" and view.frontend in BUILD_FRONTENDS and not env_dir_possible(view):
        msg = (
            f"stable-build-env = 'env-dir' needs pypa/build >= 1.6, which needs Python >= "
            f"3.10, but {view.identifier} is older; use 'auto' (an environment of ccwheel's "
            f"own there) or 'fixed-env'"
        )
        raise ConfigError(msg)
    if requested == "env-dir" and view.frontend not in BUILD_FRONTENDS:
        msg = (
            f"stable-build-env = 'env-dir' needs the 'build' frontend (--env-dir is an option "
            f"of pypa/build), but {view.identifier} builds with {view.frontend!r}; use 'auto' "
            f"or 'fixed-env'"
        )
        raise ConfigError(msg)
    return requested


def user_set(view: BuildView, option: str) -> bool:
    """The user set this ccache option in their environment, as CCACHE_<OPTION> or, for a
    boolean, as CCACHE_NO<OPTION> (how ccache switches one off): theirs wins either way."""
    return f"CCACHE_{option}" in view.env_names or f"CCACHE_NO{option}" in view.env_names


def _ccache_env(option: str, value: str | bool) -> tuple[str, str]:
    """ccache's environment form: booleans as CCACHE_<OPTION>=1 or CCACHE_NO<OPTION>=1."""
    if isinstance(value, bool):
        return (f"CCACHE_{option}" if value else f"CCACHE_NO{option}", "1")
    return (f"CCACHE_{option}", quote(value))


def escape_in_quotes(value: str) -> str:
    """`value` for the inside of double quotes in cibuildwheel's evaluator: the four
    characters special there escaped."""
    return re.sub(r'([\\"$`])', r"\\\1", value)


def quote(value: str) -> str:
    """A value cibuildwheel's evaluator (bashlex, not bash) gives back unchanged. It gets
    single quotes inside concatenations wrong, so shlex.quote's 'it'"'"'s' is out: double
    quotes, with the four characters special there escaped."""
    if re.fullmatch(r"[\w@%+=:,./-]+", value):
        return value
    if "<(" in value or ">(" in value:
        # bashlex takes these for process substitution even inside quotes.
        msg = f"{value!r}: cibuildwheel's environment parser cannot take '<(' or '>(' in a value"
        raise ConfigError(msg)
    return f'"{escape_in_quotes(value)}"'


# The commands cibuildwheel runs a build's frontend with (linux.py, macos.py, windows.py,
# 2.x to 4.x: it matches the same shapes itself to tell a failed build from other
# failures). On the host uv is named by its full path.
_FRONTEND_SHAPES = (("python", "-m", "pip", "wheel"), ("python", "-m", "build"), ("uv", "build"))
# Where frontend.py is, for the build's own `python` to run (set by each kind).
FRONTEND_SCRIPT = "CCWHEEL_FRONTEND_SCRIPT"
# Where frontend.py writes the digest of the build interpreter's include directory (host
# builds: see host.INCLUDE_DIGEST).
INCLUDE_DIGEST = "CCWHEEL_INCLUDE_DIGEST"


def _program(word: str) -> str:
    """`uv` for uv, /usr/local/bin/uv and C:\\tools\\uv.exe alike."""
    name = re.split(r"[\\/]", word)[-1]
    return name[:-4] if name.lower().endswith(".exe") else name


def is_frontend_command(args: Sequence[object]) -> bool:
    """Whether cibuildwheel runs a build's frontend with this command."""
    words = tuple(str(a) for a in args[:4])
    words = (_program(words[0]), *words[1:]) if words else words
    return any(words[: len(shape)] == shape for shape in _FRONTEND_SHAPES)


def frontend_command(args: Sequence[object], env: Mapping[str, str] | None) -> list[object] | None:
    """The command to run in place of a build's frontend command: frontend.py in front of
    it, when ccwheel composed the build (its environment says how it isolates). So the
    build requirements are resolved when the frontend would resolve them, after the
    user's before-build. None: not a frontend command, or nothing to do."""
    env = env or {}
    mode = env.get("CCWHEEL_ISOLATION", "off")
    script = env.get(FRONTEND_SCRIPT)
    # A host build's frontend.py also lists the virtualenv's include directory, whatever
    # the isolation (see frontend.include_digest).
    wanted = mode in ("env-dir", "fixed-env", "no-isolation") or INCLUDE_DIGEST in env
    if not wanted or not script:
        return None
    if not is_frontend_command(args):
        return None
    return ["python", script, *args]


# ccache's settings for every build, where the user left them unset (theirs win).
def ccache_defaults(max_size: str) -> dict[str, str | bool]:
    return {
        # -g puts the working directory into the debug info, and so into the hash.
        "HASHDIR": False,
        # The compiler's content, not its mtime: a re-installed compiler that is the same
        # (a re-pulled image, a new runner) keeps hitting.
        "COMPILERCHECK": "content",
        "MAXSIZE": max_size,
        # No depend mode (ccache's own default): it skips the preprocessor on a miss, and
        # with it the preprocessed lookup that still hits when a generated source differs
        # only in comments or line markers (a Cython module built from a temporary copy of
        # the project). What it saves is one preprocessor run per miss, measured at 1% to
        # 8% of the compile for the example projects.
    }


def ccache_env(view: BuildView, settings: Mapping[str, str | bool]) -> list[tuple[str, str]]:
    """`settings` as environment assignments, leaving out those the user set."""
    return [_ccache_env(k, v) for k, v in settings.items() if not user_set(view, k)]


def ccache_build_env(run_dir: PurePath, identifier: str, explain: bool) -> list[tuple[str, str]]:
    """ccache's settings that name one build, in the run's directory as the build sees it
    (cache.Run reads them there): its statistics log, a log of this build's own
    compilations, so two runs that share the cache, or a build that fails half-way, still
    report exactly their own; with --explain its debug files (the hash inputs of every
    compilation), in a directory of the build's own (with none, ccache writes them beside
    each object). ccwheel's log wins over a CCACHE_STATSLOG of the user's (the report needs
    it): like all that names one build, it is given to the build's commands."""
    env = [("CCACHE_STATSLOG", str(run_dir / f"{identifier}.stats"))]
    if explain:
        env.append(("CCACHE_DEBUG", "1"))
        env.append(("CCACHE_DEBUGDIR", str(run_dir / "debug" / identifier)))
    return env


def check_remote(view: BuildView, remote: bool, read_only: bool) -> None:
    """ccwheel's remote storage cannot apply over a CCACHE_REMOTE_STORAGE of the user's own
    cibuildwheel environment: theirs would win, as every CCACHE_* of theirs does, and the
    remote storage or its read-only marking would silently not apply. A secret's
    protection must not be a silent no-op."""
    if (remote or read_only) and user_set(view, "REMOTE_STORAGE"):
        what = "--remote-read-only" if read_only else "--remote-storage"
        msg = (
            f"{what} cannot apply to the CCACHE_REMOTE_STORAGE that your cibuildwheel "
            f"environment sets for {view.identifier}: give the URL to ccwheel only "
            f"(--remote-storage or CCWHEEL_REMOTE_STORAGE), or drop {what}"
        )
        raise ConfigError(msg)


@dataclasses.dataclass(frozen=True)
class StablePaths:
    """Where one kind of build puts what tools would put under a random temporary name
    that then lands on the compile line."""

    env_dir: str
    skbuild_dir: str
    mesonpy_dir: str

    @classmethod
    def under(cls, work: PurePath) -> StablePaths:
        """In a work directory (see layout.py)."""
        return cls(
            env_dir=str(work / layout.ENV_DIR),
            skbuild_dir=str(work / layout.SKBUILD_DIR),
            mesonpy_dir=str(work / layout.MESONPY_DIR),
        )


# The frontends' options that pass a config setting (pip, pypa/build and uv): `-C KEY=V`,
# `-CKEY=V`, `--config-setting(s) KEY=V` or `--config-setting(s)=KEY=V`.
CONFIG_SETTING_OPTIONS = ("-C", "--config-setting", "--config-settings")
# The config settings that name each backend's build directory: meson-python takes
# `builddir` as an alias (and refuses both at once), scikit-build-core a `skbuild.` prefix.
MESONPY_BUILD_DIR = frozenset({"build-dir", "builddir"})
SKBUILD_BUILD_DIR = frozenset({"build-dir", "skbuild.build-dir"})


# pypa/build's (1.3+) config settings as one JSON object, which it refuses beside any -C.
CONFIG_JSON = "--config-json"


def config_json(view: BuildView) -> bool:
    return any(a == CONFIG_JSON or a.startswith(f"{CONFIG_JSON}=") for a in view.frontend_args)


def config_setting_keys(view: BuildView) -> set[str]:
    """The keys of every config setting the build gets from the user: cibuildwheel's
    config-settings option and the build frontend's own arguments (not --config-json's:
    see config_json)."""
    try:
        words = shlex.split(view.config_settings)
    except ValueError:  # cibuildwheel itself refuses it before any build
        words = view.config_settings.split()
    args = list(view.frontend_args)
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if arg in CONFIG_SETTING_OPTIONS and i + 1 < len(args):
            words.append(args[i + 1])
        elif eq and name in CONFIG_SETTING_OPTIONS[1:]:
            words.append(value)
        elif arg.startswith("-C") and not arg.startswith("--") and len(arg) > 2:
            # -CKEY=V, and -C=KEY=V as argparse and uv's parser take it too.
            words.append(arg[3:] if arg.startswith("-C=") else arg[2:])
    return {word.split("=", 1)[0] for word in words}


def stable_build(
    view: BuildView, backend: Backend, paths: StablePaths, mode: str
) -> tuple[list[tuple[str, str]], tuple[str, ...], tuple[str, ...]]:
    """(environment, frontend arguments, config settings) that give this build's isolated
    environment and its backend's build directory fixed paths (`mode`: isolation_mode's;
    each kind's contract tells frontend.py the mode and the environment's path)."""
    env: list[tuple[str, str]] = []
    config_settings: tuple[str, ...] = ()
    keys = config_setting_keys(view)
    if backend.is_scikit_build_core and not (
        backend.build_dir_set or "SKBUILD_BUILD_DIR" in view.env_names or keys & SKBUILD_BUILD_DIR
    ):
        # Its default is a random temporary directory, which reaches every compile line.
        env.append(("SKBUILD_BUILD_DIR", quote(paths.skbuild_dir)))
    # With --config-json, pypa/build refuses the -C that cibuildwheel makes of a config
    # setting: none is added (a build directory of the user's own may be in it, too).
    if backend.is_meson_python and not keys & MESONPY_BUILD_DIR and not config_json(view):
        # (One of the user's own, in either spelling, would make meson-python refuse two.)
        # cibuildwheel splits the config settings the way a POSIX shell would (shlex), on
        # every platform: quoted, a Windows path keeps its backslashes and a space.
        config_settings = (shlex.quote(f"build-dir={paths.mesonpy_dir}"),)
    frontend_args: tuple[str, ...] = ()
    if mode == "env-dir":
        frontend_args = (f"--env-dir={paths.env_dir}",)
    elif mode == "no-isolation":
        frontend_args = (
            ("--no-isolation",) if view.frontend in BUILD_FRONTENDS else ("--no-build-isolation",)
        )
    # fixed-env: frontend.py adds the frontend's own switch once the environment is made.
    return env, frontend_args, config_settings
