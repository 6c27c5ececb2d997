"""Remote storage settings: checking, redaction and read-only marking, read the way ccache
4.13+ reads them (parse_storage_configs in ccache's src/ccache/storage/storage.cpp)."""

from __future__ import annotations

import pytest

from ccwheel import config, remote
from ccwheel.errors import ConfigError

SECRET = "s3cret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379", "redis://***@host:6379"),
        # connect-timeout is one of ccache's attributes without "@": masked as ccache does.
        ("redis://user:pw@host/1|connect-timeout=50", "redis://***@host/1|connect-timeout=***"),
        (
            "http://cache.example/ccache|bearer-token=abc",
            "http://cache.example/ccache|bearer-token=***",
        ),
        ("http://a:b@x/ redis://y", "http://***@x/ redis://y"),
        ("file:/srv/cache|read-only", "file:/srv/cache|read-only"),
        # ccache's documented form: properties and @attributes after spaces.
        ("https://c/x @bearer-token=S3CRET", "https://c/x @bearer-token=***"),
        ("https://c/x|@bearer-token=S3CRET", "https://c/x|@bearer-token=***"),
        ("https://c/x\t|bearer-token=S3CRET", "https://c/x\t|bearer-token=***"),
        (
            "https://c/x @header=Authorization:%20Bearer%20S3CRET read-only idle-timeout=5s",
            "https://c/x @header=*** read-only idle-timeout=5s",
        ),
        # Not percent-encoded: ccache takes "Bearer" and the token as unknown properties.
        ("https://c/x @header=Authorization: Bearer S3CRET", "https://c/x @header=*** *** ***"),
        ("http://c/x @layout=flat @anything=S3CRET", "http://c/x @layout=*** @anything=***"),
        # Every scheme's user-info, however odd the password.
        ("https://user:pa/ss@h/x", "https://***@h/x"),
        ("https://u:pa@ss@host/x", "https://***@host/x"),
        (
            "https://u:S3CRET@h/x @k=v file:/srv|read-only",
            "https://***@h/x @k=*** file:/srv|read-only",
        ),
        (
            "redis+unix://:S3CRET@localhost/run/redis.sock",
            "redis+unix://***@localhost/run/redis.sock",
        ),
        ("crsh:u:S3CRET@/run/s.sock", "crsh:***@/run/s.sock"),
        ("http://c-*.example shards=a(2),b", "http://c-*.example shards=a(2),b"),
    ],
)
def test_credentials_are_redacted(url: str, shown: str) -> None:
    assert remote.redact(url) == shown


@pytest.mark.parametrize(
    "value",
    [
        "redis//:S3CRET@host",
        "redis://u:S3CRET@[fe80::1%eth0",
        "://S3CRET@",
        "@bearer-token=S3CRET",
        "|||S3CRET",
        "x=S3CRET:y",
        "1ab:S3CRET",
        "h\u00e9:S3CRET",
        "bearer:S3CRET",
        "redis://host:S3CRET/x",
        "https://c/x Bearer:S3CRET",
    ],
)
def test_redaction_of_what_is_not_a_setting_shows_no_secret(value: str) -> None:
    shown = remote.redact(value)
    assert "S3CRET" not in shown and "***" in shown


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("https://c/x @bearer-token=S3CRET", "https://c/x @bearer-token=S3CRET"),
        ("https://c/x|@bearer-token=S3CRET", "https://c/x|@bearer-token=S3CRET"),
        ("https://c/x|bearer-token=S3CRET", "https://c/x|bearer-token=S3CRET"),
        (
            "https://c/x @header=Authorization:%20Bearer%20S3CRET",
            "https://c/x @header=Authorization:%20Bearer%20S3CRET",
        ),
        (
            "\n redis://:pw@h:6379\tread-only=false \n file:/srv/c|layout=flat ",
            "redis://:pw@h:6379 read-only=false file:/srv/c|layout=flat",
        ),
        (
            "http://c-*.example shards=a(2),b data-timeout=500ms request-timeout=1m",
            "http://c-*.example shards=a(2),b data-timeout=500ms request-timeout=1m",
        ),
        ("crsh:/run/s.sock helper=ccache-storage-x idle-timeout=0s", None),
    ],
)
def test_parse_takes_ccaches_syntax(value: str, parsed: str | None) -> None:
    assert remote.parse(value, "X") == (parsed or value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        # ccache fails every compile on these, its error showing the URL or value in clear.
        (f"redis//:{SECRET}@host", "does not start with a URL"),
        (f"@bearer-token={SECRET} https://c/x", "does not start with a URL"),
        (f"redis://u:{SECRET}@[fe80::1%eth0", "cannot be parsed"),
        (f"redis://u:{SECRET}@host:port", "cannot be parsed"),
        (f"htp://u:{SECRET}@host", "not a ccache remote storage URL"),
        (f"redis://h ftp://u:{SECRET}@x", "entry 2"),
        (f"https://c/x bearer:{SECRET}", "entry 2"),
        (f"https://c/x @bearer-token={SECRET}%", "percent-encoded"),
        (f"redis://:{SECRET}@h idle-timeout=abc", "idle-timeout must be a duration"),
        (f"http://:{SECRET}@c shards=a,b", 'exactly one "*"'),
        # ccache ignores it and writes it to its log in clear.
        (f"https://c/x @header=Authorization: Bearer {SECRET}", "percent-encode"),
        (f"https://c/x read_only {SECRET}", "neither a ccache property"),
    ],
)
def test_parse_refuses_without_leaking(value: str, why: str) -> None:
    with pytest.raises(ConfigError) as e:
        remote.parse(value, "CCWHEEL_REMOTE_STORAGE")
    message = str(e.value)
    assert SECRET not in message
    assert why in message and message.startswith("CCWHEEL_REMOTE_STORAGE: ")
    assert "\n" not in message


