from __future__ import annotations

from pathlib import Path

import pytest

from ccwheel import config
from ccwheel.errors import ConfigError, UnknownKeyError


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    settings = config.resolve(
        flags={"max_size": "1G", "min_hit_rate": None},
        env={"CCWHEEL_MAX_SIZE": "2G", "CCWHEEL_MIN_HIT_RATE": "90%", "PATH": "/bin"},
        file_table={"max-size": "3G", "min-hit-rate": 0.5, "selinux-relabel": True},
    )
    assert settings.max_size == "1G"  # flag
    assert settings.min_hit_rate == pytest.approx(0.9)  # env, flag unset
    assert settings.selinux_relabel is True  # file
    assert settings.stable_build_env == "auto"  # default
    assert settings.cache is True


def test_default_cache_dir_is_the_user_cache_dir() -> None:
    import platformdirs

    assert config.Settings().cache_dir == Path(
        platformdirs.user_cache_dir("ccwheel", appauthor=False)
    )


def test_unknown_file_key_suggests_the_right_one() -> None:
    with pytest.raises(UnknownKeyError) as e:
        config.resolve(flags={}, env={}, file_table={"max-sise": "1G"})
    assert e.value.suggestion == "max-size"
    assert "perhaps you meant 'max-size'" in str(e.value)
    assert e.value.exit_code == 2


def test_underscore_spelling_in_the_file_is_refused() -> None:
    with pytest.raises(UnknownKeyError, match="max-size"):
        config.resolve(flags={}, env={}, file_table={"max_size": "1G"})


def test_unknown_env_variable_suggests() -> None:
    with pytest.raises(UnknownKeyError, match="CCWHEEL_CACHE_DIR"):
        config.resolve(flags={}, env={"CCWHEEL_CACHE_DRI": "/x"}, file_table={})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("min-hit-rate", "lots", "expected a number"),
        ("min-hit-rate", "150%", "must lie between"),
        ("max-size", "big", "expected a size"),
        ("cache", "maybe", "expected a boolean"),
        ("cache-dir", "", "empty"),
    ],
)
def test_bad_values_are_refused_with_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        config.resolve(flags={}, env={}, file_table={key: value})
    assert key in str(e.value)


def test_bad_mode_suggests() -> None:
    with pytest.raises(UnknownKeyError, match="no-isolation"):
        config.resolve(flags={"stable_build_env": "no-isolaton"}, env={}, file_table={})


def test_hit_rate_forms() -> None:
    for raw, rate in (("0.95", 0.95), ("95%", 0.95), (1, 1.0), ("0", 0.0), ("100%", 1.0)):
        assert config.resolve(
            flags={"min_hit_rate": raw}, env={}, file_table={}
        ).min_hit_rate == pytest.approx(rate)


@pytest.mark.parametrize("raw", ["1.5", "95", "-0.1", "101%"])
def test_a_hit_rate_that_is_neither_a_fraction_nor_a_percentage_is_refused(raw: str) -> None:
    """1.5 could be 1.5% or a slip for 0.15: guessing either way would be silent."""
    with pytest.raises(ConfigError, match="must lie between 0 and 1") as e:
        config.resolve(flags={"min_hit_rate": raw}, env={}, file_table={})
    if not raw.endswith("%"):
        assert f"for a percentage write {raw}%" in str(e.value)


def test_selinux_relabel_is_auto_unless_set() -> None:
    assert config.Settings().selinux_relabel is None
    for raw, value in (("auto", None), ("true", True), ("0", False)):
        got = config.resolve(flags={}, env={"CCWHEEL_SELINUX_RELABEL": raw}, file_table={})
        assert got.selinux_relabel is value


def test_every_option_is_declared_once_and_reaches_every_source() -> None:
    """Each field of Settings is a flag, a CCWHEEL_* variable and a [tool.ccwheel] key."""
    import argparse
    import dataclasses

    names = [f.name for f in dataclasses.fields(config.Settings)]
    assert list(config.options()) == names
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    flags = {a.dest: a.option_strings[0] for a in parser._actions if a.dest in names}
    assert flags == {n: config.flag(n) for n in names}
    assert config.flag("cache") == "--no-cache"
    args = parser.parse_args(["--no-cache", "--max-size", "1G", "--explain"])
    assert config.flags_from(args)["cache"] is False
    settings = config.resolve(flags=config.flags_from(args), env={}, file_table={})
    assert (settings.cache, settings.max_size, settings.explain) == (False, "1G", True)


