"""Composition with the user's cibuildwheel configuration, through cibuildwheel's own option
resolution (pyproject, overrides, CIBW_* variables), without starting a container."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from pathlib import Path

import pytest
from conftest import end_build

from ccwheel import cibw, config, platforms, run
from ccwheel.errors import ConfigError
from ccwheel.platforms import common
from ccwheel.platforms import linux as container

ID = "cp311-manylinux_x86_64"
ID312 = "cp312-manylinux_x86_64"


def _composer(tmp_path: Path, **kw: object) -> cibw.Composer:
    def compose(view: platforms.BuildView) -> platforms.Injection:
        options: dict[str, object] = {
            "host_cache_dir": tmp_path / "cache",
            "run_name": "RUN",
            "max_size": "5G",
            "selinux_relabel": False,
            "stable_build_env": "auto",
            "backend": platforms.read_backend(view.package_dir),
        }
        options.update(kw)
        return container.plan(view, **options)  # type: ignore[arg-type]

    return compose


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [tool.cibuildwheel]
        before-build = "echo user-before"
        before-all = "echo user-all"
        environment = { USER_VAR = "u", CCACHE_MAXSIZE = "9G" }
        build-frontend = { name = "build", args = ["--verbose"] }
        repair-wheel-command = "user-repair {wheel} {dest_dir}"
        container-engine = { name = "docker", create-args = ["--network=host"] }

        [[tool.cibuildwheel.overrides]]
        select = "cp312-*"
        environment = { USER_VAR = "override" }
        """)
    )
    return root


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """A project with nothing of its own to compose with (setuptools, no configuration)."""
    root = tmp_path / "plain"
    root.mkdir()
    (root / "setup.py").write_text("")
    return root


def test_user_settings_survive_and_ccwheel_adds_its_own(project: Path, tmp_path: Path) -> None:
    r = cibw.resolved(project, ID, {}, _composer(tmp_path))
    assert r.environment[:2] == ['USER_VAR="u"', 'CCACHE_MAXSIZE="9G"']
    added = dict(a.split("=", 1) for a in r.environment[2:])
    assert added["PATH"] == '"/tmp/ccwheel/bin:$PATH"'
    assert added["CCACHE_DIR"] == "/tmp/ccwheel/cache/data"
    assert added["CCACHE_BASEDIR"] == "/project:/tmp"
    assert added["CCACHE_NOHASHDIR"] == "1"
    assert "CCACHE_MAXSIZE" not in added  # the user's own value wins
    assert r.build_env["CCACHE_STATSLOG"] == f"/tmp/ccwheel/cache/.ccwheel/runs/RUN/{ID}.stats"
    # Nothing the build needs lives in the mount: the setup step was copied into the
    # container, and a failure to run it is one warning, never the end of the build.
    assert r.before_build == (
        "if [ -r /opt/ccwheel/setup.sh ]; then sh /opt/ccwheel/setup.sh || true; fi; "
        "echo user-before"
    )
    assert r.before_all == "echo user-all"  # untouched: it decides container grouping
    assert r.frontend == "build"
    assert r.frontend_args == ["--verbose", "--env-dir=/tmp/ccwheel/build-env"]
    assert r.create_args == ["--network=host", f"--volume={tmp_path / 'cache'}:/ccache"]
    assert r.repair_command == "user-repair {wheel} {dest_dir}"


def test_overrides_still_apply_per_identifier(project: Path, tmp_path: Path) -> None:
    r = cibw.resolved(project, ID312, {}, _composer(tmp_path))
    assert r.environment[0] == 'USER_VAR="override"'
    # ccwheel's own part is the same for every build (cibuildwheel prints it once); what
    # names the build goes to its commands.
    assert not any(ID312 in a for a in r.environment)
    assert r.build_env["CCACHE_STATSLOG"].endswith(f"/{ID312}.stats")
    assert r.build_env["CCWHEEL_IDENTIFIER"] == ID312


def test_cibw_variables_still_apply(project: Path, tmp_path: Path) -> None:
    env = {"CIBW_BEFORE_BUILD": "echo from-env", "CIBW_BUILD_FRONTEND": "pip"}
    r = cibw.resolved(project, ID, env, _composer(tmp_path))
    assert r.before_build.endswith("; echo from-env")
    assert r.frontend == "pip"
    # pip has no --env-dir: the frontend command runs through frontend.py (fixed-env).
    assert r.frontend_args == []
    assert r.build_env["CCWHEEL_ISOLATION"] == "fixed-env"


