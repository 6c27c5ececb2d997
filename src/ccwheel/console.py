"""Diagnostics on stderr, one line each (stdout carries the report)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def colour(text: str, code: str) -> str:
    use = sys.stderr.isatty() or bool(os.environ.get("FORCE_COLOR"))
    return f"\033[{code}m{text}\033[0m" if use and not os.environ.get("NO_COLOR") else text


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _annotation_text(message: str) -> str:
    """GitHub's escaping for a workflow command's message: a line break would end the
    command, and a % would start an escape."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def warn(message: str) -> None:
    """Under GitHub Actions an annotation, which the run's summary lists: a plain line is
    lost in a long build log."""
    if in_github_actions():
        print(f"::warning title=ccwheel::{_annotation_text(message)}", file=sys.stderr)
        return
    print(colour(f"ccwheel: warning: {message}", "33"), file=sys.stderr)


def note(message: str) -> None:
    print(f"ccwheel: {message}", file=sys.stderr)


def error(message: str) -> None:
    if in_github_actions():
        print(f"::error title=ccwheel::{_annotation_text(message)}", file=sys.stderr)
        return
    print(colour(f"ccwheel: error: {message}", "31"), file=sys.stderr)


def github_output(cache_dir: Path) -> None:
    """In GitHub Actions, the cache directory as a step output (for actions/cache)."""
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        try:
            with Path(path).open("a", encoding="utf-8") as f:
                f.write(f"cache-dir={cache_dir}\n")
        except OSError as e:
            warn(f"cannot write GITHUB_OUTPUT: {e}")
