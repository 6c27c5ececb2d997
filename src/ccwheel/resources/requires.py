"""Install a project's build requirements into this interpreter, for a build without
isolation. Runs inside the build container with the build's own Python.

usage: python requires.py PACKAGE_DIR FRONTEND

Static requirements come from [build-system] requires; the dynamic ones from the backend's
get_requires_for_build_wheel hook, asked once the static ones are installed. Both come from
pypa/build's own API (ProjectBuilder: the same defaults and hook calls as an isolated build)
when this interpreter has it, else from pip's vendored pyproject_hooks, so nothing has to be
installed for this to run.
"""

import os
import subprocess
import sys


def load_toml(path):
    try:
        import tomllib
    except ImportError:
        from pip._vendor import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def hook_caller(package, backend, backend_path):
    try:
        from pyproject_hooks import BuildBackendHookCaller
    except ImportError:
        from pip._vendor.pyproject_hooks import BuildBackendHookCaller
    return BuildBackendHookCaller(package, backend, backend_path=backend_path)


def install(requirements, frontend):
    if not requirements:
        return
    if frontend == "uv" or frontend == "build[uv]":
        cmd = ["uv", "pip", "install", "--python", sys.executable]
    else:
        cmd = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.check_call(cmd + list(requirements))


def main():
    package, frontend = sys.argv[1], sys.argv[2]
    try:
        from build import ProjectBuilder
    except ImportError:
        ProjectBuilder = None
    if ProjectBuilder is not None:
        builder = ProjectBuilder(package, python_executable=sys.executable)
        static = sorted(builder.build_system_requires)
        install(static, frontend)
        dynamic = builder.get_requires_for_build("wheel")
        install(sorted(r for r in dynamic if r not in static), frontend)
        return
    pyproject = os.path.join(package, "pyproject.toml")
    build_system = load_toml(pyproject).get("build-system", {}) if os.path.exists(pyproject) else {}
    static = build_system.get("requires", ["setuptools>=40.8.0"])
    backend = build_system.get("build-backend", "setuptools.build_meta:__legacy__")
    install(static, frontend)
    dynamic = hook_caller(
        package, backend, build_system.get("backend-path")
    ).get_requires_for_build_wheel({})
    install([r for r in dynamic if r not in static], frontend)


if __name__ == "__main__":
    main()
