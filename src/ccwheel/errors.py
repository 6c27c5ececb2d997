"""Errors ccwheel reports itself, each with its exit code.

Codes 1-10 are cibuildwheel's (a failed build passes its code through unchanged), so
ccwheel's own codes either share cibuildwheel's meaning (2: bad configuration) or sit
above that range.
"""

from __future__ import annotations

from typing import Sequence


class CcwheelError(Exception):
    """Something ccwheel itself refuses to do; shown as one line, then exit."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(CcwheelError):
    """Bad input: an option, variable or config key. Same code as cibuildwheel's."""

    exit_code = 2


class UnknownKeyError(ConfigError):
    def __init__(self, key: str, source: str, known: Sequence[str], listed: bool = False) -> None:
        import difflib

        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (perhaps you meant {close[0]!r}?)" if close else ""
        if listed and not close:
            hint = f" (one of: {', '.join(known)})"
        super().__init__(f"unknown {source} {key!r}{hint}")
        self.key = key
        self.suggestion = close[0] if close else None


class ContainerEngineMissingError(ConfigError):
    def __init__(self, engine: str) -> None:
        super().__init__(
            f"container engine {engine!r} not found on PATH; Linux wheels are built in a "
            f"container, so install {engine} (or choose another with CIBW_CONTAINER_ENGINE)"
        )


class UnsupportedCibuildwheelError(CcwheelError):
    exit_code = 21


class HitRateTooLowError(CcwheelError):
    """--min-hit-rate was set and a warm build fell below it."""

    exit_code = 20


class UnsafeCacheDirError(ConfigError):
    """The cache directory is open to other users and is not the user's to fix."""


class CacheDirNotDirectoryError(ConfigError):
    """--cache-dir names a file: the user's explicit choice, so an error, not a warning."""
