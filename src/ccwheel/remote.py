"""ccache's remote storage, as ccwheel passes it on: checked, redacted for display, and
handed to the container in a way that keeps credentials out of every log and file.

cibuildwheel prints each build's environment assignments and create-args, so the URL
becomes neither. run.py puts it in ccwheel's own environment for the length of the run,
under a name no cibuildwheel option passes on (container.REMOTE_ENV), and the container
engine's `--env NAME` copies it from there into each container, where the build's
CCACHE_REMOTE_STORAGE is set from it: nothing is written to disk, so a killed run leaves
nothing behind.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ccwheel.errors import ConfigError

# What ccache 4.x can talk to (`ccache --version` lists the *-storage features).
SCHEMES = ("file", "http", "https", "redis", "rediss", "redis+unix", "crsh")
# Attributes whose value is a secret (ccache masks the same ones in its own logs).
_SECRET_ATTRIBUTES = ("bearer-token", "header", "password", "token")


def parse(value: str, name: str) -> str:
    """One or more storage URLs (space-separated, as ccache takes them), each with optional
    |attributes; refuses what ccache would silently ignore."""
    text = " ".join(str(value).split())
    for entry in text.split(" ") if text else ():
        url = entry.split("|", 1)[0]
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in SCHEMES:
            msg = (
                f"{name}: {redact(entry)!r} is not a ccache remote storage URL "
                f"(schemes: {', '.join(SCHEMES)})"
            )
            raise ConfigError(msg)
    return text


def redact(value: str) -> str:
    """The URL(s) with passwords, user names and tokens replaced by ***."""
    out = []
    for entry in value.split():
        url, sep, attributes = entry.partition("|")
        url = re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1***@", url, flags=re.IGNORECASE)
        attrs = [
            f"{a.split('=', 1)[0]}=***"
            if "=" in a and a.split("=", 1)[0].lower() in _SECRET_ATTRIBUTES
            else a
            for a in attributes.split("|")
        ]
        out.append(url + sep + "|".join(attrs) if sep else url)
    return " ".join(out)


def with_read_only(value: str) -> str:
    """Every backend marked read-only: the build reads the shared cache, never writes it."""
    return " ".join(
        e if re.search(r"\|read-only(=|\||$)", e) else e + "|read-only" for e in value.split()
    )


def is_loopback(value: str) -> bool:
    """Whether a backend is on the host's loopback, which a container reaches only with the
    host's network."""
    for entry in value.split():
        host = urlsplit(entry.split("|", 1)[0]).hostname or ""
        if host == "localhost":
            return True
        try:
            if ipaddress.ip_address(host).is_loopback:
                return True
        except ValueError:
            continue
    return False
