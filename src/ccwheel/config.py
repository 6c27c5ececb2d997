"""ccwheel's settings: one typed model fed by defaults, pyproject, environment and flags.

Precedence, highest first: command-line flags > CCWHEEL_* variables > [tool.ccwheel] in
the pyproject.toml cibuildwheel reads > defaults.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from ccwheel.errors import ConfigError, UnknownKeyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

__all__ = [
    "Settings",
    "config_file_for",
    "environ",
    "load",
    "read_pyproject_table",
    "resolve",
    "tomllib",
]

STABLE_BUILD_ENV_MODES = ("auto", "env-dir", "no-isolation", "off")


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ccwheel", appauthor=False))


@dataclasses.dataclass(frozen=True)
class Settings:
    # Host directory mounted at /ccache in every Linux build container.
    cache_dir: Path = dataclasses.field(default_factory=default_cache_dir)
    # False runs plain cibuildwheel (--no-cache).
    cache: bool = True
    # ccache's max_size: the cache is trimmed to this after each compile.
    max_size: str = "5G"
    # Where to write the JSON report, if anywhere.
    report: Path | None = None
    # Fail (exit 20) when a warm build's hit rate falls below this fraction (0..1).
    min_hit_rate: float | None = None
    # Mount the cache with :z so SELinux hosts (podman, Fedora/RHEL docker) allow access.
    selinux_relabel: bool = False
    # How the build frontend's random isolated environment is kept off the compile line.
    stable_build_env: str = "auto"
    # ccache's remote storage (redis://, http://, ...), shared by machines and CI jobs.
    remote_storage: str = ""
    # Read the remote storage, never write it (untrusted jobs such as pull requests).
    remote_read_only: bool = False
    # Keep ccache's debug inputs and say why each missed unit missed.
    explain: bool = False


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


def _parse_rate(value: object, name: str) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        msg = f"{name}: expected a number between 0 and 1 (or a percentage), got {value!r}"
        raise ConfigError(msg) from None
    if rate > 1 and not text.endswith("%"):
        rate /= 100  # "95" means 95%: nobody wants a rate above 1
    if not 0 <= rate <= 1:
        msg = f"{name}: must lie between 0 and 1 (or 0% and 100%), got {value!r}"
        raise ConfigError(msg)
    return rate


def _parse_size(value: object, name: str) -> str:
    text = str(value).strip()
    import re

    if not re.fullmatch(r"\d+(\.\d+)?\s*([kKMGT]i?B?|[kKMGT])?", text):
        msg = f"{name}: expected a size such as 500M or 5G, got {value!r}"
        raise ConfigError(msg)
    return text.replace(" ", "")


def _parse_mode(value: object, name: str) -> str:
    text = str(value).strip()
    if text not in STABLE_BUILD_ENV_MODES:
        raise UnknownKeyError(text, f"value for {name}", STABLE_BUILD_ENV_MODES)
    return text


def _parse_path(value: object, name: str) -> Path:
    text = str(value).strip()
    if not text:
        msg = f"{name}: expected a path, got an empty value"
        raise ConfigError(msg)
    return Path(text).expanduser()


def _parse_optional_path(value: object, name: str) -> Path | None:
    return _parse_path(value, name) if value not in (None, "") else None


def _parse_remote(value: object, name: str) -> str:
    from ccwheel import remote

    return remote.parse(str(value), name)


_PARSERS: dict[str, Callable[[object, str], Any]] = {
    "cache_dir": _parse_path,
    "cache": _parse_bool,
    "max_size": _parse_size,
    "report": _parse_optional_path,
    "min_hit_rate": _parse_rate,
    "selinux_relabel": _parse_bool,
    "stable_build_env": _parse_mode,
    "remote_storage": _parse_remote,
    "remote_read_only": _parse_bool,
    "explain": _parse_bool,
}
FILE_KEYS = tuple(k.replace("_", "-") for k in _PARSERS)
ENV_KEYS = tuple("CCWHEEL_" + k.upper() for k in _PARSERS)


def read_pyproject_table(path: Path) -> dict[str, Any]:
    """The [tool.ccwheel] table of a pyproject.toml; {} when there is no file."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        msg = f"cannot read {path}: {e}"
        raise ConfigError(msg) from None
    table = data.get("tool", {}).get("ccwheel", {})
    if not isinstance(table, dict):
        msg = f"{path}: [tool.ccwheel] must be a table"
        raise ConfigError(msg)
    return table


def resolve(
    *,
    flags: Mapping[str, object],
    env: Mapping[str, str],
    file_table: Mapping[str, Any],
    file_name: str = "pyproject.toml",
) -> Settings:
    """Merge the sources by precedence; every value is checked, every unknown key refused."""
    values: dict[str, Any] = {}
    for key, value in file_table.items():
        field = key.replace("-", "_")
        if field not in _PARSERS or "_" in key:
            raise UnknownKeyError(key, f"key in [tool.ccwheel] of {file_name}", FILE_KEYS)
        values[field] = _PARSERS[field](value, f"[tool.ccwheel] {key}")
    for name, value in env.items():
        if not name.startswith("CCWHEEL_"):
            continue
        field = name[len("CCWHEEL_") :].lower()
        if field not in _PARSERS:
            raise UnknownKeyError(name, "environment variable", ENV_KEYS)
        values[field] = _PARSERS[field](value, name)
    for field, value in flags.items():
        if value is not None:
            values[field] = _PARSERS[field](value, "--" + field.replace("_", "-"))
    return Settings(**values)


def load(flags: Mapping[str, object], file_path: Path) -> Settings:
    """Settings from flags, this process's CCWHEEL_* variables and `file_path`'s table."""
    return resolve(
        flags=flags,
        env=environ(),
        file_table=read_pyproject_table(file_path),
        file_name=str(file_path),
    )


def config_file_for(package_dir: Path, config_file: str) -> Path:
    """The file cibuildwheel reads its own options from; [tool.ccwheel] lives beside them."""
    if config_file:
        return Path(config_file.replace("{package}", str(package_dir)))
    return package_dir / "pyproject.toml"


def environ() -> Mapping[str, str]:
    return os.environ