def test_without_ccwheel_nothing_changes(plain: Path, project: Path, tmp_path: Path) -> None:
    plain = cibw.resolved(project, ID, {})
    assert plain.before_build == "echo user-before"
    assert plain.create_args == ["--network=host"]
    assert plain.environment == ['USER_VAR="u"', 'CCACHE_MAXSIZE="9G"']


def test_selinux_relabel(project: Path, tmp_path: Path) -> None:
    r = cibw.resolved(project, ID, {}, _composer(tmp_path, selinux_relabel=True))
    assert r.create_args[-1].endswith(":/ccache:z")


def test_user_chosen_isolation_is_left_alone(project: Path, tmp_path: Path) -> None:
    env = {"CIBW_BUILD_FRONTEND": "build; args: --no-isolation"}
    r = cibw.resolved(project, ID, env, _composer(tmp_path))
    assert r.frontend_args == ["--no-isolation"]


def test_env_dir_needs_the_build_frontend(project: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the 'build' frontend"):
        cibw.resolved(
            project,
            ID,
            {"CIBW_BUILD_FRONTEND": "pip"},
            _composer(tmp_path, stable_build_env="env-dir"),
        )


def test_off_leaves_the_frontend_alone(project: Path, tmp_path: Path) -> None:
    r = cibw.resolved(project, ID, {}, _composer(tmp_path, stable_build_env="off"))
    assert r.frontend_args == ["--verbose"]


def test_backend_build_dirs(tmp_path: Path) -> None:
    sk = tmp_path / "sk"
    sk.mkdir()
    (sk / "pyproject.toml").write_text(
        '[build-system]\nrequires=["scikit-build-core"]\nbuild-backend="scikit_build_core.build"\n'
    )
    r = cibw.resolved(sk, ID, {}, _composer(tmp_path))
    assert "SKBUILD_BUILD_DIR=/tmp/ccwheel/skbuild" in r.environment
    # A build-dir the user set themselves wins.
    (sk / "pyproject.toml").write_text(
        (sk / "pyproject.toml").read_text()
        + '[tool.scikit-build]\nbuild-dir = "build/{wheel_tag}"\n'
    )
    r = cibw.resolved(sk, ID, {}, _composer(tmp_path))
    assert not any(a.startswith("SKBUILD_BUILD_DIR") for a in r.environment)

    meson = tmp_path / "meson"
    meson.mkdir()
    (meson / "pyproject.toml").write_text(
        '[build-system]\nrequires=["meson-python"]\nbuild-backend="mesonpy"\n'
    )
    r = cibw.resolved(meson, ID, {}, _composer(tmp_path))
    assert r.config_settings == "build-dir=/tmp/ccwheel/mesonpy"
    # The user's own build directory, in either of meson-python's spellings, given to
    # cibuildwheel or to the frontend: ccwheel adds none (meson-python refuses two).
    for env in (
        {"CIBW_CONFIG_SETTINGS": "builddir=mine"},
        {"CIBW_CONFIG_SETTINGS": "setup-args=-Dx=1 build-dir=mine"},
        {"CIBW_BUILD_FRONTEND": "build; args: -Cbuild-dir=mine"},
        {"CIBW_BUILD_FRONTEND": "build; args: -C builddir=mine"},
        {"CIBW_BUILD_FRONTEND": "pip; args: --config-settings build-dir=mine"},
        {"CIBW_BUILD_FRONTEND": "pip; args: --config-settings=builddir=mine"},
        {"CIBW_BUILD_FRONTEND": "build; args: -C=build-dir=mine"},
        # pypa/build refuses -C beside --config-json: no config setting of ccwheel's then.
        {"CIBW_BUILD_FRONTEND": """build; args: --config-json '{"setup-args": ["-Dx=1"]}'"""},
    ):
        r = cibw.resolved(meson, ID, env, _composer(tmp_path))
        assert "mesonpy" not in r.config_settings, env
    # A setting that only mentions the words is no build directory.
    r = cibw.resolved(
        meson, ID, {"CIBW_CONFIG_SETTINGS": "setup-args=-Dbuilddir=x"}, _composer(tmp_path)
    )
    assert r.config_settings.endswith("build-dir=/tmp/ccwheel/mesonpy")


def test_older_pythons_get_an_environment_of_ccwheel_s_own_instead_of_env_dir(
    project: Path, tmp_path: Path
) -> None:
    """pypa/build's --env-dir needs Python >= 3.10; cp39 must not get it."""
    r = cibw.resolved(project, "cp39-manylinux_x86_64", {}, _composer(tmp_path))
    assert r.frontend == "build"
    assert r.frontend_args == ["--verbose"]
    assert r.build_env["CCWHEEL_ISOLATION"] == "fixed-env"
    # Asked for explicitly, no-isolation keeps the frontend's own switch.
    r = cibw.resolved(
        project, "cp39-manylinux_x86_64", {}, _composer(tmp_path, stable_build_env="no-isolation")
    )
    assert r.frontend_args == ["--verbose", "--no-isolation"]
    assert r.build_env["CCWHEEL_ISOLATION"] == "no-isolation"
    with pytest.raises(ConfigError, match=r"Python >= 3\.10"):
        cibw.resolved(
            project, "cp39-manylinux_x86_64", {}, _composer(tmp_path, stable_build_env="env-dir")
        )


def test_python_version_of_identifiers() -> None:
    assert common.python_version("cp311-manylinux_x86_64") == (3, 11)
    assert common.python_version("pp310-manylinux_x86_64") == (3, 10)
    assert common.python_version("cp39-musllinux_aarch64") == (3, 9)
    assert common.python_version("gp311_242-manylinux_x86_64") == (3, 11)  # GraalPy


def test_remote_storage_reaches_the_container_without_its_url(
    project: Path, tmp_path: Path
) -> None:
    """The engine copies the URL from ccwheel's own environment (`--env NAME`): neither
    an assignment that cibuildwheel prints nor a file in the cache directory holds it.
    The project's own --network=host stays."""
    secret = "redis://s3cret@127.0.0.1:6379"
    r = cibw.resolved(project, ID, {}, _composer(tmp_path, remote=secret))
    assert not any("s3cret" in a for a in r.environment)
    assert 'CCACHE_REMOTE_STORAGE="$_CCWHEEL_REMOTE_STORAGE"' in r.environment
    assert r.create_args == [
        "--network=host",
        f"--volume={tmp_path / 'cache'}:/ccache",
        "--env=_CCWHEEL_REMOTE_STORAGE",
    ]


def test_the_remote_url_is_in_ccwheel_s_environment_only_during_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a name of ccwheel's own: a user's CIBW_ENVIRONMENT_PASS_LINUX naming
    CCACHE_REMOTE_STORAGE (from the hand-made recipe) would have cibuildwheel print it."""
    name = container.REMOTE_ENV
    assert name.startswith("_") and not name.startswith("CCACHE_")
    monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CCACHE_REMOTE_STORAGE", raising=False)
    settings = config.Settings(remote_storage="redis://pw@localhost", remote_read_only=True)
    with run.process.remote_in_environment(
        settings.remote_storage, settings.remote_read_only, run.REMOTE_ENV
    ):
        assert os.environ[name] == "redis://pw@localhost|read-only"
        assert "CCACHE_REMOTE_STORAGE" not in os.environ
    assert name not in os.environ
    monkeypatch.setenv(name, "theirs")
    with pytest.raises(RuntimeError), run.process.remote_in_environment(
        settings.remote_storage, settings.remote_read_only, run.REMOTE_ENV
    ):
        raise RuntimeError
    assert os.environ[name] == "theirs"


@pytest.mark.parametrize("flag", ["remote", "remote_read_only"])
def test_ccwheel_s_remote_settings_on_top_of_the_user_s_own_url_are_refused(
    plain: Path, flag: str, tmp_path: Path
) -> None:
    """Theirs would win, and ccwheel's URL or read-only marking would silently not apply."""
    env = {"CIBW_ENVIRONMENT": "CCACHE_REMOTE_STORAGE=redis://w:WRITEPW@h"}
    value: object = "redis://r:READPW@h" if flag == "remote" else True
    with pytest.raises(ConfigError, match="cannot apply to the CCACHE_REMOTE_STORAGE") as e:
        cibw.resolved(plain, ID, env, _composer(tmp_path, **{flag: value}))
    assert "PW" not in str(e.value)
    # Alone, theirs is used as it is.
    r = cibw.resolved(plain, ID, env, _composer(tmp_path))
    assert r.environment[0] == "CCACHE_REMOTE_STORAGE=redis://w:WRITEPW@h"


def test_a_user_hashdir_wins_over_ccwheel_s_nohashdir(plain: Path, tmp_path: Path) -> None:
    r = cibw.resolved(plain, ID, {"CIBW_ENVIRONMENT": "CCACHE_HASHDIR=1"}, _composer(tmp_path))
    assert r.values["CCACHE_HASHDIR"] == "1" and "CCACHE_NOHASHDIR" not in r.values
    r = cibw.resolved(plain, ID, {}, _composer(tmp_path))
    assert r.values["CCACHE_NOHASHDIR"] == "1"


def test_values_reach_the_build_exactly_whatever_they_contain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibuildwheel evaluates assignments like bash: a package directory with spaces,
    quotes or $ and a frontend name with brackets must arrive unchanged."""
    odd = tmp_path / "it's a $HOME [dir]"
    odd.mkdir()
    (odd / "setup.py").write_text("")
    monkeypatch.chdir(tmp_path)  # the project; the package is a directory in it
    env = {"CIBW_BUILD_FRONTEND": "build[uv]"}
    composer = _composer(tmp_path, host_cache_dir=tmp_path / "my cache $x")
    r = cibw.resolved(odd, ID, env, composer)
    # The contract reaches the build's commands as values, past any evaluation.
    assert r.build_env["CCWHEEL_PACKAGE"] == "/project/it's a $HOME [dir]"
    assert r.build_env["CCWHEEL_FRONTEND"] == "build[uv]"
    assert r.build_env["CCWHEEL_HOST_CACHE_DIR"] == str(tmp_path / "my cache $x")
    assert r.values["PATH"] == "/tmp/ccwheel/bin:/usr/bin"


@pytest.mark.parametrize(
    "create_args",
    [
        "-v /home/me/.ccache:/ccache",
        "--volume=/home/me/.ccache:/ccache:rw",
        "--volume /x:/ccache/",
        "-v/x:/ccache",
        "--mount type=bind,source=/x,target=/ccache",
        "--mount=type=bind,src=/x,dst=/ccache,readonly",
        '--mount "type=bind,src=/x,target=/ccache"',
        "--tmpfs /ccache",
        "--tmpfs=/ccache:rw,size=1g",
        r"-v C:\\cache:/ccache",
        "-v /x://ccache",
        "-v /x:/ccache/../ccache",
    ],
)
def test_a_mount_of_the_user_s_own_at_ccache_is_refused_before_any_container(
    plain: Path, create_args: str, tmp_path: Path
) -> None:
    env = {"CIBW_CONTAINER_ENGINE": f"docker; create_args: {create_args}"}
    with pytest.raises(ConfigError, match="already mount something at /ccache") as e:
        cibw.resolved(plain, ID, env, _composer(tmp_path))
    assert "remove that mount" in str(e.value) and e.value.exit_code == 2


def test_other_mounts_are_fine(plain: Path, tmp_path: Path) -> None:
    args = "-v /x:/ccache2 --volume=/ccache:/elsewhere --mount type=bind,source=/ccache,target=/y"
    env = {"CIBW_CONTAINER_ENGINE": f"docker; create_args: {args}"}
    r = cibw.resolved(plain, ID, env, _composer(tmp_path))
    assert r.create_args[-1] == f"--volume={tmp_path / 'cache'}:/ccache"


def test_selinux_is_relabelled_by_default_where_it_is_enforcing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enforce = tmp_path / "enforce"
    monkeypatch.setattr(container, "SELINUX_ENFORCE", enforce)
    assert container.selinux_relabel(None) is False  # no SELinux at all
    enforce.write_text("0\n")
    assert container.selinux_relabel(None) is False  # permissive
    enforce.write_text("1\n")
    assert container.selinux_relabel(None) is True
    assert container.selinux_relabel(False) is False
    enforce.unlink()
    assert container.selinux_relabel(True) is True


def test_loopback_remote_storage_gets_the_host_network(plain: Path, tmp_path: Path) -> None:
    local = cibw.resolved(plain, ID, {}, _composer(tmp_path, remote="redis://localhost:6379"))
    assert local.create_args[-1] == "--network=host"
    far = cibw.resolved(plain, ID, {}, _composer(tmp_path, remote="http://cache.example:8080"))
    assert not any(a.startswith("--network") for a in far.create_args)


def test_podman_gets_the_same_additions(plain: Path, tmp_path: Path) -> None:
    """podman takes the same create-args as docker; SELinux hosts (Fedora, RHEL), where
    podman is common, need the :z relabel."""
    env = {"CIBW_CONTAINER_ENGINE": "podman; create_args: --userns=keep-id"}
    composer = _composer(tmp_path, selinux_relabel=True, remote="redis://localhost:6379")
    r = cibw.resolved(plain, ID, env, composer)
    assert r.engine == "podman"
    assert r.create_args == [
        "--userns=keep-id",
        f"--volume={tmp_path / 'cache'}:/ccache:z",
        "--env=_CCWHEEL_REMOTE_STORAGE",
        "--network=host",
    ]


def test_no_depend_mode_unless_the_user_asks_for_it(plain: Path, tmp_path: Path) -> None:
    """Depend mode would skip the preprocessed lookup that still hits when a generated
    source differs only in comments or line markers: ccwheel leaves it off (and asks the
    compiler for no dependency file); a user's own CCACHE_DEPEND is kept."""
    r = cibw.resolved(plain, ID, {}, _composer(tmp_path))
    assert not any(
        a.startswith(("CCACHE_DEPEND", "CCACHE_NODEPEND", "CPPFLAGS")) for a in r.environment
    )
    env = {"CIBW_ENVIRONMENT": "CCACHE_DEPEND=1"}
    r = cibw.resolved(plain, ID, env, _composer(tmp_path))
    assert [a for a in r.environment if "DEPEND" in a] == ["CCACHE_DEPEND=1"]


def test_the_frontend_command_runs_through_frontend_py_only_in_composed_builds() -> None:
    """cibuildwheel's own command shapes (linux.py), with paths as it passes them."""
    from pathlib import PurePosixPath

    script = {"CCWHEEL_FRONTEND_SCRIPT": "/opt/ccwheel/frontend.py"}
    composed = {"CCWHEEL_ISOLATION": "fixed-env", **script}
    pip = ["python", "-m", "pip", "wheel", PurePosixPath("/project"), "--no-deps"]
    build = ["python", "-m", "build", PurePosixPath("/project"), "--wheel"]
    uv = ["uv", "build", "--python=/opt/python/cp312-cp312/bin/python", "/project"]
    for cmd in (pip, build, uv):
        assert common.frontend_command(cmd, composed) == [
            "python",
            "/opt/ccwheel/frontend.py",
            *cmd,
        ]
    for mode in ("env-dir", "no-isolation"):
        assert common.frontend_command(build, {"CCWHEEL_ISOLATION": mode, **script})
    # On the host, uv by its full path (macos.py, windows.py).
    for path in ("/opt/homebrew/bin/uv", r"C:\tools\uv.exe"):
        assert common.frontend_command([path, "build", "."], composed) is not None
    assert common.frontend_command(["/bin/uvx", "build"], composed) is None
    # Without the script's path, nothing to run.
    assert common.frontend_command(pip, {"CCWHEEL_ISOLATION": "fixed-env"}) is None
    # Not composed (plain cibuildwheel, a copy that failed, or 'off'): untouched.
    assert common.frontend_command(pip, {}) is None
    assert common.frontend_command(pip, None) is None
    assert common.frontend_command(pip, {"CCWHEEL_ISOLATION": "off"}) is None
    # Every other command of a build, too.
    assert common.frontend_command(["python", "-m", "pip", "install", "x"], composed) is None
    assert common.frontend_command(["sh", "-c", "python -m build"], composed) is None


def test_the_user_s_own_download_caches_win(plain: Path, tmp_path: Path) -> None:
    env = {"CIBW_ENVIRONMENT": "PIP_CACHE_DIR=/mine UV_NO_CACHE=1"}
    r = cibw.resolved(plain, ID, env, _composer(tmp_path))
    assert [a for a in r.environment if a.startswith("PIP_CACHE_DIR")] == ["PIP_CACHE_DIR=/mine"]
    # Theirs says no cache: uv's cache directory is set, and uv ignores it.
    assert any(
        a.startswith("UV_CACHE_DIR=/tmp/ccwheel/cache/.ccwheel/runs/")
        and a.endswith("/downloads/uv")
        for a in r.environment
    ), r.environment


def test_each_command_of_a_composed_build_gets_what_names_it(
    plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibw.py gives the build's statistics log, identifier and isolation mode
    (Injection.build_env) to
    every command of the build that runs now, in a copy of cibuildwheel's environment:
    not to commands of no build (the next container's before-all) nor to those of a build
    ccwheel did not compose."""
    import cibuildwheel.__main__ as cibw_main
    from cibuildwheel.logger import log
    from cibuildwheel.oci_container import OCIContainer
    from cibuildwheel.options import CommandLineArguments

    seen: list[tuple[list[str], object]] = []

    def record(container: object, args: list[str], *a: object, **kw: object) -> str:
        seen.append((list(args), kw.get("env", a[0] if a else None)))
        return ""

    monkeypatch.setattr(OCIContainer, "call", record)
    args = dataclasses.replace(CommandLineArguments.defaults(), package_dir=plain, platform="linux")
    monkeypatch.chdir(plain)
    with cibw._hooks(cibw.Hooks(compose=_composer(tmp_path))):
        options = cibw_main.compute_options(platform="linux", command_line_arguments=args, env={})
        env = options.build_options(ID312).environment.as_dictionary({"PATH": "/usr/bin"})
        mine = {"PATH": "/usr/bin"}
        OCIContainer.call(object(), ["before-all"], env=env)  # before any build: nothing
        log.build_start(ID312)
        OCIContainer.call(object(), ["by-name"], env=env)
        OCIContainer.call(object(), ["in-place"], env, True)
        OCIContainer.call(object(), ["not-ours"], env=mine)
        OCIContainer.call(object(), ["no-env"])
        end_build()
        OCIContainer.call(object(), ["after"], env=env)
    added = dict(cibw.resolved(plain, ID312, {}, _composer(tmp_path)).build_env)
    assert added["CCACHE_STATSLOG"] == f"/tmp/ccwheel/cache/.ccwheel/runs/RUN/{ID312}.stats"
    # (env-dir with pypa/build, cibuildwheel's default frontend from 3.0; fixed-env with pip)
    assert added["CCWHEEL_IDENTIFIER"] == ID312 and added["CCWHEEL_ISOLATION"]
    assert seen == [
        (["before-all"], env),
        (["by-name"], {**env, **added}),
        (["in-place"], {**env, **added}),
        (["not-ours"], {"PATH": "/usr/bin"}),
        (["no-env"], None),
        (["after"], env),
    ]
    assert "CCWHEEL_IDENTIFIER" not in env  # cibuildwheel's own dict is left as it was


@pytest.mark.parametrize("platform", ["macos", "linux"])
def test_cibuildwheel_s_run_directory_is_the_one_ccwheel_gives(
    platform: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibuildwheel's `mkdtemp(prefix="cibw-run-")`, as its __main__ calls it (2.x-4.x): the
    directory ccwheel gives for the run's platform, or cibuildwheel's own random one when
    it gives none; any other temporary directory is cibuildwheel's own."""
    import types

    import cibuildwheel.__main__ as cibw_main

    original = cibw_main.mkdtemp
    fixed = tmp_path / "work" / "cibw-run"
    asked: list[str] = []

    def run_directory(name: str) -> Path | None:
        asked.append(name)
        return fixed if name == "macos" else None

    options = types.SimpleNamespace(platform=platform, build_options=lambda _i: None)
    monkeypatch.setattr(cibw_main, "compute_options", lambda *_a, **_k: options)
    with cibw._hooks(cibw.Hooks(compose=lambda _v: None, run_directory=run_directory)):
        cibw_main.compute_options()
        run_dir = Path(cibw_main.mkdtemp(prefix="cibw-run-"))
        sdist = Path(cibw_main.mkdtemp(prefix="cibw-sdist-"))
    assert asked == [platform]
    assert (run_dir == fixed) is (platform == "macos")
    assert sdist.name.startswith("cibw-sdist-") and sdist.parent != fixed.parent
    assert cibw_main.mkdtemp is original


def test_every_internal_ccwheel_hooks_is_there_as_assumed() -> None:
    """Each attribute cibw.py patches or calls, with the parameters it relies on, on the
    installed cibuildwheel (`nox -s cibuildwheel` runs this against every line)."""
    assert cibw.missing_seams() == []


def test_a_moved_internal_is_named() -> None:
    import cibuildwheel.logger

    saved = cibw.SEAMS
    try:
        cibw.SEAMS = (*saved, ("cibuildwheel.logger", "log.no_such_step", ()))
        assert [m.split(":")[0] for m in cibw.missing_seams()] == [
            "cibuildwheel.logger.log.no_such_step"
        ]
        cibw.SEAMS = (("cibuildwheel.logger", "log.build_start", ("name",)),)
        assert cibw.missing_seams() == ["cibuildwheel.logger.log.build_start: no parameter 'name'"]
    finally:
        cibw.SEAMS = saved
    assert cibuildwheel.logger.log is not None


def test_the_hooks_undo_every_patch() -> None:
    """After the run, cibuildwheel is as it was: the class attributes restored, the
    instance ones dropped (so `log`'s methods are its class's again)."""
    import cibuildwheel.__main__ as cibw_main
    from cibuildwheel.logger import log
    from cibuildwheel.oci_container import OCIContainer

    def patched() -> list[object]:
        return [
            cibw_main.compute_options,
            cibw_main.mkdtemp,
            OCIContainer.__enter__,
            OCIContainer.__exit__,
            OCIContainer.call,
            *(m.call for m in cibw._host_modules()),
        ]

    before = patched()
    with cibw._hooks(cibw.Hooks(compose=lambda _v: None)):
        during = patched()
        assert all(a is not b for a, b in zip(before, during)), during
        assert "build_start" in vars(log)
    assert patched() == before
    assert "build_start" not in vars(log) and "build_end" not in vars(log)


@pytest.mark.parametrize(
    ("error", "finished"),
    [("RuntimeError", True), ("NonPlatformWheelError", True), ("KeyboardInterrupt", False)],
)
def test_a_build_that_fails_in_its_container_still_runs_its_finishing_step(
    error: str, finished: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibuildwheel ends a failed build with no build_end, raising an Exception (a failed
    command) or one of its own errors (BaseExceptions) inside the container's `with`: the
    finishing step runs there, then cibuildwheel's own exit. Not when the user stops it."""
    import cibuildwheel.errors
    from cibuildwheel.oci_container import OCIContainer

    calls: list[object] = []
    monkeypatch.setattr(OCIContainer, "__enter__", lambda self: self)
    monkeypatch.setattr(OCIContainer, "__exit__", lambda self, *a: calls.append("exit"))
    monkeypatch.setattr(OCIContainer, "call", lambda self, args, *a, **kw: calls.append(args))
    exc = getattr(cibuildwheel.errors, error, None) or __builtins__[error]  # type: ignore[index]
    hooks = cibw.Hooks(compose=lambda _v: None, after_build=lambda: ["finish"])
    with cibw._hooks(hooks), pytest.raises(exc), OCIContainer.__new__(OCIContainer):
        raise exc.__new__(exc)
    assert calls == ([["finish"]] if finished else []) + ["exit"]


def test_an_interrupt_during_the_finishing_step_still_removes_the_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cibuildwheel.oci_container import OCIContainer

    calls: list[object] = []

    def call(self: object, args: object, *a: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(OCIContainer, "__enter__", lambda self: self)
    monkeypatch.setattr(OCIContainer, "__exit__", lambda self, *a: calls.append("exit"))
    monkeypatch.setattr(OCIContainer, "call", call)
    hooks = cibw.Hooks(compose=lambda _v: None, after_build=lambda: ["finish"])
    box = OCIContainer.__new__(OCIContainer)
    with cibw._hooks(hooks), pytest.raises(KeyboardInterrupt), box:
        raise RuntimeError("the build failed")
    assert calls == ["exit"]
