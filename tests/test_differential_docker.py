"""The judge of "the same wheel": the fidelity probe built by plain cibuildwheel and by
`ccwheel build`, for each frontend x Python x user setting, for real (cibuildwheel, docker,
the stand-in image, ccache, gcc). What the backend saw (its distributions, sys.path, its
environment, its config settings, its working directory, the compile command of its one
unit) must be equal apart from where the build environment is.

Every cell builds cp39 (pypa/build 1.4: the frontend's own command with its environment
pinned) and cp312 (pypa/build's own --env-dir) in one run each way. The before-build
installs a current pip (the image's is older than 25.3, the first with build
constraints), as a user's may. CELLS_CI run in .ci/run (`nox -s tests`, the newest
cibuildwheel: they are `long`); `nox -s differential` runs all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import offline
import pytest

from ccwheel import cibw
from ccwheel.platforms import linux

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("offline_build_env")]

Build = Callable[..., int]
IDENTIFIERS = ("cp39-manylinux_x86_64", "cp312-manylinux_x86_64")
BEFORE_BUILD = f"python -m pip install -q '{offline.CURRENT_PIP}' packaging==24.2 pathspec"
# A constraint that changes what the build environment gets: the newest setuptools is
# 84.2.1 in the wheelhouse.
CONSTRAINT = "setuptools==82.0.1\n"

# (what the user set, the frontends it concerns): each a cell per frontend.
SETTINGS: dict[str, tuple[str, ...]] = {
    "none": ("pip", "build", "build[uv]", "uv"),
    "PIP_CONSTRAINT": ("pip", "build"),
    "--build-constraint": ("pip",),
    "PIP_BUILD_CONSTRAINT": ("pip",),
    "--dependency-constraints-txt": ("build",),
    "UV_CONSTRAINT": ("build[uv]", "uv"),
    "UV_BUILD_CONSTRAINT": ("uv",),
    "PYTHONPATH": ("pip", "build", "build[uv]", "uv"),
    "dependency-versions": ("pip", "build", "build[uv]", "uv"),
    "frontend args": ("pip", "build", "build[uv]", "uv"),
    "config-settings": ("pip", "build", "build[uv]", "uv"),
    "[tool.uv]": ("build[uv]", "uv"),
}
ALL = [(f, s) for s, frontends in SETTINGS.items() for f in frontends]
# The cells that failed on the re-implemented environments (the constraints dropped,
# PYTHONPATH): about a minute each, and .ci/run has a budget (the "none" cells' isolation
# is also checked by test_fidelity_docker.py there).
CELLS_CI = [
    ("pip", "PIP_CONSTRAINT"),
    ("build", "PIP_CONSTRAINT"),
    ("pip", "--build-constraint"),
    ("pip", "PYTHONPATH"),
]
# Cells that cannot be equal, and why (none today).
UNEQUAL: dict[tuple[str, str], str] = {}


def _frontend_args(frontend: str, setting: str) -> str:
    args = {
        "--build-constraint": "--build-constraint /project/constraints.txt",
        "--dependency-constraints-txt": "--dependency-constraints-txt /project/constraints.txt",
        "frontend args": "-Cfrom-args=1",
    }.get(setting)
    return f"{frontend}; args: {args}" if args else frontend


def _configure(project: Path, frontend: str, setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own cibuildwheel configuration for this cell, as they would write it."""
    (project / "constraints.txt").write_text(CONSTRAINT)
    monkeypatch.setenv("CIBW_BUILD", " ".join(IDENTIFIERS))
    monkeypatch.setenv("CIBW_BUILD_FRONTEND", _frontend_args(frontend, setting))
    monkeypatch.setenv("CIBW_BEFORE_BUILD", BEFORE_BUILD)
    variables = {
        "PIP_CONSTRAINT": "PIP_CONSTRAINT=/project/constraints.txt",
        "PIP_BUILD_CONSTRAINT": "PIP_BUILD_CONSTRAINT=/project/constraints.txt",
        "UV_CONSTRAINT": "UV_CONSTRAINT=/project/constraints.txt",
        "UV_BUILD_CONSTRAINT": "UV_BUILD_CONSTRAINT=/project/constraints.txt",
        "PYTHONPATH": "PYTHONPATH=/ccwheel-user-path",
    }
    if setting in variables:
        monkeypatch.setenv("CIBW_ENVIRONMENT", variables[setting])
    if setting == "dependency-versions":
        monkeypatch.setenv("CIBW_DEPENDENCY_VERSIONS", str(project / "constraints.txt"))
    if setting == "config-settings":
        monkeypatch.setenv("CIBW_CONFIG_SETTINGS", "from-option=1 other=2")
    if setting == "[tool.uv]":
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text()
            + '\n[tool.uv.extra-build-dependencies]\nccwheel-example-fidelity = ["pathspec"]\n'
        )


