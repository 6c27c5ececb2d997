"""Where CI runs decides what the container sees: a container engine that does not share
ccwheel's file system (a remote DOCKER_HOST, docker:dind, a rootless engine) must not
break the build, and a killed run must not leave a secret in the cache directory. Real
cibuildwheel, real docker, real ccache; the remote engine is made real by running ccwheel
in a mount namespace of its own, where a tmpfs hides the cache directory from the daemon.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from test_remote_docker import PASSWORD, _entries, redis_port  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

ID = "cp311-manylinux_x86_64"
UNITS = 7  # the setuptools example


def _ccwheel_elsewhere(hidden: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`ccwheel build ARGS` in its own mount namespace with a tmpfs over `hidden`: ccwheel
    writes its cache directory under `hidden` as usual, and the docker daemon, outside
    the namespace, sees an empty directory there, as a remote daemon would."""
    hidden.mkdir(parents=True, exist_ok=True)
    script = 'mount -t tmpfs tmpfs "$1" && shift && exec "$@"'
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", str(hidden)]
    return subprocess.run(
        [*cmd, sys.executable, "-m", "ccwheel", "build", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _report(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("ccwheel: warning:")]


def test_a_container_that_cannot_see_the_cache_still_builds_the_wheel(
    tmp_path: Path, example_project: Callable[[str], Path]
) -> None:
    root = example_project("setuptools")
    hidden = tmp_path / "hidden"
    report = tmp_path / "r.json"
    args = ("--only", ID, "--cache-dir", str(hidden / "cache"), "--report", str(report))
    done = _ccwheel_elsewhere(hidden, *args, "--output-dir", str(tmp_path / "out"), cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    # One line in the build log says why, and what to do.
    assert _warnings(done.stderr) == [
        f"ccwheel: warning: the container cannot see the cache directory {hidden / 'cache'} "
        "(a remote or rootless container engine, or SELinux without --selinux-relabel?); "
        "with a remote docker daemon use --remote-storage - building without the cache"
    ]
    # The report gives the container's reason (read back from it), and does not mark
    # the build warm.
    (b,) = _report(report)["builds"]
    assert b["warning"].startswith("the container cannot see the cache directory")
    assert b["compilations"] == 0 and b["finished"] is True
    assert not list(hidden.rglob("warm"))


def test_without_the_mount_the_remote_storage_still_serves(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    redis_port: int,  # noqa: F811
) -> None:
    """Two runs whose containers see none of ccwheel's cache directory (each on a fresh
    tmpfs): the first fills the remote storage, the second is served by it."""
    root = example_project("setuptools")
    monkeypatch.setenv("CCWHEEL_REMOTE_STORAGE", f"redis://{PASSWORD}@localhost:{redis_port}")

    for name in ("first", "second"):
        hidden = tmp_path / f"hidden-{name}"
        report = tmp_path / f"{name}.json"
        done = _ccwheel_elsewhere(
            hidden,
            "--only",
            ID,
            "--cache-dir",
            str(hidden / "cache"),
            "--output-dir",
            str(tmp_path / name),
            "--report",
            str(report),
            cwd=root,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert any("using the remote storage only" in w for w in _warnings(done.stderr))
        assert PASSWORD not in done.stdout + done.stderr
        if name == "first":
            assert _entries(redis_port) > 0
    # The statistics were read back from the container: every unit hit, all from the remote.
    (b,) = _report(report)["builds"]
    assert b["warning"] is None and "remote storage only" in b["note"]
    assert b["compilations"] == UNITS and b["hits"] == b["remote_hits"] == UNITS, b


def test_a_killed_run_leaves_no_secret_in_the_cache_directory(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    redis_port: int,  # noqa: F811
) -> None:
    """SIGKILL (where CI cancellation ends) runs no clean-up at all; CI then saves the
    cache directory, where a fork's pull request may restore it."""
    root = example_project("setuptools")
    monkeypatch.setenv("CCWHEEL_REMOTE_STORAGE", f"redis://{PASSWORD}@localhost:{redis_port}")
    cache_dir = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ccwheel", "build", "--only", ID, "--cache-dir", str(cache_dir)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not list((cache_dir / ".ccwheel" / "runs").glob(f"*/{ID}.info")):
            assert proc.poll() is None and time.monotonic() < deadline, "no build started"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        # The container a killed cibuildwheel leaves behind: not the cache directory's.
        out = subprocess.run(
            ["docker", "ps", "-a", "--format", "{{.Names}} {{.Mounts}}", "--no-trunc"],
            capture_output=True,
            text=True,
        ).stdout
        for line in out.splitlines():
            if str(cache_dir) in line:
                subprocess.run(["docker", "rm", "-f", line.split()[0]], capture_output=True)
    leaked = [
        path
        for path in cache_dir.rglob("*")
        if path.is_file() and PASSWORD.encode() in path.read_bytes()
    ]
    assert leaked == []
    assert any(cache_dir.iterdir())  # it was used: the run got under way


def test_when_ccwheel_s_files_cannot_be_copied_in_the_wheel_is_still_built(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    ccwheel_build: Callable[..., int],
) -> None:
    """A read-only file system where ccwheel's files go: the copy fails, one line says so,
    and the build runs as plain cibuildwheel would: with the pip frontend too, which
    ccwheel would otherwise run without isolation, after installing the requirements."""
    example_project("setuptools")
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", "pip")
    engine = os.environ["CIBW_CONTAINER_ENGINE"] + " --tmpfs=/opt/ccwheel:ro"
    monkeypatch.setenv("CIBW_CONTAINER_ENGINE", engine)
    report = tmp_path / "r.json"
    code = ccwheel_build(
        tmp_path / "cache", tmp_path / "out", "--only", ID, "--report", str(report)
    )
    assert code == 0
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1
    err = capfd.readouterr().err
    warnings = _warnings(err)
    assert len(warnings) == 1 and "could not be copied into the container" in warnings[0]
    assert "--no-build-isolation" not in err  # the user's options, untouched
    (b,) = _report(report)["builds"]
    assert b["warning"].startswith("ccwheel's files could not be copied into the container")


@pytest.mark.parametrize("missing", ["CCWHEEL_WORK", "CCWHEEL_RUN_DIR", "CCWHEEL_CACHE_LINK"])
def test_setup_touches_nothing_when_its_contract_is_missing(
    missing: str, tmp_path: Path, docker_image: str
) -> None:
    """setup.sh removes directories by the paths it is given: with one missing, it must
    remove nothing (an empty CCWHEEL_WORK once meant `rm -rf /bin`). In a throwaway
    container of the stand-in image, never on the host."""
    from ccwheel.platforms import linux as container

    contract = container.setup_contract(run_name="RUN", identifier="cp311-manylinux_x86_64")
    contract[missing] = ""
    env = [f"--env={k}={v}" for k, v in contract.items()]
    script = "sh /setup.sh; ls -d /bin/sh /usr/bin /tmp >/dev/null && ls / | tr '\\n' ' '"
    done = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            *env,
            f"--volume={container.RESOURCES / 'setup.sh'}:/setup.sh:ro",
            docker_image,
            "sh",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"ccwheel: warning: ccwheel setup: {missing} is not set - building without the cache"
    ]
    listing = set(done.stdout.split())
    assert {"bin", "usr", "tmp"} <= listing and not listing & {
        "local",
        "cp311-manylinux_x86_64.status",
    }
