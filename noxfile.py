"""Jobs: `nox -s tests`, `nox -s lint`, `nox -s docs`, `nox -s cibuildwheel` (each line),
`nox -s cibuildwheel_suite` (cibuildwheel's own integration tests, a selection, through
ccwheel), `nox -s bench` (the benchmark; `nox -s bench -- PROJECT ...` for other projects).

Container tests run when CCWHEELTEST_DOCKER=1 (or `-- --run-docker`): then the stand-in
manylinux image is built first (needs docker, debootstrap and root; see README).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.sessions = ["lint", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
# The newest release of each cibuildwheel line ccwheel supports, for the seam's tests.
CIBUILDWHEEL_LINES = {
    "2": "cibuildwheel~=2.23.0",
    "3": "cibuildwheel~=3.0",
    "4": "cibuildwheel~=4.0",
}


def _wants_docker(session: nox.Session) -> bool:
    flag = os.environ.get("CCWHEELTEST_DOCKER", "").lower() in {"1", "true", "yes"}
    return flag or "--run-docker" in session.posargs


# The container tier, a file per worker and as many workers as cores: most of a build is
# waiting (a container's start, installs, the repair), so two cores build two at once
# (measured here: a line session's selection in 7m24s, which took 10 to 11 minutes one test
# after another). The slowest tests are named, so the CI log shows where its time goes.
DOCKER_TIER_ARGS = ("-n", "auto", "--dist", "loadfile", "--durations=15")


def _pytest_args(session: nox.Session) -> tuple[str, ...]:
    own = DOCKER_TIER_ARGS if _wants_docker(session) else ()
    return (*own, *session.posargs)


def _build_image(session: nox.Session) -> None:
    session.run("bash", "tests/standin/build-image.sh", external=True)
    # Emulated: minutes the first time, then kept (rebuilt when its script changes).
    session.run("bash", "tests/standin/build-image-aarch64.sh", external=True)


@nox.session
def tests(session: nox.Session) -> None:
    session.install(".[test]")
    if _wants_docker(session):
        _build_image(session)
    session.run("pytest", *_pytest_args(session))


@nox.session
@nox.parametrize("line", list(CIBUILDWHEEL_LINES))
def cibuildwheel(session: nox.Session, line: str) -> None:
    """The whole suite against the newest release of one supported cibuildwheel line."""
    session.install(".[test]", CIBUILDWHEEL_LINES[line])
    if _wants_docker(session):
        _build_image(session)
    # These runs check the seam (cibw.py) against each line: the unit tests and the core
    # container tests. The long ones (matrix, remote, robustness) run once, in `tests`.
    session.run("pytest", "-m", "not long", *_pytest_args(session))


@nox.session
def differential(session: nox.Session) -> None:
    """Every cell of the differential test (tests/test_differential_docker.py): the probe
    built by plain cibuildwheel and by ccwheel, for each frontend x Python x user setting.
    Needs docker (and builds the stand-in image)."""
    session.install(".[test]")
    _build_image(session)
    session.run(
        "pytest",
        "--run-docker",
        "--run-differential",
        "tests/test_differential_docker.py",
        *session.posargs,
    )


# The cibuildwheel whose own integration tests `cibuildwheel_suite` runs: tests/cibw_suite.py's
# selection and its reasons for what it leaves out were made against this release's tests.
CIBUILDWHEEL_SUITE = "cibuildwheel==4.3.5"


@nox.session
def cibuildwheel_suite(session: nox.Session) -> None:
    """A selection of cibuildwheel's own integration tests (from its sdist) run through
    `python -m ccwheel build`, offline, in the stand-in image (see tests/cibw_suite.py).
    `nox -s cibuildwheel_suite -- --plain` runs the same with plain cibuildwheel: every test
    must pass there. Other arguments go to pytest."""
    # uv on the host makes the frontend-parametrized tests run pip, build[uv] and uv.
    session.install(".", CIBUILDWHEEL_SUITE, "pytest>=8", "pytest-xdist", "jinja2", "uv")
    session.run("bash", "tests/standin/build-image.sh", external=True)
    session.run("python", "tests/cibw_suite.py", "--work", session.create_tmp(), *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Plain cibuildwheel, a hand-mounted cache and ccwheel cold and warm, side by side, in
    the stand-in image with an offline wheelhouse (this machine's containers have no network).
    Prints a table; the JSON goes to bench-results.json."""
    session.install(".")
    _build_image(session)
    wheelhouse = os.environ.get("CCWHEELTEST_WHEELHOUSE", ".nox/wheelhouse")
    session.run(
        "python",
        "tests/bench.py",
        "--image",
        "ccwheel-standin:latest",
        "--image-aarch64",
        "ccwheel-standin-aarch64:latest",
        "--wheelhouse",
        wheelhouse,
        *session.posargs,
    )


