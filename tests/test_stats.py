from __future__ import annotations

from pathlib import Path

from ccwheel import stats

# As ccache 4.14 writes it (CCACHE_STATSLOG): one block per ccache call.
LOG = """\
# src/a.cpp
cache_miss
direct_cache_miss
local_storage_miss
local_storage_read_miss
local_storage_write
preprocessed_cache_miss
# src/b.cpp
direct_cache_hit
local_storage_hit
local_storage_read_hit
# src/c.cpp
direct_cache_miss
local_storage_hit
preprocessed_cache_hit
# build/x.o
called_for_link
# /tmp/ccwheel/skbuild/CMakeFiles/CMakeScratch/TryCompile-abc/src.c
cache_miss
direct_cache_miss
# src/d.cpp
direct_cache_hit
remote_storage_hit
remote_storage_read_hit
"""


def test_outcomes() -> None:
    s = stats.parse(LOG)
    assert (s.direct_hits, s.preprocessed_hits, s.misses) == (2, 1, 1)
    assert s.hits == 3 and s.cacheable == 4
    assert s.hit_rate == 0.75
    assert s.direct_rate == 2 / 3
    assert s.uncacheable == {"called_for_link": 1}
    assert s.remote_hits == 1
    assert s.missed_files == ["src/a.cpp"]
    # A CMake probe is neither a hit nor a miss of the project: counted apart.
    assert (s.probes, s.probe_hits) == (1, 0)


def test_empty_and_missing(tmp_path: object) -> None:
    from pathlib import Path

    assert stats.parse("").cacheable == 0
    assert stats.parse("").hit_rate is None
    assert stats.read(Path(str(tmp_path)) / "none.stats").cacheable == 0


def test_add() -> None:
    total = stats.BuildStats()
    total.add(stats.parse(LOG))
    total.add(stats.parse(LOG))
    assert total.hits == 6 and total.uncacheable == {"called_for_link": 2}


def test_cmake_probes_are_recognised_wherever_they_run() -> None:
    # A build dir of the user's under CCACHE_BASEDIR: ccache logs the probe by its bare name.
    for source in (
        "src.cxx",
        "/tmp/ccwheel/skbuild/CMakeFiles/CMakeScratch/TryCompile-x/src.cxx",
        "/env/cmake/data/share/cmake-4.4/Modules/CMakeCXXCompilerABI.cpp",
    ):
        assert stats.is_probe(source), source
    assert not stats.is_probe("../../src/bindings.cpp")
    assert not stats.is_probe("src/source.c")


def test_a_project_file_named_like_a_probe_is_the_project_s_own(tmp_path: Path) -> None:
    """setuptools compiles at the project's root: a top-level src.c is a unit of the
    project, counted in the hit rate; a src.c compiled in CMake's scratch directory (logged
    by the same bare name) is a probe."""
    log = "# src.c\ncache_miss\n# helper.c\ndirect_cache_hit\n"
    assert stats.parse(log, stats.root_files(tmp_path)).probes == 1  # no src.c at the root
    (tmp_path / "src.c").write_text("int x;\n")
    own = stats.parse(log, stats.root_files(tmp_path))
    assert (own.probes, own.misses, own.hits) == (0, 1, 1)
    assert own.missed_files == ["src.c"]
    # Wherever the scratch directory is in the log, it is a probe whatever the root holds.
    scratch = "build/CMakeFiles/CMakeScratch/TryCompile-x/src.c"
    assert stats.parse(f"# {scratch}\ncache_miss\n", stats.root_files(tmp_path)).probes == 1


def test_a_setup_script_s_temporary_probe_is_a_probe() -> None:
    """distutils' has_function and pybind11's has_flag compile a randomly named scratch
    file in the temporary directory: counted apart, as CMake's and meson's probes are."""
    from ccwheel import stats

    for probe in ("../tmp/tmpab_c12d9.c", "/tmp/tmpk3j9x_2q.cpp", "/tmp/sqrtab12cd34.c"):
        assert stats.is_probe(probe), probe
    for unit in ("src/module.c", "../tmp/tmpxyzab12c/src/module.c", "src/main.cpp"):
        assert not stats.is_probe(unit), unit


def test_compiles_whose_remote_storage_failed_are_counted() -> None:
    """ccache logs remote_storage_error (a wrong password, no server) or _timeout and
    carries on with the local cache: counted, so the report can say so."""
    log = (
        "# a.c\ncache_miss\nremote_storage_error\nremote_storage_miss\n"
        "# b.c\ndirect_cache_hit\nremote_storage_timeout\n"
        "# c.c\ncache_miss\nremote_storage_miss\nremote_storage_write\n"
    )
    s = stats.parse(log)
    assert (s.remote_errors, s.misses, s.hits) == (2, 2, 1)
    total = stats.BuildStats()
    total.add(s)
    total.add(s)
    assert total.remote_errors == 4
