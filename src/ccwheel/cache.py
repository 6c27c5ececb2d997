"""The host cache directory: what is in it, and getting it ready for a run.

Its layout is declared in layout.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fnmatch
import os
import secrets
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from ccwheel import binaries, config, layout
from ccwheel.buildinfo import BuildInfo
from ccwheel.errors import CacheDirNotDirectoryError, UnsafeCacheDirError

TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
TAG_TEXT = (
    f"{TAG_SIGNATURE}\n"
    "# This file is a cache directory tag created by ccwheel.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
KEEP_RUNS = 10
# Held (locked) by the run's process for as long as it lives.
LOCK_FILE = ".lock"
# Where ccwheel 0.1.0 kept the remote storage URL during a run (see _remove_stale_secrets).
_OLD_REMOTE_FILE = "remote-storage"


class CacheUnusable(Exception):
    """The cache cannot be used this time; the build goes on without it."""


@dataclasses.dataclass
class Run:
    cache_dir: Path
    name: str
    # The open lock file while this process runs it (see open_run).
    lock_fd: int | None = dataclasses.field(default=None, compare=False, repr=False)

    def close(self) -> None:
        """The run is over: release its lock, so that later runs may prune it."""
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    @property
    def dir(self) -> Path:
        return self.cache_dir / layout.RUNS / self.name

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

    def info(self, identifier: str) -> BuildInfo | None:
        """The build's info file (see buildinfo.py), None when it left none."""
        try:
            text = (self.dir / f"{identifier}.info").read_text()
        except OSError:
            return None
        return BuildInfo.parse(text) if "=" in text else None


def warm_marker(cache_dir: Path, identifier: str) -> Path:
    return cache_dir / layout.WARM / identifier


def cold_seconds(marker: Path) -> float | None:
    """The seconds the identifier's cold build took, as its warm marker recorded them
    (None: no marker, or one from before ccwheel recorded them)."""
    try:
        seconds = float(marker.read_text().strip())
    except (OSError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def mark_warm(marker: Path, cold: float | None) -> None:
    """The identifier has filled the cache. `cold`: the seconds of the cold build that
    filled it, recorded for the warm builds after it; None keeps what is recorded."""
    marker.parent.mkdir(parents=True, exist_ok=True)
    if cold is None:
        marker.touch()
    else:
        marker.write_text(f"{cold:.1f}\n")


def record_seconds(cache_dir: Path, identifier: str, seconds: float) -> None:
    """What the identifier's build took this time: the estimate of its next one."""
    path = cache_dir / layout.TIMES / identifier
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{seconds:.1f}\n")


def last_seconds(cache_dir: Path, identifier: str) -> float | None:
    """The seconds the identifier's last finished build took here (None: not recorded)."""
    return cold_seconds(cache_dir / layout.TIMES / identifier)


_last_ns = 0


def new_run_name() -> str:
    """A name that sorts in start order, even for runs started in the same second (the
    nanoseconds; strictly increasing within a process, where the clock is coarse), and
    never repeats (the process id and a random part)."""
    global _last_ns
    now = _last_ns = max(time.time_ns(), _last_ns + 1)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
    return f"{stamp}.{now % 10**9:09d}-{os.getpid()}-{secrets.token_hex(3)}"


# What a lock another process holds fails with (msvcrt: EACCES, or EDEADLOCK).
_HELD = {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK}


def _try_lock(fd: int) -> bool | None:
    """An exclusive lock on an open file, without waiting: False when another holds it,
    None when this file system has no locks (some network mounts)."""
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows hosts
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        return False if e.errno in _HELD else None
    return True


# A run directory without a lock file: one an older ccwheel left, or one being created
# this very moment; only the first kind is old.
_UNLOCKED_GRACE_SECONDS = 3600
# A run directory is created a moment before its run locks it: one this young is never
# taken for finished (it is pruned by a later run).
_NEW_RUN_GRACE_SECONDS = 60


def _older_than(path: Path, seconds: float) -> bool:
    """Last changed more than `seconds` ago (raises OSError when it cannot be read)."""
    return time.time() - path.stat().st_mtime > seconds


def _lock_free(lock: Path) -> bool | None:
    """Whether nobody holds this lock file's lock now (None: this file system has no
    locks). Raises OSError when it cannot be opened."""
    fd = os.open(lock, os.O_RDWR)
    try:
        return _try_lock(fd)
    finally:
        # Released at once: Windows removes no file that is still open.
        os.close(fd)


def _prune_runs(runs_dir: Path, keep: int, own: str) -> None:
    """Delete the oldest finished runs beyond the newest `keep`. A run is live while its
    process holds the lock on its lock file: its setup and the directory its compilers
    write into must stay, however many shorter runs come and go meanwhile."""
    names = sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and p.name != own)
    for name in names[: max(0, len(names) - (keep - 1))]:
        path = runs_dir / name
        try:
            # Nobody takes up a finished run again: once its lock could be had, it is done.
            finished = _lock_free(path / LOCK_FILE)
            grace = _NEW_RUN_GRACE_SECONDS
        except FileNotFoundError:
            finished, grace = True, _UNLOCKED_GRACE_SECONDS
        except OSError:
            continue
        with contextlib.suppress(OSError):
            if finished is True and _older_than(path, grace):
                shutil.rmtree(path, ignore_errors=True)


