"""Drop-in fidelity, for real (cibuildwheel, docker, the stand-in image, ccache, gcc): what
a project gets from plain cibuildwheel it gets from ccwheel, and the cache hits there too.
An sdist as input; an in-tree backend that builds from a temporary copy of the project."""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from ccwheel import cibw

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]  # the ccwheel_build fixture
ID = "cp312-manylinux_x86_64"


def _builds(report: Path) -> list[dict[str, object]]:
    return list(json.loads(report.read_text())["builds"])


def test_a_backend_that_builds_from_a_temporary_copy_hits(
    tmp_path: Path, example_project: Callable[[str], Path], ccwheel_build: Build
) -> None:
    """The in-tree backend copies the project to a new mkdtemp() directory and builds there:
    include paths and line markers carry the random directory, and one generated source
    names it in a comment. With /tmp among the base directories and no depend mode, all
    of it hits: the moved paths directly, the generated source through the preprocessor."""
    example_project("intree-cython")
    cache_dir = tmp_path / "cache"
    cold, warm = tmp_path / "cold.json", tmp_path / "warm.json"
    assert ccwheel_build(cache_dir, tmp_path / "o1", "--only", ID, "--report", str(cold)) == 0
    (b,) = _builds(cold)
    assert b["compilations"] == 3 and b["misses"] == 3, b  # Cython's, helper.c, _where.c
    assert ccwheel_build(cache_dir, tmp_path / "o2", "--only", ID, "--report", str(warm)) == 0
    (b,) = _builds(warm)
    assert (b["compilations"], b["hits"], b["misses"]) == (3, 3, 0), b
    # The generated source differs in its comment: only the preprocessed lookup hits it.
    assert (b["direct_hits"], b["preprocessed_hits"]) == (2, 1), b
    assert len(list((tmp_path / "o2").glob("*.whl"))) == 1


def _sdist(project: Path, dest: Path, extra_pyproject: str) -> Path:
    """An sdist as `python -m build --sdist` lays it out: one top directory."""
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + extra_pyproject
    )
    sdist = dest / "ccwheel_example_setuptools-0.1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(project, arcname="ccwheel_example_setuptools-0.1.0")
    return sdist


