"""A selection of cibuildwheel's own integration tests, run through `python -m ccwheel build`.

cibuildwheel's sdist ships its integration tests under `test/`; they start cibuildwheel as
`python -m cibuildwheel ...` (`test/utils.py`'s `cibuildwheel_run`, and `test_from_sdist.py`'s
own runner). This driver downloads the sdist of the cibuildwheel installed here, extracts its
tests, and runs the selection below with every such command turned into
`python -m ccwheel build --cache-dir DIR ...`, offline, in the stand-in image, as a user who
replaced `cibuildwheel` by `ccwheel build` would run them. With `--plain` (or
CCWHEEL_SUITE_PLAIN=1) the commands stay `python -m cibuildwheel`: the same selection must
pass there, which shows that what fails through ccwheel fails because of ccwheel.

usage: python tests/cibw_suite.py [--plain] [--work DIR] [PYTEST ARGS ...]

`nox -s cibuildwheel_suite` runs it (`-- --plain` for the plain run). The tests themselves are
not changed; this module is also the pytest plugin (`-p cibw_suite`) that adapts them to this
machine, in both modes alike:

- the stand-in image has CPython 3.9, 3.11 and 3.12 for x86_64 only, and no musllinux image
  can be pulled: cibuildwheel's runs get `CIBW_BUILD=cp312-*` unless the test chose its
  builds, `*-musllinux_*` is added to `CIBW_SKIP`, and the tests' single Python
  (`utils.SINGLE_PYTHON_VERSION`, 3.14 upstream) is 3.12;
- `utils.expected_wheels` expects what that gives: cp312 unless a test names its Pythons, no
  musllinux wheel, and the manylinux tags auditwheel gives in the stand-in image (glibc
  2.36 instead of the real images' 2.28);
- containers have no network: build and test requirements come from a wheelhouse mounted
  into the container (tests/offline.py), also when a test sets its own
  `CIBW_CONTAINER_ENGINE` create-args (the mount is added to them);
- tests that cannot run here are deselected, each with its reason (DESELECTED).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import offline

HERE = Path(__file__).parent
# The one Python the suite builds for (the stand-in image has 3.9, 3.11 and 3.12).
SUITE_PYTHON = (3, 12)
SUITE_BUILD = "cp{}{}-*".format(*SUITE_PYTHON)
# What the selected tests' projects and test steps install in the container for cp312, beyond
# the examples' requirements (tests/projects/requirements.txt, for every Python of the image,
# which covers test_environment.py::test_pip_cert_py39's cp39 build): test-requires and test
# extras (pytest) and test_pep518.py's build requirements.
SUITE_REQUIREMENTS = ("pytest", "setuptools>=42", "setuptools_scm[toml]>=4.1.2", "jmespath==0.10.0")
# And virtualenv for cibuildwheel's test step, at the version cibuildwheel's constraints pin
# (they apply on Linux too: `pip install virtualenv -c constraints.txt` in the container).
CONSTRAINED_REQUIREMENTS = ("virtualenv",)

# The selection: cibuildwheel's test files, by what they cover.
SELECTED = (
    "test/test_from_sdist.py",  # an sdist as the package to build
    "test/test_environment.py",  # environment, PATH checks, PIP_CERT
    "test/test_before_build.py",  # before-build: its Python, failures, cwd
    "test/test_before_all.py",  # before-all
    "test/test_build_frontend_args.py",  # build-frontend args
    "test/test_container_engine.py",  # container-engine create_args
    "test/test_testing.py",  # test-command, test-requires, extras, groups, sources
    "test/test_pep518.py",  # PEP 518 build requirements, every frontend
    "test/test_meson_python.py",  # meson-python, every frontend
    "test/test_subdir_package.py",  # a package in a subdirectory
    "test/test_troubleshooting.py",  # messages after a failed build or repair
)

# Tests of the selected files that cannot run on this machine, and why.
DESELECTED = {
    "test/test_environment.py::test_pip_cert_graalpy": (
        "needs GraalPy: not in the stand-in image, and cibuildwheel would download it from "
        "GitHub inside the container (no network in containers, GitHub unreachable)"
    ),
    "test/test_container_engine.py::test_podman": (
        "needs podman and the upstream --run-podman option; podman is not installed here and "
        "the stand-in image lives in docker's image store"
    ),
}

# Marks where a test is skipped by cibuildwheel's own conditions on this platform (reported
# by pytest as skips, listed here for the README):
#   test_build_frontend_args.py::...[pyodide-build]  pyodide platform only
#   build_frontend_env's "build" parameter            skipped upstream when uv is on the host
#                                                     (the session installs uv, so pip,
#                                                     build[uv] and uv run; plain `build` is
#                                                     cibuildwheel's default frontend and is
#                                                     what the other tests use)

_CIBUILDWHEEL = "cibuildwheel"


# --- the driver --------------------------------------------------------------------------


def _sdist(version: str, downloads: Path) -> Path:
    """cibuildwheel's sdist for `version`, downloaded once into `downloads`."""
    sdist = offline.cibuildwheel_sdist(version, downloads)
    if not sdist.is_file():
        sys.exit(f"cibw_suite: no sdist of cibuildwheel {version} in {downloads}")
    return sdist


