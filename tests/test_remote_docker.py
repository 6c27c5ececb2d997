"""A cache shared through ccache's remote storage, for real: a redis-server on the host's
loopback, reached from inside the build containers."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.long, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture
ID = "cp311-manylinux_x86_64"
PASSWORD = "ccwheel-test-s3cret"


def _redis(port: int, *commands: str) -> list[bytes]:
    """Inline redis commands, one reply line each (enough for AUTH, PING and DBSIZE)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall("".join(f"{c}\r\n" for c in commands).encode())
        replies = b""
        while replies.count(b"\r\n") < len(commands):
            chunk = s.recv(4096)
            if not chunk:
                break
            replies += chunk
    return replies.split(b"\r\n")[: len(commands)]


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("remote storage tests need redis-server (Debian package redis-server)")
    # The free port is free until redis-server binds it: a test file running beside this
    # one may take it first, and then this server exits and another port is tried.
    for _ in range(5):
        port, proc = _start_redis(server, tmp_path)
        if proc is not None:
            break
    else:
        pytest.fail("redis-server did not start")
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _start_redis(server: str, tmp_path: Path) -> tuple[int, subprocess.Popen[bytes] | None]:
    """redis-server on a free port, once it answers; None when it exited first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            PASSWORD,
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if proc.poll() is not None:
            return port, None  # not ours on that port, whatever answers there
        try:
            if _redis(port, f"AUTH {PASSWORD}", "PING")[1] == b"+PONG":
                # The answer may be the other file's server, with the same password, while
                # ours is still failing to bind: it exits within milliseconds when it does.
                time.sleep(0.2)
                return (port, proc) if proc.poll() is None else (port, None)
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=10)
    return port, None


def _entries(port: int) -> int:
    return int(_redis(port, f"AUTH {PASSWORD}", "DBSIZE")[1].lstrip(b":"))


def test_an_empty_local_cache_hits_through_the_remote_storage(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    redis_port: int,
    ccwheel_build: Build,
) -> None:
    example_project("setuptools")
    # As a CI secret would provide it: in the environment, with a password (ccache's form
    # is redis://PASSWORD@HOST or redis://USER:PASSWORD@HOST).
    monkeypatch.setenv("CCWHEEL_REMOTE_STORAGE", f"redis://{PASSWORD}@localhost:{redis_port}")

    def run(name: str, *extra: str) -> dict[str, object]:
        report = tmp_path / f"{name}.json"
        args = ("--only", ID, "--report", str(report), *extra)
        assert ccwheel_build(tmp_path / f"cache-{name}", tmp_path / name, *args) == 0
        data = json.loads(report.read_text())
        (build,) = data["builds"]
        assert isinstance(build, dict)
        return {**build, "remote_storage": data["remote_storage"]}

    # The wrong password (ccache's redis://:PASSWORD@ form, with an empty user, is one):
    # ccache carries on with the local cache and says nothing; the report does.
    monkeypatch.setenv("CCWHEEL_REMOTE_STORAGE", f"redis://wrong@localhost:{redis_port}")
    wrong = run("wrong")
    assert wrong["remote_errors"] == wrong["compilations"] == 7, wrong
    assert "the remote storage failed on 7 compiles" in capfd.readouterr().err
    assert _entries(redis_port) == 0
    monkeypatch.setenv("CCWHEEL_REMOTE_STORAGE", f"redis://{PASSWORD}@localhost:{redis_port}")

    # A pull-request job: reads the shared cache, never writes it.
    pr = run("pr", "--remote-read-only")
    assert pr["misses"] == pr["compilations"] == 7
    assert _entries(redis_port) == 0
    assert pr["remote_storage"] == f"redis://***@localhost:{redis_port} (read-only)"

    # Job A fills its local cache and the remote; job B starts with an empty local cache.
    run("a")
    assert _entries(redis_port) > 0
    b = run("b")
    assert b["warm"] is False  # nothing local: every hit came from the remote
    assert b["compilations"] == 7 and b["hit_rate"] >= 0.99, b
    assert b["remote_hits"] == b["hits"] and b["local_hits"] == 0, b
    assert b["remote_errors"] == 0

    # The password appears nowhere: not in cibuildwheel's or ccwheel's output, not in the
    # reports, not left in the cache directories.
    captured = capfd.readouterr()
    assert PASSWORD not in captured.out + captured.err
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".stats", ".status", ".info", ""}:
            assert PASSWORD not in path.read_text(errors="replace"), path
