"""What ccwheel composes into a build, value by value, as cibuildwheel evaluates it: every
variable of the in-container contract and every ccache default. Each line here is a
decision; a change to one must show up as a failing test, not only in a container."""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

import pytest

from ccwheel import binaries, cache, cibw, config, layout, platforms
from ccwheel.errors import ConfigError
from ccwheel.platforms import linux as container

ID = "cp311-manylinux_x86_64"


def _resolved(project: Path, env: dict[str, str] | None = None, **plan: object) -> cibw.Resolved:
    def compose(view: platforms.BuildView) -> platforms.Injection:
        options: dict[str, object] = {
            "host_cache_dir": Path("/host/cache"),
            "run_name": "RUN",
            "max_size": "3G",
            "selinux_relabel": False,
            "stable_build_env": "auto",
            "backend": platforms.read_backend(view.package_dir),
            "kernel_arch": "x86_64",
        }
        options.update(plan)
        return container.plan(view, **options)  # type: ignore[arg-type]

    return cibw.resolved(project, ID, env or {}, compose)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "setup.py").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_value_ccwheel_gives_a_default_build(project: Path) -> None:
    # The build frontend (the default from cibuildwheel 3.0 on; 2.x defaults to pip).
    r = _resolved(project, {"CIBW_BUILD_FRONTEND": "build"})
    values = r.values
    # What names this build reaches its commands (cibw.py), not the environment option.
    assert not set(r.build_env) & set(values)
    ours = {
        k: v for k, v in {**values, **r.build_env}.items() if k.startswith(("CCACHE_", "CCWHEEL_"))
    }
    assert ours == {
        "CCACHE_DIR": "/tmp/ccwheel/cache/data",
        "CCACHE_BASEDIR": "/project:/tmp",
        "CCACHE_NOHASHDIR": "1",
        "CCACHE_COMPILERCHECK": "content",
        "CCACHE_MAXSIZE": "3G",
        "CCACHE_UMASK": "000",
        "CCACHE_STATSLOG": f"/tmp/ccwheel/cache/.ccwheel/runs/RUN/{ID}.stats",
        "CCWHEEL_MOUNT": "/ccache",
        "CCWHEEL_MOUNT_RUN_DIR": "/ccache/.ccwheel/runs/RUN",
        "CCWHEEL_MOUNT_DATA": "/ccache/data",
        "CCWHEEL_BINARIES": "/opt/ccwheel/bin",
        "CCWHEEL_NO_BINARY": "/opt/ccwheel/bin/unavailable",
        "CCWHEEL_WORK": "/tmp/ccwheel",
        "CCWHEEL_LINKS": "/tmp/ccwheel/bin",
        "CCWHEEL_FRESH": (
            "/tmp/ccwheel/bin /tmp/ccwheel/build-env /tmp/ccwheel/skbuild /tmp/ccwheel/mesonpy"
        ),
        "CCWHEEL_SMOKE": "/tmp/ccwheel/smoke",
        "CCWHEEL_LOCAL_CACHE": "/tmp/ccwheel/local",
        "CCWHEEL_CACHE_LINK": "/tmp/ccwheel/cache",
        "CCWHEEL_RUN_DIR": "/tmp/ccwheel/cache/.ccwheel/runs/RUN",
        "CCWHEEL_HOST_CACHE_DIR": "/host/cache",
        "CCWHEEL_KERNEL_ARCH": "x86_64",
        "CCWHEEL_IDENTIFIER": ID,
        "CCWHEEL_ISOLATION": "env-dir",
        "CCWHEEL_ENV_DIR": "/tmp/ccwheel/build-env",
        "CCWHEEL_FRONTEND_SCRIPT": "/opt/ccwheel/frontend.py",
        "CCWHEEL_DOWNLOADS": "/tmp/ccwheel/cache/downloads",
        "CCWHEEL_RUN_DOWNLOADS": "/tmp/ccwheel/cache/.ccwheel/runs/RUN/downloads",
        "CCWHEEL_ALL_RUN_DOWNLOADS": "/tmp/ccwheel/cache/.ccwheel/runs/*/downloads",
        "CCWHEEL_DOWNLOAD_CACHES": "pip uv",
        "CCWHEEL_BUILT_BY_INSTALLERS": "pip/wheels uv/sdists-v* uv/built-wheels-v*",
        "CCWHEEL_FRONTEND": "build",
        "CCWHEEL_PACKAGE": "/project",
    }
    assert values["PATH"] == "/tmp/ccwheel/bin:/usr/bin"
    assert "CPPFLAGS" not in values
    # pip's and uv's cache roots are the run's own, through the same link (setup.sh links
    # the shared cache's entries into them).
    assert values["PIP_CACHE_DIR"] == "/tmp/ccwheel/cache/.ccwheel/runs/RUN/downloads/pip"
    assert values["UV_CACHE_DIR"] == "/tmp/ccwheel/cache/.ccwheel/runs/RUN/downloads/uv"
    assert values["UV_LINK_MODE"] == "copy"


