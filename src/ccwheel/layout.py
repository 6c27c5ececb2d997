"""Every directory's name in the cache directory and in ccwheel's work directories,
declared once (the files of one build in a run's directory are cache.Run's).

The host joins them to its paths (cache.py, binaries.py, platforms/host.py). A container's
setup.sh spells none of them: it gets every path it uses from the variables of
platforms/linux.py's setup_contract, which are made from these.

The cache directory (mounted at /ccache in every build container):
    CACHEDIR.TAG            marks it as a cache (backup tools skip it; `cache clean` checks it)
    data/                   ccache's own directory (CCACHE_DIR)
    downloads/pip, uv       pip's and uv's caches, shared by every run (cache.trim_downloads)
    .ccwheel/runs/RUN/      one run: its lock, and per build its stats log, status and info;
                            downloads/ the cache roots of its pip and uv (publish_downloads)
    .ccwheel/warm/ID        this build identifier has filled this cache before; holds the
                            seconds its cold build took (what a warm build saved is against it)
    .ccwheel/times/ID       the seconds the identifier's last finished build took (how
                            `--jobs` splits the identifiers so its groups finish together)
    .ccwheel/bin/ARCH/      the Linux ccache ccwheel downloaded for ARCH, kept
    .ccwheel/work/          the host builds' work directory (platforms/host.py)

A work directory (the host's, and /tmp/ccwheel in a container) holds what tools would put
under a random temporary name that then lands on the compile line; FRESH is what every
build starts without.
"""

from __future__ import annotations

from pathlib import PurePosixPath

DATA = PurePosixPath("data")
DOWNLOADS = PurePosixPath("downloads")
STATE = PurePosixPath(".ccwheel")
RUNS = STATE / "runs"
WARM = STATE / "warm"
TIMES = STATE / "times"
KEPT_BINARIES = STATE / "bin"
HOST_WORK = STATE / "work"
# Under a run's directory: the cache roots its pip and uv use.
RUN_DOWNLOADS = "downloads"

# In a work directory: the compilers' masquerade links, the isolated build environment,
# scikit-build-core's and meson-python's build directories.
LINKS = "bin"
ENV_DIR = "build-env"
SKBUILD_DIR = "skbuild"
MESONPY_DIR = "mesonpy"
FRESH = (LINKS, ENV_DIR, SKBUILD_DIR, MESONPY_DIR)

# ccwheel's tools as copied into a container: TOOLS_BIN/ARCH/ccache per architecture, or
# TOOLS_BIN/NO_BINARY saying why there is none (binaries.stage, binaries.no_binary).
TOOLS_BIN = "bin"
NO_BINARY = "unavailable"