def others_live(cache_dir: Path, own: str) -> bool:
    """Whether another run is using this cache directory now (holds its run's lock)."""
    try:
        paths = [p for p in (cache_dir / layout.RUNS).iterdir() if p.name != own]
    except OSError:
        return False
    for path in paths:
        with contextlib.suppress(OSError):
            if _lock_free(path / LOCK_FILE) is False:
                return True
    return False


def open_run(cache_dir: Path, name: str, keep: int = KEEP_RUNS) -> Run:
    """Create the run's directory and hold its lock until `Run.close`; prune old runs
    (all but the `keep` newest).

    Raises CacheUnusable when the directory cannot be created."""
    run = Run(cache_dir, name)
    try:
        run.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(run.dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        run.lock_fd = fd
        # Another run's pruning may hold it for a moment, to see whether it is finished.
        # (Where the file system has no locks, runs are never pruned: nothing to hold.)
        for _ in range(100):
            if _try_lock(fd) is not False:
                break
            time.sleep(0.05)
        else:
            run.close()
            msg = f"cannot lock this run's directory {run.dir}: another process holds it"
            raise CacheUnusable(msg)
        _prune_runs(run.dir.parent, keep, name)
    except OSError as e:
        msg = f"cache directory {cache_dir} is not usable: {e.strerror or e}"
        raise CacheUnusable(msg) from None
    return run


def _owner_only(cache_dir: Path) -> list[str]:
    """What the container writes is world-writable (CCACHE_UMASK=000, so that a non-root
    host user can remove it), so the cache directory itself must keep everybody else out,
    or another local user could plant objects that end up in wheels. Returns a note when
    it fixed the mode; refuses a directory open to others that is not the user's own."""
    if os.name != "posix":
        return []  # pragma: no cover - Windows keeps per-user ACLs on the user cache dir
    st = cache_dir.stat()
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o077:
        return []
    if st.st_uid == os.geteuid():
        cache_dir.chmod(0o700)
        return [f"made the cache directory {cache_dir} owner-only (mode {mode:04o} -> 0700)"]
    raise UnsafeCacheDirError(
        f"the cache directory {cache_dir} belongs to uid {st.st_uid} and is open to other "
        f"users (mode {mode:04o}): its entries are world-writable, so anyone who can enter "
        f"it could plant objects that end up in wheels; use a directory of your own "
        f"(--cache-dir) or have its owner make it owner-only (chmod 700)"
    )


def _remove_stale_secrets(cache_dir: Path) -> None:
    """ccwheel 0.1.0 wrote the remote storage URL into its run directory and removed it
    at the end of a run; a run that was killed left it there."""
    for path in (cache_dir / layout.RUNS).glob(f"*/{_OLD_REMOTE_FILE}"):
        with contextlib.suppress(OSError):
            path.unlink()


def check_is_directory(cache_dir: Path) -> None:
    """The user named this directory: a file there (or in its path) is a mistake to tell
    before anything runs (exit 2), not a reason to build without the cache."""
    path = cache_dir.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    if path.exists() and not path.is_dir():
        where = "is a file" if path == cache_dir.absolute() else f"is inside a file ({path})"
        msg = f"--cache-dir {cache_dir}: {where}, not a directory"
        raise CacheDirNotDirectoryError(msg)


def prepare(cache_dir: Path) -> list[str]:
    """Create or check the cache directory; returns notes for the user.

    Raises CacheUnusable with a one-line reason when the directory cannot serve as a cache
    (the build goes on without it), UnsafeCacheDirError when using it would be unsafe.
    Safe for runs that start at once on a new directory (a matrix sharing one cache): the
    tag appears whole or not at all, and what another run is writing is not "foreign"."""
    check_is_directory(cache_dir)
    try:
        # Another tool's tagged cache (cibuildwheel's, say) is not ours to write into either.
        if _has_foreign_entries(cache_dir) and not is_ours(cache_dir):
            msg = (
                f"{cache_dir} exists, is not empty and is not a ccwheel cache "
                f"(no CACHEDIR.TAG written by ccwheel); choose another --cache-dir"
            )
            raise CacheUnusable(msg)
        cache_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        notes = _owner_only(cache_dir)
        tag = cache_dir / "CACHEDIR.TAG"
        if not tag.exists():
            partial = cache_dir / f"{_PARTIAL_TAG}{secrets.token_hex(4)}"
            try:
                partial.write_text(TAG_TEXT)
                partial.replace(tag)
            except OSError:
                # Windows replaces no file another run has open (reading the tag it
                # just wrote): that run's tag is as good as ours.
                if not is_ours(cache_dir):
                    raise
            finally:
                with contextlib.suppress(OSError):
                    partial.unlink(missing_ok=True)
        (cache_dir / layout.DATA).mkdir(exist_ok=True)
        _remove_stale_secrets(cache_dir)
        _remove_stale_partial_tags(cache_dir)
    except OSError as e:
        msg = f"cache directory {cache_dir} is not usable: {e.strerror or e}"
        raise CacheUnusable(msg) from None
    return notes


# A tag being written by a run that started at the same moment.
_PARTIAL_TAG = ".CACHEDIR.TAG.partial-"


def _remove_stale_partial_tags(cache_dir: Path) -> None:
    """What a run killed while it wrote the tag left (a minute is ample for one write)."""
    for path in cache_dir.glob(f"{_PARTIAL_TAG}*"):
        with contextlib.suppress(OSError):
            if _older_than(path, _NEW_RUN_GRACE_SECONDS):
                path.unlink()


def _has_foreign_entries(cache_dir: Path) -> bool:
    if not cache_dir.exists():
        return False
    return any(not p.name.startswith(_PARTIAL_TAG) for p in cache_dir.iterdir())


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
    if others_live(cache_dir, ""):
        # Its builds compile into it, and a host build's environment lives in it.
        msg = f"a ccwheel run is using {cache_dir} now; empty it once that run has ended"
        raise CacheUnusable(msg)
    removed = 0
    for entry in cache_dir.iterdir():
        if entry.name == "CACHEDIR.TAG":
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as e:
            # Files a container's root left that way (a build that failed before ccwheel
            # made them yours): the next run's containers fix them, or remove as root.
            msg = f"cannot remove {e.filename or entry}: {e.strerror or e}"
            raise CacheUnusable(msg) from None
        removed += 1
    return removed


def runs(cache_dir: Path) -> list[Run]:
    """The runs kept in the cache directory, newest first."""
    try:
        names = sorted(
            (p.name for p in (cache_dir / layout.RUNS).iterdir() if p.is_dir()),
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
    binary = binaries.host_binary()
    if binary is None or not (cache_dir / layout.DATA).is_dir():
        return
    env = {
        "CCACHE_DIR": str(cache_dir / layout.DATA),
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


# The download cache (pip's and uv's, under downloads/) is kept under this share of the
# ccache size cap, on top of it.
DOWNLOADS_SHARE = 0.2


def _walk(path: Path) -> tuple[int, int, float]:
    """(bytes, files, when anything last changed) of the regular files under `path`, in
    one walk; what cannot be read does not count."""
    size = files = 0
    newest = 0.0
    for root, _dirs, names in os.walk(path):
        for name in (".", *names):  # every directory is a root once
            with contextlib.suppress(OSError):
                st = (Path(root) / name).lstat()
                newest = max(newest, st.st_mtime)
                if name != "." and stat.S_ISREG(st.st_mode):
                    size += st.st_size
                    files += 1
    return size, files, newest


def publish_downloads(cache_dir: Path, own: Path, kept_apart: tuple[str, ...]) -> None:
    """At a run's end: what the run's pip and uv added to their cache roots `own` (real
    directories; setup.sh linked what the shared cache had) moves to the shared cache under
    `cache_dir`/downloads, but not what matches a `kept_apart` glob ("uv/sdists-v*"), nor
    what another run moved there first (a rename is refused onto a directory that has
    something in it, so the two never mix). The rest of `own`, this run's alone, goes."""
    shared = cache_dir / layout.DOWNLOADS
    with contextlib.suppress(OSError):
        for tool in own.iterdir():
            for entry in tool.iterdir():
                name = f"{tool.name}/{entry.name}"
                if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
                    continue
                if any(fnmatch.fnmatchcase(name, pattern) for pattern in kept_apart):
                    continue
                with contextlib.suppress(OSError):
                    (shared / tool.name).mkdir(parents=True, exist_ok=True)
                    entry.rename(shared / name)
    shutil.rmtree(own, ignore_errors=True)


def trim_downloads(cache_dir: Path, max_size: str, stale: tuple[str, ...] = ()) -> str | None:
    """Keep the download cache under DOWNLOADS_SHARE of `max_size`. pip's and uv's caches
    have structures of their own, so a cache over the cap goes whole (the least recently
    changed first), never file by file. What matches a `stale` glob goes first (what pip
    and uv built from sdists, kept there by ccwheel before 0.3.0, and never used since).
    Only while no other run is live. The reason, when it cannot."""
    downloads = cache_dir / layout.DOWNLOADS
    for pattern in stale:
        for path in downloads.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
    cap = config.size_bytes(max_size)
    if cap is None or not downloads.is_dir():
        return None
    walked = {p: _walk(p) for p in downloads.iterdir() if p.is_dir()}
    parts = sorted(walked, key=lambda p: walked[p][2])
    sizes = {p: walked[p][0] for p in parts}
    total = sum(sizes.values())
    for part in parts:
        if total <= cap * DOWNLOADS_SHARE:
            break
        try:
            shutil.rmtree(part)
        except OSError as e:
            return f"cannot trim the download cache {part}: {e.strerror or e}"
        total -= sizes[part]
    return None


def usage(cache_dir: Path) -> tuple[int, int]:
    """(bytes, files) that ccache stores in the cache directory, in one walk."""
    size, files, _ = _walk(cache_dir / layout.DATA)
    return size, files
