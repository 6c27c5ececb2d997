"""frontend.py: pip and pypa/build run as they are with their build environment pinned
(for real, on this machine's pip and build); uv's options carried over to ccwheel's own
install of the build requirements, and when uv is left to itself. (The whole path in a
container, by difference with plain cibuildwheel, is in test_fidelity_docker.py.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from ccwheel import platforms
from ccwheel.platforms import common
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
    return module


@pytest.mark.parametrize(
    "cmd",
    [
        PIP,
        BUILD,
        UV,
        ["/usr/local/bin/uv", "build", "/project"],
        ["C:\\tools\\uv.exe", "build", "C:\\project"],
        ["python", "-m", "pip", "install", "x"],
        ["python", "-m", "build_helper"],
        ["python", "-m", "pip"],
        ["uv", "pip", "install", "x"],
        ["python", "-c", "pass"],
        ["uvx", "build"],
    ],
)
def test_the_host_and_frontend_py_tell_a_frontend_command_alike(
    frontend: ModuleType, cmd: list[str]
) -> None:
    """cibw.py hands a command to frontend.py when common.is_frontend_command says it is
    a frontend's; frontend.py must then know which one. For the commands cibuildwheel
    runs and near misses of them (frontend.py alone also takes `python3 -m pip wheel`,
    which cibuildwheel never runs and the host never hands over)."""
    assert common.is_frontend_command(cmd) == (frontend.kind_of(cmd) is not None)


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


def test_uv_settings_that_change_its_build_environment_leave_uv_alone(
    frontend: ModuleType, tmp_path: Path
) -> None:
    extra, rest, _ = frontend.uv_plan(
        [*UV, "-b=/c.txt", "--index-url", "/i", "--exclude-newer", "2024-01-01", "-Ca=1"], None
    )
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
        frontend.uv_plan([*UV, "--frobnicate"], None)
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
            frontend.uv_plan(UV, frontend.pyproject(str(tmp_path)))


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
    assert common.isolation_mode(view, "auto") == "off"
    import dataclasses

    by_env = dataclasses.replace(
        view, frontend_args=(), env_names=frozenset({"PIP_NO_BUILD_ISOLATION"})
    )
    assert common.isolation_mode(by_env, "auto") == "off"
    assert common.isolation_mode(dataclasses.replace(view, frontend_args=()), "auto") == (
        "fixed-env"
    )
    graalpy = dataclasses.replace(
        view, frontend="build", frontend_args=(), identifier="gp311_242-manylinux_x86_64"
    )
    assert common.isolation_mode(graalpy, "auto") == "env-dir"


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


# An in-tree backend with no build requirements: both frontends still make an isolated
# environment for it, and it records where it ran and what it saw.
PROBE_BACKEND = """
import json, os, sys, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    seen = {"prefix": sys.prefix, "path": sys.path, "pythonpath": os.environ.get("PYTHONPATH"),
            "settings": config_settings, "cwd": os.getcwd()}
    with open(os.environ["PROBE_OUT"], "w") as f:
        json.dump(seen, f)
    name = "probe-0.1-py3-none-any.whl"
    metadata = "Metadata-Version: 2.1\\nName: probe\\nVersion: 0.1\\n"
    wheel = "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        z.writestr("probe-0.1.dist-info/METADATA", metadata)
        z.writestr("probe-0.1.dist-info/WHEEL", wheel)
        z.writestr("probe-0.1.dist-info/RECORD", "")
    return name