def _extract_tests(sdist: Path, target: Path) -> Path:
    """The sdist's `test/`, fresh, under `target`; returns the sdist's root directory there
    (the tests' working directory, as in cibuildwheel's repository)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        root = tar.getnames()[0].split("/")[0]
        members = [m for m in tar.getmembers() if m.name.startswith(f"{root}/test/")]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members=members, filter="data")
        else:  # Python < 3.11.4: no extraction filters
            tar.extractall(target, members=members)
    src = target / root
    # cibuildwheel's own pytest configuration (in its pyproject.toml, not extracted) wants
    # plugins the suite does not need (rerunfailures, xdoctest) and turns warnings into
    # errors; the suite's keeps only the markers.
    (src / "pytest.ini").write_text(
        "[pytest]\n"
        "addopts = -ra\n"
        "markers =\n"
        "    serial: tests that must not be run in parallel\n"
        "    ios: tests that run on iOS\n"
        "    android: tests that run on Android\n"
        "    pyodide: tests that run on Pyodide\n"
    )
    return src


def _pip_download(wheelhouse: Path, *requirements: str) -> None:
    offline.pip_download(
        wheelhouse,
        "--only-binary=:all:",
        "--python-version",
        "{}.{}".format(*SUITE_PYTHON),
        "--platform",
        "manylinux2014_x86_64",
        *requirements,
    )


def _fill_wheelhouse(wheelhouse: Path, cibw_resources: Path) -> None:
    offline.fill_wheelhouse(wheelhouse)
    _pip_download(wheelhouse, *SUITE_REQUIREMENTS)
    constraints = cibw_resources / "constraints-python{}{}.txt".format(*SUITE_PYTHON)
    _pip_download(wheelhouse, "-c", str(constraints), *CONSTRAINED_REQUIREMENTS)


def _check_docker(image: str) -> None:
    if shutil.which("docker") is None:
        sys.exit("cibw_suite: docker is not installed")
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        sys.exit("cibw_suite: the docker daemon is not running")
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
        sys.exit(f"cibw_suite: stand-in image {image} is missing: run tests/standin/build-image.sh")


def _standin_manylinux_versions(image: str) -> list[str]:
    """The manylinux tags auditwheel gives a plain C extension in the stand-in image: the
    image's own policy (AUDITWHEEL_PLAT) and the oldest ones the wheel qualifies for, as
    cibuildwheel's `expected_wheels` spells them for the real images."""
    env = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{json .Config.Env}}", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"AUDITWHEEL_PLAT=(manylinux_\d+_\d+)_", env)
    if not match:
        sys.exit(f"cibw_suite: {image} sets no manylinux AUDITWHEEL_PLAT")
    return ["manylinux1", match.group(1), "manylinux_2_5"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument(
        "--plain",
        action="store_true",
        default=os.environ.get("CCWHEEL_SUITE_PLAIN", "").lower() in {"1", "true", "yes"},
        help="run `python -m cibuildwheel`, not ccwheel (CCWHEEL_SUITE_PLAIN=1)",
    )
    parser.add_argument(
        "--work", type=Path, help="working directory (sdist, extracted tests; default: temp)"
    )
    args, pytest_args = parser.parse_known_args(argv)

    version = importlib.metadata.version("cibuildwheel")
    work = (args.work or Path(tempfile.mkdtemp(prefix="ccwheel-cibw-suite-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    src = _extract_tests(_sdist(version, work / "downloads"), work / "src")

    image = os.environ.get("CCWHEELTEST_IMAGE", offline.IMAGE)
    _check_docker(image)
    wheelhouse = Path(os.environ.get("CCWHEELTEST_WHEELHOUSE") or work / "wheelhouse").resolve()
    import cibuildwheel

    _fill_wheelhouse(wheelhouse, Path(cibuildwheel.__file__).parent / "resources")

    # cibuildwheel's conftest.py takes `worker_id` from pytest-xdist, and runs its
    # frontend-parametrized tests with pip, build[uv] and uv when uv is installed here (pip
    # and build without): the suite always has it, so that the selection is the same
    # everywhere.
    for needed in ("xdist", "uv"):
        if importlib.util.find_spec(needed) is None:
            sys.exit(f"cibw_suite: {needed} is not installed (see `nox -s cibuildwheel_suite`)")

    cache_dir = Path(tempfile.mkdtemp(prefix="ccwheel-cache-", dir=work))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CIBW_", "CCWHEEL_", "PIP_", "UV_")) and k != "SKBUILD_BUILD_DIR"
    }
    # The pip/uv settings that point at the wheelhouse are for the containers only (adapt_env
    # adds them to cibuildwheel's runs): the tests' host side (test_from_sdist.py's sdist
    # build) installs from the index.
    env.update(
        (k, v)
        for k, v in offline.environment(image, wheelhouse).items()
        if not k.startswith(("PIP_", "UV_"))
    )
    env.update(
        _CCWHEEL_SUITE_MODE="plain" if args.plain else "ccwheel",
        _CCWHEEL_SUITE_CACHE_DIR=str(cache_dir),
        _CCWHEEL_SUITE_WHEELHOUSE=str(wheelhouse),
        _CCWHEEL_SUITE_MANYLINUX=" ".join(_standin_manylinux_versions(image)),
        PYTHONPATH=os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p),
    )
    # Test paths given (test/test_x.py, test/test_x.py::test_y) replace the selection.
    chosen = [a for a in pytest_args if a.startswith("test/")]
    selection = [] if chosen else list(SELECTED)
    mode = "plain cibuildwheel" if args.plain else "ccwheel build"
    print(f"cibw_suite: cibuildwheel {version}'s tests through {mode}, in {src}", flush=True)
    start = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "cibw_suite", *selection, *pytest_args],
            cwd=src,
            env=env,
        )
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    print(f"cibw_suite: {mode}: {time.monotonic() - start:.0f}s, exit {result.returncode}")
    return result.returncode


