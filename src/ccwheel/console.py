"""Diagnostics on stderr, one line each (stdout carries the report)."""

from __future__ import annotations

import os
import sys


def colour(text: str, code: str) -> str:
    use = sys.stderr.isatty() or bool(os.environ.get("FORCE_COLOR"))
    return f"\033[{code}m{text}\033[0m" if use and not os.environ.get("NO_COLOR") else text


def warn(message: str) -> None:
    print(colour(f"ccwheel: warning: {message}", "33"), file=sys.stderr)


def note(message: str) -> None:
    print(f"ccwheel: {message}", file=sys.stderr)


def error(message: str) -> None:
    print(colour(f"ccwheel: error: {message}", "31"), file=sys.stderr)