"""
FRONTENDS = {
    "pip": ["python", "-m", "pip", "wheel", "--no-index", "--no-deps", "-w", "out", "."],
    "build": ["python", "-m", "build", "--wheel", "--outdir", "out", "."],
    "build[uv]": ["python", "-m", "build", "--installer=uv", "--wheel", "--outdir", "out", "."],
}


def _probe(
    tmp_path: Path,
    cmd: list[str],
    env_dir: Path | None,
    python: str | None = None,
    isolation: str = "fixed-env",
) -> dict[str, object]:
    """`cmd` run in the probe project as plain cibuildwheel runs it (env_dir None) or
    through frontend.py with its environment pinned at env_dir: what the backend saw, its
    build environment's path replaced by ENV."""
    import json
    import os
    import re
    import subprocess
    import sys

    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "probe_backend.py").write_text(PROBE_BACKEND)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "probe_backend"\nbackend-path = ["."]\n'
    )
    out = tmp_path / "seen.json"
    env = dict(os.environ, PROBE_OUT=str(out), PYTHONPATH="/ccwheel-user-path")
    python = python or sys.executable
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env['PATH']}"
    run = cmd
    if env_dir is not None:
        env.update(
            CCWHEEL_ISOLATION=isolation,
            CCWHEEL_ENV_DIR=str(env_dir),
            CCWHEEL_PACKAGE=str(project),
        )
        run = [python, str(container.RESOURCES / "frontend.py"), *cmd]
    done = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list((project / "out").glob("*.whl"))) == 1
    text = out.read_text()
    found = r'[^"]*/(?:pip-)?build-env-\w+'  # a frontend's own, at random
    if env_dir is not None:
        found += "|" + re.escape(str(env_dir)) + r"(?:-\d+)?"  # a counted one is not it
    envs = set(re.findall(found, text))
    for path in envs:
        text = text.replace(path, "ENV")
    return {**json.loads(text), "env": sorted(envs), "stderr": done.stderr}