# --- the pytest plugin (loaded in the pytest run above as `-p cibw_suite`) -----------------


def _mode() -> str:
    return os.environ.get("_CCWHEEL_SUITE_MODE", "")


def _is_cibuildwheel(cmd: Any) -> bool:
    return (
        isinstance(cmd, list)
        and len(cmd) >= 3
        and cmd[0] == sys.executable
        and cmd[1:3] == ["-m", _CIBUILDWHEEL]
    )


def _with_wheelhouse(engine: str, wheelhouse: str) -> str:
    """A test's own `CIBW_CONTAINER_ENGINE`, with the wheelhouse mount in its create-args."""
    if ":/wheelhouse" in engine:
        return engine
    mount = shlex.quote(f"--volume={wheelhouse}:/wheelhouse:ro")
    if "create_args:" in engine:
        return re.sub(r"create_args:\s*", lambda m: f"{m.group(0)}{mount} ", engine, count=1)
    return f"{engine}; create_args: {mount}"


def adapt_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of one cibuildwheel run, adapted to this machine (see the module's
    docstring): only Pythons the stand-in has, no musllinux, the wheelhouse mounted."""
    adapted = dict(os.environ if env is None else env)
    wheelhouse = os.environ["_CCWHEEL_SUITE_WHEELHOUSE"]
    adapted.update(
        (k, v)
        for k, v in offline.environment(None, Path(wheelhouse)).items()
        if k.startswith(("PIP_", "UV_"))
    )
    adapted.setdefault("CIBW_BUILD", SUITE_BUILD)
    skip = adapted.get("CIBW_SKIP", "").split()
    if "*-musllinux_*" not in skip:
        adapted["CIBW_SKIP"] = " ".join([*skip, "*-musllinux_*"])
    engine = adapted.get("CIBW_CONTAINER_ENGINE", "docker")
    adapted["CIBW_CONTAINER_ENGINE"] = _with_wheelhouse(engine, wheelhouse)
    return adapted


def command(cmd: list[str]) -> list[str]:
    """`python -m cibuildwheel ARGS` as the suite runs it: `python -m ccwheel build
    --cache-dir DIR ARGS`, or unchanged in plain mode."""
    if _mode() == "plain":
        return cmd
    cache = os.environ["_CCWHEEL_SUITE_CACHE_DIR"]
    return [sys.executable, "-m", "ccwheel", "build", "--cache-dir", cache, *cmd[3:]]


class _Subprocess(types.ModuleType):
    """`subprocess` for the test modules: cibuildwheel's commands go through `command` and
    `adapt_env`; everything else is the real module."""

    def __init__(self) -> None:
        super().__init__("subprocess")

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def run(self, cmd: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_cibuildwheel(cmd):
            cmd = command(cmd)
            kwargs["env"] = adapt_env(kwargs.get("env"))
        return subprocess.run(cmd, *args, **kwargs)


def _patch_utils(utils: types.ModuleType) -> None:
    if getattr(utils, "_ccwheel_suite", False):
        return
    utils._ccwheel_suite = True  # type: ignore[attr-defined]
    utils.SINGLE_PYTHON_VERSION = SUITE_PYTHON  # type: ignore[attr-defined]
    upstream = utils.expected_wheels
    manylinux = os.environ["_CCWHEEL_SUITE_MANYLINUX"].split()

    def expected_wheels(*args: Any, **kwargs: Any) -> list[str]:
        kwargs.setdefault("manylinux_versions", manylinux)
        kwargs.setdefault("musllinux_versions", [])
        if not kwargs.get("single_python"):
            kwargs.setdefault("python_abi_tags", ["cp{0}{1}-cp{0}{1}".format(*SUITE_PYTHON)])
        return list(upstream(*args, **kwargs))

    utils.expected_wheels = expected_wheels  # type: ignore[attr-defined]


def _modules(items: Sequence[Any]) -> Iterator[types.ModuleType]:
    seen: set[str] = set()
    for name in ["test.utils", *(getattr(item.module, "__name__", "") for item in items)]:
        module = sys.modules.get(name)
        if module is not None and name not in seen:
            seen.add(name)
            yield module


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if not _mode():
        return
    proxy = _Subprocess()
    for module in _modules(items):
        if module.__name__ == "test.utils":
            _patch_utils(module)
        if getattr(module, "subprocess", None) is subprocess:
            module.subprocess = proxy  # type: ignore[attr-defined]
    kept, dropped = [], []
    for item in items:
        (dropped if _deselect_reason(item.nodeid) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _deselect_reason(nodeid: str) -> str | None:
    for prefix, reason in DESELECTED.items():
        if nodeid == prefix or nodeid.startswith((prefix + "[", prefix + "::")):
            return reason
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _mode():
        return
    write = terminalreporter.write_line
    terminalreporter.section("ccwheel suite")
    runs = " ".join(command([sys.executable, "-m", _CIBUILDWHEEL])[1:])
    write(f"mode: {_mode()}: cibuildwheel's runs are `python {runs} ...`")
    for nodeid, reason in DESELECTED.items():
        write(f"deselected {nodeid}: {reason}")


if __name__ == "__main__":
    sys.exit(main())