def _records(out: Path) -> dict[str, dict[str, object]]:
    """What each wheel's build saw, by identifier's Python tag."""
    records = {}
    for wheel in out.glob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            records[wheel.name.split("-")[2]] = json.loads(z.read("fidelity_probe/build_env.json"))
    return records


# Where a build environment is: pip's and pypa/build's random ones, uv's in its cache,
# ccwheel's pinned one (and a nested one's counter).
ENV_PATHS = re.compile(
    r"/tmp/(?:pip-)?build-env-\w+|/tmp/ccwheel/build-env(?:-\d+)?|"
    r"(?:/root/\.cache/uv|/tmp/ccwheel/cache/\.ccwheel/runs/[^/]+/downloads/uv)"
    r"/builds-v\d+/\.tmp\w+"
)
# Where ccwheel pins the build environment.
PINNED = str(linux.ENV_DIR)
# Other random paths, different from one run to the next with plain cibuildwheel too.
RANDOM = re.compile(r"/tmp/pip-build-tracker-\w+")
# What ccwheel adds to every build's environment (its own variables, ccache's, and the
# compilers' directory first on PATH): the cache, not the build.
OURS = ("CCACHE_", "CCWHEEL_")
# The download caches ccwheel keeps in the cache directory, where the user set none.
DOWNLOAD_CACHES = ("PIP_CACHE_DIR", "UV_CACHE_DIR", "UV_LINK_MODE")


def _normalised(record: dict[str, object]) -> dict[str, object]:
    text = RANDOM.sub("RANDOM", ENV_PATHS.sub("ENV", json.dumps(record)))
    seen = json.loads(text)
    environ = {
        k: v
        for k, v in seen["environ"].items()
        if not k.startswith(OURS) and k not in {"HOSTNAME", "_"}
    }
    environ["PATH"] = os.pathsep.join(
        p for p in environ.get("PATH", "").split(os.pathsep) if p != str(linux.LINKS)
    )
    return {**seen, "environ": environ}


def _differences(plain: dict[str, object], ours: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key in sorted(set(plain) | set(ours)):
        if key == "environ":
            a, b = plain.get(key) or {}, ours.get(key) or {}
            assert isinstance(a, dict) and isinstance(b, dict)
            ours_only = {k for k in DOWNLOAD_CACHES if k not in a}
            diff = {
                k: (a.get(k), b.get(k))
                for k in (set(a) | set(b)) - ours_only
                if a.get(k) != b.get(k)
            }
            if diff:
                out[key] = diff
        elif plain.get(key) != ours.get(key):
            out[key] = (plain.get(key), ours.get(key))
    return out


def _plain_cibuildwheel(out: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cibuildwheel", "--platform", "linux", "--output-dir", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


# The cells .ci/run runs are `long` (the newest cibuildwheel only); the rest are
# `differential` (`nox -s differential`).
_MARKS = {cell: pytest.mark.long if cell in CELLS_CI else pytest.mark.differential for cell in ALL}


@pytest.mark.parametrize(
    ("frontend", "setting"), [pytest.param(*cell, marks=_MARKS[cell]) for cell in ALL]
)
def test_the_backend_sees_what_it_sees_with_plain_cibuildwheel(
    frontend: str,
    setting: str,
    tmp_path: Path,
    example_project: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    ccwheel_build: Build,
) -> None:
    if frontend == "uv" and cibw.version().startswith("2."):
        pytest.skip("cibuildwheel 2.x has no uv frontend")
    if (frontend, setting) in UNEQUAL:
        pytest.skip(UNEQUAL[(frontend, setting)])
    _configure(example_project("fidelity"), frontend, setting, monkeypatch)
    _plain_cibuildwheel(tmp_path / "plain")
    assert ccwheel_build(tmp_path / "cache", tmp_path / "ours") == 0
    plain, ours = _records(tmp_path / "plain"), _records(tmp_path / "ours")
    assert sorted(plain) == sorted(ours) == ["cp312", "cp39"]
    for tag in plain:
        if setting != "[tool.uv]":  # there uv isolates the build itself (see README)
            # ccwheel's own path, not a counted one: the normalisation below hides both.
            seen = json.dumps(ours[tag]["sys_path"])
            assert f"{PINNED}/" in seen and f"{PINNED}-" not in seen, (tag, seen)
        differences = _differences(_normalised(plain[tag]), _normalised(ours[tag]))
        assert not differences, json.dumps([tag, differences], indent=1)