def test_an_sdist_builds_twice_and_hits_with_its_own_ccwheel_table(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    ccwheel_build: Build,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ccwheel build pkg.tar.gz`, as cibuildwheel builds an sdist: [tool.ccwheel] comes
    from the sdist's pyproject.toml, like cibuildwheel's own options."""
    project = example_project("setuptools")
    report = tmp_path / "from-sdist-table.json"
    sdist = _sdist(project, tmp_path, f'\n[tool.ccwheel]\nreport = "{report}"\n')
    monkeypatch.chdir(tmp_path)  # a CI step that builds an sdist downloaded elsewhere
    cache_dir = tmp_path / "cache"
    assert ccwheel_build(cache_dir, tmp_path / "o1", "--only", ID, str(sdist)) == 0
    (b,) = _builds(report)
    assert b["compilations"] == 7 and b["hits"] == 0, b
    report.unlink()
    assert ccwheel_build(cache_dir, tmp_path / "o2", "--only", ID, str(sdist)) == 0
    (b,) = _builds(report)
    assert (b["compilations"], b["direct_hits"], b["misses"]) == (7, 7, 0), b
    assert len(list((tmp_path / "o2").glob("*.whl"))) == 1


# Every frontend cibuildwheel offers on Linux, with the interpreters where it isolates
# differently: pypa/build's own --env-dir (Python >= 3.10), else an environment of
# ccwheel's own at a fixed path, made by the frontend's own installer (pip or uv).
CELLS = [
    ("pip", "cp312-manylinux_x86_64"),
    ("build", "cp39-manylinux_x86_64"),
    ("build", "cp312-manylinux_x86_64"),
    ("build[uv]", "cp39-manylinux_x86_64"),
    ("uv", "cp312-manylinux_x86_64"),
]
# Where the frontend's own build environment is pinned (fixed-env), pip's and pypa/build's.
FIXED_ENV_CELLS = [("pip", "cp312-manylinux_x86_64"), ("build", "cp39-manylinux_x86_64")]
ISOLATED = {
    "packaging": "25.0",
    "pathspec_visible": False,
    "ninja_on_path": True,
    "vendored": None,
    "user_pythonpath": False,
}


def _build_env(out: Path) -> dict[str, object]:
    """What the build saw, as the example's setup.py wrote it into the wheel."""
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        return dict(json.loads(z.read("fidelity_probe/build_env.json")))


def _cold_then_warm_hits(
    ccwheel_build: Build, tmp_path: Path, identifier: str
) -> list[dict[str, object]]:
    """The fidelity example built twice with one cache; the warm build's one unit must hit
    directly. What each build saw of its environment, cold then warm."""
    seen = []
    for run in ("cold", "warm"):
        report = tmp_path / f"{run}.json"
        args = ("--only", identifier, "--report", str(report))
        assert ccwheel_build(tmp_path / "cache", tmp_path / run, *args) == 0
        seen.append(_build_env(tmp_path / run))
    (b,) = _builds(tmp_path / "warm.json")
    assert (b["compilations"], b["direct_hits"]) == (1, 1), b
    return seen


@pytest.mark.parametrize(("frontend", "identifier"), CELLS)
def test_the_build_sees_exactly_its_build_requirements_and_hits(
    frontend: str,
    identifier: str,
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """The build requirements pin packaging==25.0; the user's before-build installs 24.2
    and pathspec into the build interpreter. As with plain cibuildwheel (PEP 517 isolation),
    the build sees 25.0 and no pathspec, with every frontend and Python, and the scripts of
    its build requirements on PATH (ninja: not in the image); and it hits."""
    if frontend == "uv" and cibw.version().startswith("2."):
        pytest.skip("cibuildwheel 2.x has no uv frontend")
    example_project("fidelity")
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    for seen in _cold_then_warm_hits(ccwheel_build, tmp_path, identifier):
        assert {k: seen[k] for k in ISOLATED} == ISOLATED


def _wheel(dest: Path, name: str, version: str, module: str) -> Path:
    """A pure-Python wheel, as a project would vendor one."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}.py": module,
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = dest / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


@pytest.mark.parametrize(("frontend", "identifier"), FIXED_ENV_CELLS)
def test_a_requirement_the_before_build_provides_is_found(
    frontend: str,
    identifier: str,
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    """cibuildwheel runs before-build before the frontend resolves anything: a build
    requirement that only the before-build makes available (a vendored wheel copied into a
    find-links directory) is found, and the build still hits the second time."""
    project = example_project("fidelity")
    (project / "vendor").mkdir()
    _wheel(project / "vendor", "ccwheel-vendored-helper", "1.0", "VERSION = '1.0'\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        .replace('"ninja"]', '"ninja", "ccwheel-vendored-helper==1.0"]')
        .replace(
            'before-build = "python -m pip install -q packaging==24.2 pathspec"',
            'before-build = "mkdir -p /tmp/vendored && cp {project}/vendor/*.whl /tmp/vendored/"',
        )
    )
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", frontend)
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheelhouse /tmp/vendored")
    for seen in _cold_then_warm_hits(ccwheel_build, tmp_path, identifier):
        assert seen["vendored"] == "1.0"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CIBW_CONFIG_SETTINGS", "builddir=build/mine"),
        ("CIBW_BUILD_FRONTEND", "build; args: -Cbuild-dir=build/mine"),
    ],
)
def test_a_meson_python_build_dir_of_the_user_s_own_builds_as_with_plain_cibuildwheel(
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
    variable: str,
    value: str,
) -> None:
    """meson-python refuses two build directories ("Only one can be used", "Only one value
    for build-dir"): with the user's own, in either spelling and from either place, ccwheel
    adds none, and the build runs as with plain cibuildwheel."""
    example_project("meson-c")
    monkeypatch.setenv(variable, value)
    report = tmp_path / "r.json"
    assert ccwheel_build(tmp_path / "c", tmp_path / "o", "--only", ID, "--report", str(report)) == 0
    assert len(list((tmp_path / "o").glob("*.whl"))) == 1
    (b,) = _builds(report)
    assert b["finished"] is True and b["compilations"] == 4, b