@nox.session
def package(session: nox.Session) -> None:
    """ccwheel's own sdist and wheel as users get them: built with pypa/build, checked with
    twine, the wheel installed into a fresh venv and run there, and by pipx and uvx."""
    session.install("build", "twine", "pipx", "uv")
    tmp = Path(session.create_tmp())
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    artifacts = sorted(str(p) for p in dist.iterdir())
    session.run("twine", "check", "--strict", *artifacts)
    (wheel,) = dist.glob("*.whl")
    venv = tmp / "fresh"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("python", "-m", "venv", str(venv))
    session.run(str(venv / "bin" / "pip"), "install", "-q", str(wheel), external=True)
    session.run("python", "tests/check_package.py", str(wheel), str(venv / "bin" / "ccwheel"))
    session.run("pipx", "run", "--spec", str(wheel), "ccwheel", "build", "--help")
    session.run("uvx", "--from", str(wheel), "ccwheel", "build", "--help")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (docs/, mkdocs.yml), built with --strict: a link to a page or
    an anchor that is not there fails it. `nox -s docs -- serve` serves it instead."""
    session.install("mkdocs>=1.6", "mkdocs-material>=9.5")
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:])
        return
    site = Path(session.create_tmp()) / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site))


@nox.session
def lint(session: nox.Session) -> None:
    # pyyaml and pytest: tests/test_release.py, which hands over the release workflow's scripts.
    lint_deps = PYPROJECT["project"]["optional-dependencies"]["lint"]
    session.install(".", *lint_deps, "pyyaml>=6", "pytest>=7")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy")
    # setup.sh runs under the image's /bin/sh (dash, busybox ash): POSIX only.
    session.run("shellcheck", "--shell=sh", "src/ccwheel/resources/setup.sh")
    session.run(
        "shellcheck",
        "--severity=warning",
        "tests/standin/build-image.sh",
        "tests/standin/build-image-aarch64.sh",
        ".ci/run",
    )
    # The release workflow's steps (GitHub runs them with bash; tests/test_release.py runs them).
    scripts = Path(session.create_tmp()) / "release-scripts"
    shutil.rmtree(scripts, ignore_errors=True)
    session.run("python", "tests/test_release.py", str(scripts))
    session.run("shellcheck", "--shell=bash", *sorted(str(p) for p in scripts.glob("*.sh")))
    # The action and every workflow users may copy (the README's too): GitHub's schemas, and
    # zizmor's security audits (offline: no GitHub API here).
    readme = Path(session.create_tmp()) / "readme-workflows"
    session.run("python", "tests/readme_workflows.py", str(readme))
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    copied = sorted(str(p) for p in readme.glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml")
    session.run(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows, *copied
    )
    session.run("zizmor", "--offline", "action.yml", *workflows, *copied)


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing of the modules that decide behaviour, against the unit tests:
    every surviving mutant is a change of behaviour no test notices (`mutmut results`)."""
    session.install("-e", ".[test]", "mutmut>=3,<4")
    session.run("mutmut", "run", *session.posargs)
    session.run("mutmut", "results")
