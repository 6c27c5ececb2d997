"""Jobs: `nox -s tests`, `nox -s lint`, `nox -s cibuildwheel` (each supported line).

Container tests run when CCWHEELTEST_DOCKER=1 (or `-- --run-docker`): then the stand-in
manylinux image is built first (needs docker, debootstrap and root; see README).
"""

from __future__ import annotations

import os

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


def _run_tests(session: nox.Session) -> None:
    if _wants_docker(session):
        session.run("bash", "tests/standin/build-image.sh", external=True)
    session.run("pytest", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    session.install(".[test]")
    _run_tests(session)


@nox.session
@nox.parametrize("line", list(CIBUILDWHEEL_LINES))
def cibuildwheel(session: nox.Session, line: str) -> None:
    """The whole suite against the newest release of one supported cibuildwheel line."""
    session.install(".[test]", CIBUILDWHEEL_LINES[line])
    _run_tests(session)


@nox.session
def lint(session: nox.Session) -> None:
    session.install(".", *PYPROJECT["project"]["optional-dependencies"]["lint"])
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy")