def test_read_only_marks_every_backend_once() -> None:
    assert remote.with_read_only("redis://a http://b|read-only") == (
        "redis://a|read-only http://b|read-only"
    )


@pytest.mark.parametrize(
    ("value", "marked"),
    [
        ("https://c/x @bearer-token=T", "https://c/x @bearer-token=T|read-only"),
        ("https://c/x read-only", "https://c/x read-only"),
        ("https://c/x read-only=true @k=v", "https://c/x read-only=true @k=v"),
        ("https://c/x|read-only=tru%65", "https://c/x|read-only=tru%65"),
        # ccache takes the last read-only, and only "true" as true.
        ("https://c/x read-only=false", "https://c/x read-only=false|read-only"),
        ("https://c/x read-only=yes", "https://c/x read-only=yes|read-only"),
        (
            "https://c/x read-only read-only=false",
            "https://c/x read-only read-only=false|read-only",
        ),
        # An attribute is no entry of its own.
        (
            "redis://a @x=1 file:/c|layout=flat|read-only",
            "redis://a @x=1|read-only file:/c|layout=flat|read-only",
        ),
    ],
)
def test_read_only_follows_ccaches_syntax(value: str, marked: str) -> None:
    assert remote.with_read_only(value) == marked


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("redis://localhost:6379", True),
        ("redis://:pw@127.0.0.1", True),
        ("http://[::1]:8080/c", True),
        ("redis://cache.internal", False),
        ("file:/srv/cache", False),
        # An attribute is not a backend, even one that looks like a host.
        ("redis://cache.internal @x=redis://localhost", False),
        ("redis://cache.internal|bearer-token=//127.0.0.1", False),
        ("redis://cache.internal @header=X:%20Y http://127.0.0.1:8080", True),
        ("https://c/x|@bearer-token=T redis://localhost", True),
        # Never raises.
        ("redis://u:p@[fe80::1%eth0", False),
        ("redis//:p@host", False),
        ("", False),
    ],
)
def test_loopback(url: str, loopback: bool) -> None:
    assert remote.is_loopback(url) is loopback


def test_settings_refuse_what_ccache_would_ignore_without_leaking_it() -> None:
    with pytest.raises(ConfigError) as e:
        config.resolve(
            flags={}, env={"CCWHEEL_REMOTE_STORAGE": "htp://u:secret@host"}, file_table={}
        )
    assert "secret" not in str(e.value) and "CCWHEEL_REMOTE_STORAGE" in str(e.value)
    s = config.resolve(
        flags={"remote_read_only": True},
        env={"CCWHEEL_REMOTE_STORAGE": " redis://localhost:6379 "},
        file_table={},
    )
    assert (s.remote_storage, s.remote_read_only) == ("redis://localhost:6379", True)