@pytest.fixture(scope="session")
def older_frontends(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A virtual environment with the first pip that has build constraints and a pypa/build
    that makes its venv in a second temporary directory (1.0 to 1.1): its interpreter."""
    import subprocess
    import sys

    venv = tmp_path_factory.mktemp("older") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "pip==25.3", "build==1.0.3"],
        check=True,
        capture_output=True,
    )
    return python


@pytest.mark.parametrize("older", [False, True], ids=["this-machine-s", "pip25.3-build1.0.3"])
@pytest.mark.parametrize("kind", sorted(FRONTENDS))
def test_the_frontend_isolates_itself_at_the_pinned_path_as_without_ccwheel(
    kind: str, older: bool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """By difference, for real (this machine's pip and pypa/build, and older ones): the
    backend sees the same through frontend.py as from the plain command, apart from where
    its environment is; that is the pinned directory every time, emptied first."""
    if older and kind == "build[uv]":
        pytest.skip("pypa/build 1.0 has no --installer")
    python = request.getfixturevalue("older_frontends") if older else None
    plain = _probe(tmp_path, FRONTENDS[kind], None, python)
    env_dir = tmp_path / "work" / "build-env"
    env_dir.mkdir(parents=True)
    (env_dir / "stale").write_text("left by an earlier build")
    ours = _probe(tmp_path, FRONTENDS[kind], env_dir, python)
    assert ours["env"] == [str(env_dir)], ours
    assert plain["env"] != ours["env"]
    again = _probe(tmp_path, FRONTENDS[kind], env_dir, python)
    assert again["env"] == [str(env_dir)]
    for seen in (plain, ours):
        seen.pop("env")
        seen.pop("stderr")
    assert ours == plain
    assert "ccwheel" not in str(again["stderr"])  # nothing to say when all went well


def test_an_image_s_pypa_build_without_env_dir_is_pinned_not_upgraded(
    tmp_path: Path, older_frontends: str
) -> None:
    """env-dir mode (Python >= 3.10) with a pypa/build older than 1.6: the image's own
    build, its environment pinned, as in fixed-env; no other release installed."""
    import subprocess

    env_dir = tmp_path / "work" / "build-env"
    plain = _probe(tmp_path, FRONTENDS["build"], None, older_frontends)
    cmd = [*FRONTENDS["build"], f"--env-dir={env_dir}"]
    ours = _probe(tmp_path, cmd, env_dir, older_frontends, isolation="env-dir")
    assert ours.pop("env") == [str(env_dir)] and plain.pop("env") != [str(env_dir)]
    assert {k: v for k, v in ours.items() if k != "stderr"} == {
        k: v for k, v in plain.items() if k != "stderr"
    }
    version = subprocess.run(
        [older_frontends, "-m", "build", "--version"], capture_output=True, text=True
    ).stdout
    assert version.startswith("build 1.0.3"), version


def test_a_pinned_directory_that_cannot_be_made_leaves_the_frontend_its_own(
    tmp_path: Path,
) -> None:
    """The build goes on at a random path, with one warning."""
    (tmp_path / "work").write_text("a file where the work directory should be")
    seen = _probe(tmp_path, FRONTENDS["pip"], tmp_path / "work" / "build-env")
    assert seen["env"] and str(tmp_path / "work") not in str(seen["env"])
    warnings = [s for s in str(seen["stderr"]).splitlines() if s.startswith("ccwheel: warning")]
    assert len(warnings) == 1 and "random path" in warnings[0], seen["stderr"]


def test_only_the_frontend_s_environment_is_pinned_and_nested_ones_counted(
    frontend: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "mkdtemp", tempfile.mkdtemp)  # restored after the test
    pinned = tmp_path / "work" / "build-env"
    frontend.pin_mkdtemp("pip-build-env-", str(pinned), nested=True)
    assert tempfile.mkdtemp(prefix="pip-build-env-") == str(pinned)
    assert tempfile.mkdtemp(prefix="pip-build-env-") == f"{pinned}-2"  # pip's nested one
    other = tempfile.mkdtemp(prefix="pip-req-build-", dir=str(tmp_path))
    assert Path(other).name.startswith("pip-req-build-") and Path(other).parent == tmp_path
    assert pinned.is_dir() and Path(f"{pinned}-2").is_dir()
    # pypa/build: one at a time (1.0 and 1.1 make a second and use that one).
    frontend.pin_mkdtemp("build-env-", str(tmp_path / "b"), nested=False)
    assert tempfile.mkdtemp(prefix="build-env-") == tempfile.mkdtemp(prefix="build-env-")


def test_the_virtualenv_s_headers_are_in_what_ccache_hashes(
    frontend: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host build's include directory digest: added to the user's CCACHE_EXTRAFILES,
    different once a header appears; direct mode off where it cannot be written."""
    import os
    import sys

    venv = tmp_path / "venv"
    (venv / "include").mkdir(parents=True)
    monkeypatch.setattr(sys, "prefix", str(venv))
    digest = tmp_path / "work" / "venv-include.digest"
    digest.parent.mkdir()
    frontend.ENV.update(CCWHEEL_INCLUDE_DIGEST=str(digest), CCACHE_EXTRAFILES="/mine.txt")
    frontend.include_digest()
    assert frontend.ENV["CCACHE_EXTRAFILES"] == f"/mine.txt{os.pathsep}{digest}"
    seen = [digest.read_text()]
    # A header at the top, in a subdirectory (include/site/pythonX.Y/...), or behind a
    # link to a directory: each changes the digest.
    (venv / "include" / "value.h").write_text("#define VALUE 2\n")
    (venv / "include" / "site" / "pkg").mkdir(parents=True)
    (venv / "include" / "site" / "pkg" / "a.h").write_text("")
    (tmp_path / "elsewhere").mkdir()
    (venv / "include" / "linked").symlink_to(tmp_path / "elsewhere")
    frontend.include_digest()
    seen.append(digest.read_text())
    (tmp_path / "elsewhere" / "b.h").write_text("")
    frontend.include_digest()
    seen.append(digest.read_text())
    assert len(set(seen)) == 3, seen
    assert "site/pkg/a.h" in seen[1] and "linked/b.h" in seen[2]
    assert frontend.ENV["CCACHE_EXTRAFILES"] == f"/mine.txt{os.pathsep}{digest}"  # once
    frontend.ENV["CCWHEEL_INCLUDE_DIGEST"] = str(tmp_path / "missing" / "digest")
    frontend.include_digest()
    assert frontend.ENV["CCACHE_NODIRECT"] == "1"


def test_a_host_build_s_frontend_goes_through_frontend_py_whatever_its_isolation() -> None:
    """The include directory's digest is written there, also where the user chose how the
    frontend isolates (off); a container build in that mode runs its command as it is."""
    env = {"CCWHEEL_FRONTEND_SCRIPT": "/w/frontend.py", "CCWHEEL_ISOLATION": "off"}
    assert common.frontend_command(PIP, env) is None
    host_env = {**env, "CCWHEEL_INCLUDE_DIGEST": "/w/venv-include.digest"}
    assert common.frontend_command(PIP, host_env) == ["python", "/w/frontend.py", *PIP]
