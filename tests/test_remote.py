"""Remote storage settings: checking, redaction and read-only marking."""

from __future__ import annotations

import pytest

from ccwheel import config, remote
from ccwheel.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379", "redis://***@host:6379"),
        ("redis://user:pw@host/1|connect-timeout=50", "redis://***@host/1|connect-timeout=50"),
        (
            "http://cache.example/ccache|bearer-token=abc",
            "http://cache.example/ccache|bearer-token=***",
        ),
        ("http://a:b@x/ redis://y", "http://***@x/ redis://y"),
        ("file:/srv/cache|read-only", "file:/srv/cache|read-only"),
    ],
)
def test_credentials_are_redacted(url: str, shown: str) -> None:
    assert remote.redact(url) == shown


def test_read_only_marks_every_backend_once() -> None:
    assert remote.with_read_only("redis://a http://b|read-only") == (
        "redis://a|read-only http://b|read-only"
    )


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("redis://localhost:6379", True),
        ("redis://:pw@127.0.0.1", True),
        ("http://[::1]:8080/c", True),
        ("redis://cache.internal", False),
        ("file:/srv/cache", False),
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