def test_the_docs_options_table_is_the_declared_one() -> None:
    page = (Path(__file__).parent.parent / "docs" / "options.md").read_text()
    assert config.markdown_table() in page


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ccwheel]\nmax-size = "700M"\n')
    assert config.read_pyproject_table(tmp_path / "pyproject.toml") == {"max-size": "700M"}
    assert config.read_pyproject_table(tmp_path / "missing.toml") == {}
    (tmp_path / "bad.toml").write_text("[tool.ccwheel\n")
    with pytest.raises(ConfigError, match="cannot read"):
        config.read_pyproject_table(tmp_path / "bad.toml")


def test_config_file_follows_cibuildwheel(tmp_path: Path) -> None:
    assert config.config_file_for(tmp_path, "") == tmp_path / "pyproject.toml"
    assert config.config_file_for(tmp_path, "{package}/ci.toml") == Path(f"{tmp_path}/ci.toml")


def _tar(path: Path, files: dict[str, str]) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_sdist_s_table_is_read_as_cibuildwheel_reads_its_options(tmp_path: Path) -> None:
    """cibuildwheel extracts the sdist and reads its config from there: {package} and a
    relative --config-file mean the extracted directory; an absolute one is a file."""
    sdist = _tar(
        tmp_path / "pkg-1.0.tar.gz",
        {
            "pkg-1.0/pyproject.toml": '[tool.ccwheel]\nmax-size = "1G"\n',
            "pkg-1.0/ci/ci.toml": '[tool.ccwheel]\nmax-size = "2G"\n',
        },
    )
    assert config.is_sdist(sdist) and not config.is_sdist(tmp_path)
    assert config.is_sdist(tmp_path / "missing.tar.gz")  # cibuildwheel's own test
    assert config.read_sdist_table(sdist, "")[1] == {"max-size": "1G"}
    assert config.read_sdist_table(sdist, "{package}/ci/ci.toml")[1] == {"max-size": "2G"}
    assert config.read_sdist_table(sdist, "ci/ci.toml")[1] == {"max-size": "2G"}
    assert config.read_sdist_table(sdist, "{package}/none.toml")[1] == {}
    outside = tmp_path / "outside.toml"
    outside.write_text('[tool.ccwheel]\nmax-size = "3G"\n')
    assert config.read_sdist_table(sdist, str(outside))[1] == {"max-size": "3G"}
    settings = config.load({}, sdist, "{package}/ci/ci.toml")
    assert settings.max_size == "2G"


def test_an_sdist_made_with_dot_slash_names_is_read(tmp_path: Path) -> None:
    """`tar czf pkg.tar.gz ./pkg` names every member ./pkg/...: one directory all the same."""
    sdist = _tar(
        tmp_path / "dot.tar.gz", {"./pkg/pyproject.toml": '[tool.ccwheel]\nmax-size = "4G"\n'}
    )
    assert config.read_sdist_table(sdist, "")[1] == {"max-size": "4G"}


def test_a_broken_sdist_is_a_clear_error(tmp_path: Path) -> None:
    two_tops = _tar(tmp_path / "two.tar.gz", {"a/pyproject.toml": "", "b/pyproject.toml": ""})
    with pytest.raises(ConfigError, match="does not contain a single directory"):
        config.read_sdist_table(two_tops, "")
    bad_toml = _tar(tmp_path / "bad.tar.gz", {"p/pyproject.toml": "[tool.ccwheel\n"})
    with pytest.raises(ConfigError, match="cannot read"):
        config.read_sdist_table(bad_toml, "")
    not_a_tar = tmp_path / "junk.tar.gz"
    not_a_tar.write_text("junk")
    with pytest.raises(ConfigError, match="cannot read"):
        config.read_sdist_table(not_a_tar, "")


@pytest.mark.parametrize("name", ["CCWHEEL_VERSION", "CCWHEEL_MATRIX", "CCWHEEL_JOB_INDEX"])
def test_a_ccwheel_variable_that_is_no_setting_is_ignored_and_said(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The job's own CCWHEEL_* variables (and the action's old internal ones) are not
    ccwheel's to refuse: plain cibuildwheel builds with them set."""
    got = config.resolve(flags={}, env={name: "1", "CCWHEEL_MAX_SIZE": "2G"}, file_table={})
    assert got.max_size == "2G"
    assert f"{name} is not a ccwheel setting: ignored" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("CCWHEEL_MAXSIZE", "CCWHEEL_MAX_SIZE"),
        ("CCWHEEL_CACHEDIR", "CCWHEEL_CACHE_DIR"),
        ("CCWHEEL_MIN_HITRATE", "CCWHEEL_MIN_HIT_RATE"),
        ("CCWHEEL_EXPLAINS", "CCWHEEL_EXPLAIN"),
    ],
)
def test_a_slip_of_a_ccwheel_variable_is_still_refused_with_its_suggestion(
    name: str, meant: str
) -> None:
    with pytest.raises(UnknownKeyError, match=f"perhaps you meant '{meant}'"):
        config.resolve(flags={}, env={name: "1"}, file_table={})
