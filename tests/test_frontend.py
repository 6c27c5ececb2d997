"""frontend.py's reading of frontend commands: which options it carries over to its own
install of the build requirements, which it takes out, and when it leaves the frontend to
itself. (The whole path, for real, is in test_fidelity_docker.py.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from ccwheel import platforms
from ccwheel.platforms import linux as container

PIP = ["python", "-m", "pip", "wheel", "/project", "--wheel-dir=/out", "--no-deps"]
BUILD = ["python", "-m", "build", "/project", "--wheel", "--outdir=/out"]
UV = ["uv", "build", "--python=/opt/python/cp312-cp312/bin/python", "/project", "--wheel"]


@pytest.fixture
def frontend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ccwheel_frontend", container.RESOURCES / "frontend.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    monkeypatch.setattr(module, "ENV", {"CCWHEEL_PACKAGE": str(tmp_path), "PATH": "/usr/bin"})
    monkeypatch.setattr(module, "pip_has_python_option", lambda: True)
    return module


def test_config_settings_in_every_form(frontend: ModuleType) -> None:
    cmd = [
        *BUILD,
        "-Ca=1",
        "-C",
        "b=2",
        "--config-setting=c=3",
        "--config-settings",
        "d=4",
        "-Ca=5",
        '--config-json={"e": ["x", "y"]}',
    ]
    assert frontend.config_settings(cmd) == {
        "a": ["1", "5"],
        "b": "2",
        "c": "3",
        "d": "4",
        "e": ["x", "y"],
    }


def test_pip_s_own_parser_reads_finder_options_settings_and_constraints(
    frontend: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip's parser, so abbreviations and PIP_* variables count as pip counts them."""
    from pip._internal.commands import create_command

    monkeypatch.setenv("PIP_CONFIG_SETTINGS", "need=1")
    cmd = [
        *PIP,
        "--extra-index=https://example.invalid/simple",  # an abbreviation pip accepts
        "--find-links",
        "/wheels",
        "--no-index",
        "-Cother=2",
        "-v",
    ]
    has_constraints = "--build-constraint" in create_command("wheel").parser._long_opt
    if has_constraints:  # pip >= 25.3
        cmd += ["--build-constr", "/c.txt"]
        frontend.ENV["PIP_BUILD_CONSTRAINT"] = "/d.txt"
        monkeypatch.setenv("PIP_BUILD_CONSTRAINT", "/d.txt")
    use_uv, extra, rest, unset, settings = frontend.plan(cmd, "pip")
    assert not use_uv
    assert extra[:4] == [
        "--extra-index=https://example.invalid/simple",
        "--find-links",
        "/wheels",
        "--no-index",
    ]
    assert settings == {"need": "1", "other": "2"}
    assert rest[:3] == ["/project", "--wheel-dir=/out", "--no-deps"]
    assert "-v" in rest and "-Cother=2" in rest
    if has_constraints:
        # pip refuses build constraints with --no-build-isolation: they leave the command.
        assert extra[4:] == ["-c", "/d.txt", "-c", "/c.txt"] or extra[4:] == [
            "-c",
            "/c.txt",
            "-c",
            "/d.txt",
        ]
        assert "/c.txt" not in rest and unset == ["PIP_BUILD_CONSTRAINT"]