def test_setup_sh_spells_no_name_of_the_layout_it_is_given() -> None:
    """Every path setup.sh uses comes from the contract's variables, made from layout.py:
    a name of the cache's or the work directory's layout spelled in setup.sh would be a
    second declaration of it."""
    names = [
        *(str(p) for p in (layout.DATA, layout.DOWNLOADS, layout.RUNS, layout.WARM)),
        *layout.STATE.parts,
        *layout.RUNS.parts,
        *layout.FRESH,
        layout.TOOLS_BIN,
        layout.NO_BINARY,
        container.SMOKE.name,
        container.LOCAL_CACHE.name,
        container.CACHE.name,
    ]
    spelled = [
        (n, line.strip())
        for line in (container.RESOURCES / "setup.sh").read_text().splitlines()
        if not line.lstrip().startswith("#")
        for n in names
        if re.search(rf"/[\"']?{re.escape(n)}(?=[/\"'\s;)]|$)", line)
    ]
    assert spelled == []
    # ... and the contract gives it each of them.
    contract = container.setup_contract(run_name="RUN", identifier=ID)
    assert contract["CCWHEEL_FRESH"].split() == [str(container.WORK / n) for n in layout.FRESH]
    assert contract["CCWHEEL_MOUNT_DATA"] == str(container.MOUNT / layout.DATA)


def test_explain_keeps_ccache_s_debug_inputs_per_build(project: Path) -> None:
    r = _resolved(project, explain=True)
    assert r.build_env["CCACHE_DEBUG"] == "1" and "CCACHE_DEBUG" not in r.values
    assert r.build_env["CCACHE_DEBUGDIR"] == f"/tmp/ccwheel/cache/.ccwheel/runs/RUN/debug/{ID}"
    assert "CCACHE_DEBUG" not in _resolved(project).build_env


@pytest.mark.parametrize("network", ["--net=host", "--net host", "--network bridge"])
def test_a_network_of_the_user_s_own_is_kept_with_a_loopback_remote(
    network: str, project: Path
) -> None:
    env = {"CIBW_CONTAINER_ENGINE": f"docker; create_args: {network}"}
    r = _resolved(project, env, remote="redis://localhost:6379")
    assert "--network=host" not in r.create_args


def test_the_refusal_names_the_setting_that_cannot_apply(project: Path) -> None:
    env = {"CIBW_ENVIRONMENT": "CCACHE_REMOTE_STORAGE=redis://h"}
    with pytest.raises(ConfigError, match=r"^--remote-read-only cannot apply"):
        _resolved(project, env, remote_read_only=True)
    with pytest.raises(
        ConfigError, match=r"^--remote-storage cannot apply .* drop --remote-storage$"
    ):
        _resolved(project, env, remote="redis://other")


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ("-v /x:/ccache", "-v /x:/ccache"),
        ("--volume=/x:/ccache", "--volume=/x:/ccache"),
        ("--mount type=bind,source=/x,destination=/ccache", "--mount type=bind,"),
        ("--mount 'type=bind,source=/x,target=\"/ccache\"'", "--mount type=bind,"),
        ("--tmpfs /ccache:size=1g", "--tmpfs /ccache:size=1g"),
        ("-v/x:/ccache:ro", "-v/x:/ccache:ro"),
    ],
)
def test_mounts_at_ccache_are_found_and_shown(args: str, shown: str, project: Path) -> None:
    env = {"CIBW_CONTAINER_ENGINE": f"docker; create_args: {args}"}
    with pytest.raises(ConfigError, match="already mount something") as e:
        _resolved(project, env)
    assert f"({shown}" in str(e.value)


