"""The info file of one build (`.ccwheel/runs/RUN/ID.info`): which ccache the build ran and
which compilers it routed through it. setup.sh writes it in a container, platforms/host.py
on a host; the report reads it. One line of `KEY=VALUE` fields separated by spaces, in
FIELDS' order; a list is comma-separated; a value never has a space (paths of the
container's ccache and compilers names have none there; a host's are written by Python
with spaces replaced, see `format`).

An entry of `unrouted` is `NAME:WHY`, WHY one of UNROUTED (setup.sh writes `full-path`
for a compiler named by full path, host.py any of them)."""

from __future__ import annotations

import dataclasses
from typing import Any

# The fields, in the order they are written.
FIELDS = (
    "ccache",
    "origin",
    "version",
    "arch",
    "container",
    "emulated",
    "cache",
    "unrouted",
    "routed",
)
LISTS = ("unrouted", "routed")
# Why a compiler of the user's is not routed, by the WHY of its `unrouted` entry.
UNROUTED = {
    "full-path": "named by full path",
    "not-found": "found on no PATH",
    "by-a-command": "set by a command",
    "only-cl": "ccwheel routes cl.exe only, on Windows",
}


@dataclasses.dataclass(frozen=True)
class BuildInfo:
    ccache: str = ""
    # "image" (the image's own ccache) or "ccwheel" (ccwheel's binary).
    origin: str = ""
    version: str = ""
    # The architecture the ccache binary is for, and the container's.
    arch: str = ""
    container: str = ""
    # "yes", "no" or "unknown".
    emulated: str = ""
    # "shared" (the cache directory) or "remote-only" (a container that cannot see it).
    cache: str = ""
    unrouted: tuple[str, ...] = ()
    routed: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> BuildInfo:
        """The record of an info file's text; fields it does not know are left out."""
        values: dict[str, Any] = dict(p.split("=", 1) for p in text.split() if "=" in p)
        known = {k: v for k, v in values.items() if k in FIELDS}
        for name in LISTS:
            if name in known:
                known[name] = tuple(x for x in known[name].split(",") if x)
        return cls(**known)

    def format(self) -> str:
        """The info file's line (with its newline)."""
        parts = []
        for name in FIELDS:
            value = getattr(self, name)
            text = ",".join(value) if name in LISTS else value
            parts.append(f"{name}={text.replace(' ', '?')}")
        return " ".join(parts) + "\n"

    def as_json(self) -> dict[str, str]:
        """The report's JSON form (`builds[].ccache`): every field, as a string, lists
        comma-separated as in the file."""
        out = {}
        for name in FIELDS:
            value = getattr(self, name)
            out[name] = ",".join(value) if name in LISTS else value
        return out

    def not_routed(self) -> str | None:
        """The compilers of the user's not routed through ccache, each with why:
        "not routed: ...", or None."""
        if not self.unrouted:
            return None
        return f"not routed: {', '.join(unrouted_reason(e) for e in self.unrouted)}"


def unrouted_reason(entry: str) -> str:
    """`NAME (why)` for an `unrouted` entry; an entry without a known WHY (an older
    ccwheel's setup.sh) is a compiler named by full path."""
    name, sep, why = entry.rpartition(":")
    if sep and why in UNROUTED:
        return f"{name} ({UNROUTED[why]})"
    return f"{entry} ({UNROUTED['full-path']})"
