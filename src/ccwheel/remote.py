"""ccache's remote storage, as ccwheel passes it on: checked, redacted for display, and
handed to the container in a way that keeps credentials out of every log and file.

cibuildwheel prints each build's environment assignments and create-args, so the URL
becomes neither. run.py puts it in ccwheel's own environment for the length of the run,
under a name no cibuildwheel option passes on (container.REMOTE_ENV), and the container
engine's `--env NAME` copies it from there into each container, where the build's
CCACHE_REMOTE_STORAGE is set from it: nothing is written to disk, so a killed run leaves
nothing behind.

The setting is read as ccache 4.13+ reads it (parse_storage_configs in ccache's
src/ccache/storage/storage.cpp): the value is split on whitespace and "|" ("|" counts as a
space, for older ccache versions' `url|attr=value` form); a part starts a new entry when it
has a ":" with no "=" before it (a URL), every other part belongs to the entry before it as
a property `key[=value]` or a custom attribute `@key[=value]`, its value percent-encoded.
The first part is always taken as the first entry's URL.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlsplit

from ccwheel.errors import ConfigError

# What ccache 4.x can talk to (`ccache --version` lists the *-storage features).
SCHEMES = ("file", "http", "https", "redis", "rediss", "redis+unix", "crsh")
# What a secret is shown as (ccache shows "********"; docs/remote-storage.md documents "***").
MASK = "***"
# ccache's properties: settings of ccache's own, no secret in them, shown as they are.
_PROPERTIES = ("data-timeout", "helper", "idle-timeout", "read-only", "request-timeout", "shards")
_DURATIONS = ("data-timeout", "idle-timeout", "request-timeout")
# Names ccache takes as custom attributes (`@name`) without the "@", for older versions.
_BACKWARD_COMPATIBLE_ATTRIBUTES = (
    "bearer-token",
    "connect-timeout",
    "header",
    "keep-alive",
    "layout",
    "operation-timeout",
    "umask",
    "update-mtime",
)
# ccache splits on " \t|"; on every other whitespace character too here: parse() hands
# ccache the value with each run of whitespace made one space, so ccache splits it the same.
_SEPARATORS = re.compile(r"([\s|]+)")
_EDGES = re.compile(r"^[\s|]+|[\s|]+$")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# A "%" that does not start %XX: ccache fails every compile on it.
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# ccache's parse_duration (after percent-decoding).
_DURATION = re.compile(r"\s*[0-9]+\s*(ms|s|m|h|d)")


def _split(value: str) -> tuple[list[str], list[list[int]]]:
    """The parts (at even indices) and the separators between them (at odd ones), and the
    entries as lists of their parts' indices, the first being the entry's URL."""
    text = _EDGES.sub("", str(value))
    tokens = _SEPARATORS.split(text) if text else []
    entries: list[list[int]] = []
    for i in range(0, len(tokens), 2):
        left, colon, _ = tokens[i].partition(":")
        # ccache's test: `foo:...` but not `foo=...:...` looks like a URL.
        if not entries or (colon and "=" not in left):
            entries.append([i])
        else:
            entries[-1].append(i)
    return tokens, entries


def _key(part: str) -> str:
    """The part's key as ccache files it: "@name" for a custom attribute."""
    key = part.split("=", 1)[0]
    return f"@{key}" if key in _BACKWARD_COMPATIBLE_ATTRIBUTES else key


def _unparsable(url: str) -> bool:
    try:
        split = urlsplit(url)
        split.hostname  # noqa: B018 - raises on a bad IPv6 address
        split.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return True
    return False


def _redact_url(url: str) -> str:
    """The URL with its user-info masked. The rule never shows a password character, even
    a raw "/" or "@" in it (either ends the authority for a URL parser): everything between
    the scheme's ":" (and "//") and the URL's LAST "@" is masked, so the host and path too
    when a path has an "@". Without a scheme it cannot be read: all of it is masked; with
    one ccache cannot use, or one that is still no URL then, all of it after the scheme."""
    scheme, colon, rest = url.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        return MASK
    if scheme.lower() not in SCHEMES:
        return f"{scheme}:{MASK}"
    slashes = "//" if rest.startswith("//") else ""
    rest = rest[len(slashes) :]
    if "@" in rest:
        rest = MASK + rest[rest.rindex("@") :]
    shown = f"{scheme}:{slashes}{rest}"
    return f"{scheme}:{MASK}" if _unparsable(shown) else shown


def _redact_part(part: str) -> str:
    key = _key(part)
    if key.startswith("@"):
        # Every custom attribute's value, as ccache does: any could be a credential.
        return f"{part.split('=', 1)[0]}={MASK}"
    if key in _PROPERTIES:
        return part
    # Nothing ccache knows (it ignores it): maybe a secret that lost its key, like the
    # token of an `@header=Authorization: Bearer TOKEN` whose spaces are not encoded.
    return MASK