@pytest.mark.parametrize(
    "args",
    [
        "-v",  # a dangling flag is the engine's to refuse
        "-v /ccache",  # an anonymous volume at /ccache... is a mount at /ccache
        "--volume=/ccache:/data",
        "--mount type=bind,source=/ccache,target=/data",
        "--tmpfs /tmp",
        "-e X=-v/x:/ccache",
        "--volume-driver=local",
    ],
)
def test_mounts_elsewhere_are_left_alone(args: str, project: Path) -> None:
    env = {"CIBW_CONTAINER_ENGINE": f"docker; create_args: {args}"}
    if args == "-v /ccache":
        with pytest.raises(ConfigError):
            _resolved(project, env)
        return
    r = _resolved(project, env)
    assert r.create_args[-1] == "--volume=/host/cache:/ccache"


def test_every_boolean_spelling() -> None:
    spellings = {
        **dict.fromkeys(["1", "true", "yes", "on", "ON", " Yes "], True),
        **dict.fromkeys(["0", "false", "no", "off", "", "OFF"], False),
    }
    for text, value in spellings.items():
        got = config.resolve(flags={}, env={"CCWHEEL_EXPLAIN": text}, file_table={})
        assert got.explain is value, text
    with pytest.raises(ConfigError, match="expected a boolean"):
        config.resolve(flags={}, env={"CCWHEEL_EXPLAIN": "maybe"}, file_table={})


def test_run_names_have_one_shape_and_increase_when_the_clock_stands_still(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache, "_last_ns", 0)
    monkeypatch.setattr(time, "time_ns", lambda: 1_764_400_000_123_456_789)
    names = [cache.new_run_name() for _ in range(3)]
    for name in names:
        assert re.fullmatch(r"20251129T\d{6}\.\d{9}-\d+-[0-9a-f]{6}", name), name
    assert sorted(names) == names and len(set(names)) == 3


def test_a_few_runs_are_all_kept(tmp_path: Path) -> None:
    for _ in range(3):
        cache.open_run(tmp_path, cache.new_run_name()).close()
    assert len(list((tmp_path / ".ccwheel" / "runs").iterdir())) == 3


def _fake_ccache(tmp_path: Path, body: str) -> Path:
    fake = tmp_path / "ccache"
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(0o755)
    return fake


def test_the_trim_runs_ccache_on_the_cache_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole data directory, the cap, no user configuration, the container's umask."""
    (tmp_path / "c" / "data").mkdir(parents=True)
    record = tmp_path / "env"
    fake = _fake_ccache(tmp_path, f'env > "{record}"; echo "$@" >> "{record}"')
    monkeypatch.setattr(binaries, "host_binary", lambda: fake)
    cache.trim(tmp_path / "c", "64k")
    seen = record.read_text()
    for line in (f"CCACHE_DIR={tmp_path / 'c' / 'data'}", "CCACHE_MAXSIZE=64k",
                 f"CCACHE_CONFIGPATH={os.devnull}", "CCACHE_UMASK=000", "--cleanup"):  # fmt: skip
        assert line in seen.splitlines(), line
    assert any(line.startswith("PATH=/") for line in seen.splitlines())


def test_a_trim_that_fails_gives_ccache_s_last_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    fake = _fake_ccache(tmp_path, "echo first >&2; echo 'disk on fire' >&2; exit 1")
    monkeypatch.setattr(binaries, "host_binary", lambda: fake)
    with pytest.raises(cache.CacheUnusable, match=r"could not trim .* to 1G: disk on fire$"):
        cache.trim(tmp_path, "1G")
    silent = _fake_ccache(tmp_path, "exit 3")
    monkeypatch.setattr(binaries, "host_binary", lambda: silent)
    with pytest.raises(cache.CacheUnusable, match=r"unknown error$"):
        cache.trim(tmp_path, "1G")


def test_a_cache_dir_made_for_the_first_time_is_owner_only(tmp_path: Path) -> None:
    cache.prepare(tmp_path / "new" / "cache")
    assert stat.S_IMODE((tmp_path / "new" / "cache").stat().st_mode) == 0o700
