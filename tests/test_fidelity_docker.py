"""Drop-in fidelity, for real (cibuildwheel, docker, the stand-in image, ccache, gcc): what
a project gets from plain cibuildwheel it gets from ccwheel, and the cache hits there too.
An sdist as input; an in-tree backend that builds from a temporary copy of the project."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Callable

import pytest

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