def redact(value: str) -> str:
    """The setting with every user-info (passwords, user names) and every custom attribute's
    value replaced by MASK, each entry's properties as they are. Never raises."""
    try:
        tokens, entries = _split(value)
        for first, *rest in entries:
            tokens[first] = _redact_url(tokens[first])
            for i in rest:
                tokens[i] = _redact_part(tokens[i])
        return "".join(tokens)
    except Exception:  # whatever went wrong, nothing of the value is shown
        return MASK


def _check_part(where: str, k: int, url: str, part: str) -> None:
    """Refuses what ccache fails every compile on (its error showing the URL or the value
    in clear) or ignores (writing it in clear to its log, which --explain keeps in the
    cache directory)."""
    key = _key(part)
    raw = part.split("=", 1)[1] if "=" in part else "true"
    if _BAD_PERCENT.search(raw):
        msg = (
            f"{where}: the value of {redact(part)!r} has a % that does not start a "
            f"percent-encoded character (%XX)"
        )
        raise ConfigError(msg)
    if key.startswith("@"):
        return
    if key in _DURATIONS and not _DURATION.fullmatch(unquote(raw)):
        msg = f"{where}: {key} must be a duration such as 500ms, 10s, 5m, 1h or 1d"
        raise ConfigError(msg)
    if key == "shards" and url.count("*") != 1:
        msg = f'{where}: with shards, the URL must contain exactly one "*"'
        raise ConfigError(msg)
    if key not in _PROPERTIES:
        # Not echoed: it may be a secret, e.g. the token of an `@header=Authorization:
        # Bearer TOKEN` whose spaces are not percent-encoded.
        msg = (
            f"{where}: part {k} after the URL is neither a ccache property "
            f"({', '.join(_PROPERTIES)}) nor an @attribute, and ccache would ignore it "
            f"(and log it); percent-encode spaces and | in a value (%20, %7C)"
        )
        raise ConfigError(msg)


def parse(value: str, name: str) -> str:
    """One or more storage entries, each a URL and its properties and attributes, as ccache
    4.13+ takes them; refuses what ccache would fail every compile on, or silently ignore.
    The value comes back with each run of whitespace made one space. No error message
    shows a secret: what one echoes is redacted."""
    text = _EDGES.sub("", " ".join(str(value).split()))
    if not text:
        return text
    tokens, entries = _split(text)
    schemes = ", ".join(SCHEMES)
    for n, (first, *rest) in enumerate(entries, 1):
        url = tokens[first]
        where = f"{name}: remote storage entry {n} ({redact(url)!r})"
        scheme, colon, _ = url.partition(":")
        if not colon or not _SCHEME.fullmatch(scheme):
            msg = f"{where} does not start with a URL (scheme:..., schemes: {schemes})"
            raise ConfigError(msg)
        if scheme.lower() not in SCHEMES:
            msg = f"{where} is not a ccache remote storage URL (schemes: {schemes})"
            raise ConfigError(msg)
        if _unparsable(url):
            msg = f"{where} cannot be parsed as a URL"
            raise ConfigError(msg)
        for k, i in enumerate(rest, 1):
            _check_part(where, k, url, tokens[i])
    return text


def _is_read_only(tokens: list[str], parts: list[int]) -> bool:
    """ccache's reading: the last read-only part wins, and only "true" is true."""
    result = False
    for i in parts:
        key, eq, raw = tokens[i].partition("=")
        if key == "read-only":
            result = not eq or unquote(raw) == "true"
    return result


def with_read_only(value: str) -> str:
    """Every backend marked read-only: the build reads the shared cache, never writes it.
    `|read-only` after an entry's last part, which every ccache version that reads the
    setting takes (and the later read-only part wins over a read-only=false)."""
    tokens, entries = _split(value)
    for first, *rest in entries:
        if not _is_read_only(tokens, rest):
            tokens[rest[-1] if rest else first] += "|read-only"
    return "".join(tokens)


def is_loopback(value: str) -> bool:
    """Whether a backend is on the host's loopback, which a container reaches only with the
    host's network. Never raises: a URL that cannot be read is not on the loopback."""
    tokens, entries = _split(value)
    for first, *_ in entries:
        try:
            host = urlsplit(tokens[first]).hostname or ""
        except ValueError:
            continue
        if host == "localhost":
            return True
        try:
            if ipaddress.ip_address(host).is_loopback:
                return True
        except ValueError:
            continue
    return False


def label(url: str, read_only: bool) -> str | None:
    """How the report names the remote storage: credentials redacted, or None."""
    if not url:
        return None
    return redact(url) + (" (read-only)" if read_only else "")