def test_pip_told_not_to_isolate_is_left_alone(
    frontend: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(frontend.Unfaithful, match="not to isolate"):
        frontend.plan([*PIP, "--no-build-iso"], "pip")


def test_pip_without_a_build_system_or_without_python_option_is_left_alone(
    frontend: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").unlink()
    with pytest.raises(frontend.Unfaithful, match="no \\[build-system\\]"):
        frontend.plan(PIP, "pip")
    (tmp_path / "pyproject.toml").write_text("[tool.black]\n")
    with pytest.raises(frontend.Unfaithful, match="no \\[build-system\\]"):
        frontend.plan(PIP, "pip")
    monkeypatch.setattr(frontend, "pip_has_python_option", lambda: False)
    with pytest.raises(frontend.Unfaithful, match=r"older than 22\.3"):
        frontend.plan(PIP, "pip")


def test_build_s_installer_in_any_form_chooses_and_leaves(frontend: ModuleType) -> None:
    for args in (["--installer", "uv"], ["--installer=uv"], ["--install", "uv"]):
        use_uv, extra, rest, _, settings = frontend.plan([*BUILD, *args, "-v", "-Ca=1"], "build")
        assert use_uv and extra == [] and settings == {"a": "1"}
        assert rest == ["/project", "--wheel", "--outdir=/out", "-v", "-Ca=1"]
    use_uv, _, rest, _, _ = frontend.plan([*BUILD, "--installer", "pip"], "build")
    assert not use_uv and "--installer" not in rest
    settings = frontend.plan([*BUILD, "--config-sett", "need=1"], "build")[4]
    assert settings == {"need": "1"}  # an abbreviation argparse accepts


def test_uv_settings_that_change_its_build_environment_leave_uv_alone(
    frontend: ModuleType, tmp_path: Path
) -> None:
    use_uv, extra, rest, _, _ = frontend.plan(
        [*UV, "-b=/c.txt", "--index-url", "/i", "--exclude-newer", "2024-01-01", "-Ca=1"], "uv"
    )
    assert use_uv
    assert extra == ["--index-url", "/i", "--exclude-newer", "2024-01-01", "-c", "/c.txt"]
    assert rest == [
        "/project",
        "--wheel",
        "--index-url",
        "/i",
        "--exclude-newer",
        "2024-01-01",
        "-Ca=1",
    ]
    with pytest.raises(frontend.Unfaithful, match="--frobnicate"):
        frontend.plan([*UV, "--frobnicate"], "uv")
    for table in (
        '[tool.uv.sources]\nhelper = { path = "h" }\n',
        '[tool.uv.pip]\nexclude-newer = "2024-01-01T00:00:00Z"\n',
        '[tool.uv]\nconfig-settings = { need = "1" }\n',
    ):
        (tmp_path / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
            + table
        )
        with pytest.raises(frontend.Unfaithful, match=r"\[tool.uv\]"):
            frontend.plan(UV, "uv")


def test_isolation_the_user_chose_is_kept(tmp_path: Path) -> None:
    """Their own no-isolation switch, in arguments or in the environment: 'off'."""
    view = platforms.BuildView(
        identifier="cp312-manylinux_x86_64",
        frontend="pip",
        frontend_args=("--no-use-pep517",),
        engine="docker",
        create_args=(),
        env_names=frozenset(),
        before_build="",
        config_settings="",
        package_dir=tmp_path,
        project_dir=tmp_path,
    )
    assert platforms.isolation_mode(view, "auto") == "off"
    import dataclasses

    by_env = dataclasses.replace(
        view, frontend_args=(), env_names=frozenset({"PIP_NO_BUILD_ISOLATION"})
    )
    assert platforms.isolation_mode(by_env, "auto") == "off"
    assert platforms.isolation_mode(dataclasses.replace(view, frontend_args=()), "auto") == (
        "fixed-env"
    )
    graalpy = dataclasses.replace(
        view, frontend="build", frontend_args=(), identifier="gp311_242-manylinux_x86_64"
    )
    assert platforms.isolation_mode(graalpy, "auto") == "env-dir"


def test_a_fault_of_frontend_py_runs_the_frontend_s_command_as_it_is(tmp_path: Path) -> None:
    """Whatever breaks in ccwheel's step, the build's own command still runs: one warning."""
    import os
    import subprocess
    import sys

    env = {
        "PATH": os.environ["PATH"],
        "CCWHEEL_ISOLATION": "fixed-env",
        # No CCWHEEL_PACKAGE, CCWHEEL_ENV_DIR: a composition gone wrong.
    }
    marker = tmp_path / "ran"
    # A command frontend.py takes for pip's, which is really a script that leaves a mark.
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    env["PATH"] = f"{tmp_path}:{env['PATH']}"
    done = subprocess.run(
        [
            sys.executable,
            str(container.RESOURCES / "frontend.py"),
            "python",
            "-m",
            "pip",
            "wheel",
            ".",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    warnings = [line for line in done.stderr.splitlines() if line.startswith("ccwheel: warning")]
    assert len(warnings) == 1 and "running the frontend's command as it is" in warnings[0]
