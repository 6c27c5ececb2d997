"""Run the build frontend's command with the build environment at a fixed path.

usage: python frontend.py FRONTEND-COMMAND...

cibuildwheel runs this in place of its frontend command (`python -m pip wheel ...`,
`python -m build ...`, `uv build ...`) when ccwheel composes the build: so everything here
happens after the user's before-build, exactly when the frontend itself would resolve
the build requirements. It runs in the build container under the build's own Python
(any version cibuildwheel builds for): plain os.path code, nothing to install.

What it does, by CCWHEEL_ISOLATION (see container.py, where the contract is declared):
- env-dir: pypa/build isolates in CCWHEEL_ENV_DIR itself (--env-dir, build >= 1.6, which
  is upgraded here when the image's is older).
- fixed-env: a frontend with no such option. Like an isolated build, a new virtual
  environment with nothing but the build requirements (the static ones, then those the
  backend asks for, asked in that environment), made at CCWHEEL_ENV_DIR; then the user's
  frontend runs its usual command with its own no-isolation switch, its backend in that
  environment: pip through `pip --python`, uv through `uv build --python`, pypa/build
  with the environment's interpreter as the one it runs the backend with.
- no-isolation: the build requirements go into the build interpreter itself (an explicit
  choice; the build sees whatever else is installed there too).

Whatever goes wrong here is ccwheel's problem, not the build's: one warning line, and the
frontend's own command runs unchanged (with its own isolation, at its random paths).
"""

import os
import re
import runpy
import shutil
import subprocess
import sys

ENV = os.environ


def warn(message):
    sys.stderr.write("ccwheel: warning: %s\n" % message)
    sys.stderr.flush()


def log(message):
    sys.stderr.write("ccwheel: %s\n" % message)
    sys.stderr.flush()


def kind_of(cmd):
    """pip, build or uv: which frontend command this is (None: not one ccwheel knows)."""
    if cmd[1:4] == ["-m", "pip", "wheel"]:
        return "pip"
    if cmd[1:3] == ["-m", "build"]:
        return "build"
    if cmd[:2] == ["uv", "build"]:
        return "uv"
    return None


def config_settings(cmd):
    """The config settings of a frontend command (-C, --config-setting(s), and pypa/build's
    --config-json), as the frontends pass them to the backend's hooks: one value per key,
    or a list when a key repeats."""
    settings = {}

    def add(key, val):
        if key in settings:
            old = settings[key]
            settings[key] = (old if isinstance(old, list) else [old]) + [val]
        else:
            settings[key] = val

    i = 0
    while i < len(cmd):
        arg = cmd[i]
        value = None
        for flag in ("--config-settings", "--config-setting", "-C", "--config-json"):
            if arg == flag and i + 1 < len(cmd):
                value = cmd[i + 1]
                i += 1
            elif arg.startswith(flag + "=") and flag != "-C":
                value = arg[len(flag) + 1 :]
            elif flag == "-C" and arg.startswith("-C") and len(arg) > 2:
                value = arg[2:]
            if value is not None:
                break
        if value is not None and flag == "--config-json":
            import json

            for key, val in json.loads(value).items():
                add(key, val)
        elif value is not None:
            key, _, val = value.partition("=")
            add(key, val)
        i += 1
    return settings


class Unfaithful(Exception):
    """What the frontend would do that ccwheel's own environment would not do the same
    way: then the frontend isolates the build itself."""


def options(args, valued, flags):
    """(options found in `args`, `args` without them): `valued` options take a value
    (--opt VALUE or --opt=VALUE; short ones also -oVALUE), `flags` none."""
    found, rest = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if arg in valued and i + 1 < len(args):
            found += [arg, args[i + 1]]
            i += 2
            continue
        if name in valued and "=" in arg and name.startswith("--"):
            found.append(arg)
        elif any(arg.startswith(v) and len(arg) > 2 for v in valued if len(v) == 2):
            found.append(arg)
        elif arg in flags:
            found.append(arg)
        else:
            rest.append(arg)
        i += 1
    return found, rest


def values(found, names):
    """The values of the options `names` among `found` (as options() returns them)."""
    out = []
    i = 0
    while i < len(found):
        arg = found[i]
        if arg in names and i + 1 < len(found):
            out.append(found[i + 1])
            i += 2
            continue
        name, eq, value = arg.partition("=")
        if eq and name in names:
            out.append(value)
        elif any(arg.startswith(n) and len(n) == 2 and len(arg) > 2 for n in names):
            out.append(arg[2:])
        i += 1
    return out


# Options of `pip wheel` that steer how pip finds and installs the build requirements of
# an isolated build: carried over to ccwheel's install of them.
PIP_FINDER = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
    "--cert",
    "--client-cert",
    "--proxy",
    "--retries",
    "--timeout",
    "--keyring-provider",
)
PIP_FINDER_FLAGS = ("--no-index", "--pre", "--prefer-binary")
# pip >= 25.3 constrains an isolated build's requirements with these, and refuses them
# with --no-build-isolation: they become constraints of ccwheel's install instead.
PIP_BUILD_CONSTRAINT = ("--build-constraint",)
UV_FINDER = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--index",
    "--default-index",
    "--index-strategy",
    "--prerelease",
    "--keyring-provider",
    "--resolution",
)
UV_FINDER_FLAGS = ("--no-index",)
UV_BUILD_CONSTRAINT = ("-b", "--build-constraint", "--build-constraints")
# [tool.uv] settings that change how uv builds the project's build environment, which a
# plain `uv pip install` of the requirements would not apply.
UV_BUILD_SETTINGS = (
    "sources",
    "extra-build-dependencies",
    "build-constraint-dependencies",
    "no-build-isolation",
    "no-build-isolation-package",
    "extra-build-variables",
    "dependency-metadata",
)


def load_toml(path):
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            from pip._vendor import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def build_system(package):
    """[build-system] with the defaults pip and pypa/build apply (PEP 517/518)."""
    pyproject = os.path.join(package, "pyproject.toml")
    data = load_toml(pyproject) if os.path.exists(pyproject) else {}
    table = data.get("build-system", {})
    if "build-backend" not in table:
        table = dict(table)
        table.setdefault("requires", ["setuptools>=40.8.0"])
        table["build-backend"] = "setuptools.build_meta:__legacy__"
    return table


def pyproject(package):
    path = os.path.join(package, "pyproject.toml")
    return load_toml(path) if os.path.exists(path) else None


def hook_caller(package, table, python):
    try:
        from pyproject_hooks import BuildBackendHookCaller
    except ImportError:
        from pip._vendor.pyproject_hooks import BuildBackendHookCaller
    return BuildBackendHookCaller(
        package,
        table["build-backend"],
        backend_path=table.get("backend-path"),
        python_executable=python,
    )


def pip_has_python_option():
    """pip >= 22.3 installs into another environment with --python."""
    try:
        from pip import __version__
    except ImportError:
        return False
    parts = re.findall(r"\d+", __version__)[:2]
    return len(parts) == 2 and (int(parts[0]), int(parts[1])) >= (22, 3)


def uses_uv(cmd):
    found, _ = options(cmd, ("--installer",), ())
    return kind_of(cmd) == "uv" or (values(found, ("--installer",)) or ["pip"])[-1] == "uv"


class Installer:
    """Installs into the environment of `python` with the frontend's own installer: from
    outside it when pip can (so the environment holds nothing but what is installed, as
    pypa/build's isolated environments do), with uv for uv. `extra`: the user's options
    that steer finding the requirements (indexes, find-links, constraints)."""

    def __init__(self, python, use_uv, outer_pip, extra=()):
        self.python = python
        self.use_uv = use_uv
        self.outer_pip = outer_pip and not use_uv
        self.extra = list(extra)

    def install(self, requirements):
        if not requirements:
            return
        if self.use_uv:
            cmd = ["uv", "pip", "install", "--python", self.python]
        elif self.outer_pip:
            cmd = [sys.executable, "-m", "pip", "--python", self.python, "install", "-q"]
        else:
            cmd = [self.python, "-m", "pip", "install", "-q"]
        log("installing build requirements: %s" % ", ".join(requirements))
        subprocess.check_call(cmd + self.extra + list(requirements), stdout=sys.stderr)


def create_env(path, use_uv, extra):
    """A new virtual environment at `path` for the build requirements."""
    shutil.rmtree(path, ignore_errors=True)
    if use_uv:
        cmd = ["uv", "venv", "-q", "--python", sys.executable, path]
    else:
        # Without pip (nor the setuptools ensurepip brings before Python 3.12): this
        # interpreter's pip installs into it from outside (plan() made sure it can).
        cmd = [sys.executable, "-m", "venv", "--without-pip", path]
    subprocess.check_call(cmd, stdout=sys.stderr)
    return Installer(os.path.join(path, "bin", "python"), use_uv, True, extra)


def install_requirements(installer, package, settings):
    """The static build requirements, then those the backend asks for, asked with the
    environment's own interpreter (as an isolated build asks them)."""
    table = build_system(package)
    static = list(table.get("requires", []))
    installer.install(static)
    caller = hook_caller(package, table, installer.python)
    dynamic = caller.get_requires_for_build_wheel(settings)
    installer.install([r for r in dynamic if r not in static])


def without_python_option(args):
    """`args` without its --python[=]VALUE."""
    out = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--python":
            skip = True
        elif not arg.startswith("--python="):
            out.append(arg)
    return out


def run_build_with(python, args):
    """pypa/build's own command line, with `python` as the interpreter it runs the backend
    with (its --no-isolation takes the one it runs under): nothing of this interpreter's
    packages reaches the backend, and build's check that the requirements are installed
    here is skipped, since they are installed there."""
    sys.executable = python
    sys.argv = ["python -m build"] + args + ["--no-isolation", "--skip-dependency-check"]
    try:
        runpy.run_module("build", run_name="__main__", alter_sys=True)
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        sys.stderr.write("%s\n" % code)
        return 1
    return 0


def has_env_dir():
    out = subprocess.run(
        [sys.executable, "-m", "build", "--help"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        universal_newlines=True,
    ).stdout
    return "--env-dir" in out


def exec_(cmd):
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(cmd[0], cmd)


def env_dir(cmd):
    """pypa/build isolates at the fixed path itself; an image's older build is upgraded
    (from the user's index or wheelhouse, as every build requirement)."""
    if not has_env_dir():
        subprocess.call(
            [sys.executable, "-m", "pip", "install", "-q", "build>=1.6"], stdout=sys.stderr
        )
    if not has_env_dir():
        warn(
            "this image's pypa/build has no --env-dir and could not be upgraded - building "
            "with its own isolation (compiles that include its environment will miss)"
        )
        cmd = [a for a in cmd if not a.startswith("--env-dir")]
    exec_(cmd)


def plan(cmd, kind):
    """For a frontend command: (use uv, options for the install of the requirements, the
    command's arguments after the frontend's own words with what ccwheel carried over
    taken out, variables to take out of its environment). Unfaithful when ccwheel's
    environment would not be the one the frontend would make."""
    data = pyproject(ENV["CCWHEEL_PACKAGE"])
    unset = []
    if kind == "pip":
        if not pip_has_python_option():
            raise Unfaithful("its pip is older than 22.3 (no --python)")
        if data is None or "build-system" not in data:
            # pip decides itself how to build such a project (a legacy setup.py build,
            # when setuptools and wheel are installed); its isolated environment, when it
            # makes one, is run by this interpreter and puts no path on compile lines.
            raise Unfaithful(
                "the project has no [build-system] table, for which pip decides itself"
            )
        found, _ = options(cmd[4:], PIP_FINDER + PIP_BUILD_CONSTRAINT, PIP_FINDER_FLAGS)
        constraints = values(found, PIP_BUILD_CONSTRAINT)
        extra, _ = options(found, PIP_FINDER, PIP_FINDER_FLAGS)
        # The finder options stay in the command (harmless there), the constraints go.
        _, rest = options(cmd[4:], PIP_BUILD_CONSTRAINT, ())
        if ENV.get("PIP_BUILD_CONSTRAINT"):
            constraints += ENV["PIP_BUILD_CONSTRAINT"].split()
            unset.append("PIP_BUILD_CONSTRAINT")
        extra += [a for c in constraints for a in ("-c", c)]
        return False, extra, rest, unset
    if kind == "uv":
        tool_uv = ((data or {}).get("tool") or {}).get("uv") or {}
        for key in UV_BUILD_SETTINGS:
            if key in tool_uv:
                raise Unfaithful("[tool.uv] %s changes how uv builds it" % key)
        found, _ = options(cmd[2:], UV_FINDER + UV_BUILD_CONSTRAINT, UV_FINDER_FLAGS)
        constraints = values(found, UV_BUILD_CONSTRAINT)
        extra, _ = options(found, UV_FINDER, UV_FINDER_FLAGS)
        _, rest = options(cmd[2:], UV_BUILD_CONSTRAINT, ())
        if ENV.get("UV_BUILD_CONSTRAINT"):
            constraints += ENV["UV_BUILD_CONSTRAINT"].split()
            unset.append("UV_BUILD_CONSTRAINT")
        extra += [a for c in constraints for a in ("-c", c)]
        return True, extra, without_python_option(rest), unset
    # pypa/build: its installer (pip or uv) comes from --installer; the rest stays.
    found, rest = options(cmd[3:], ("--installer",), ())
    installer = (values(found, ("--installer",)) or ["pip"])[-1]
    if installer == "pip" and not pip_has_python_option():
        raise Unfaithful("its pip is older than 22.3 (no --python)")
    return installer == "uv", [], rest, unset


def fixed_env(cmd, kind):
    path = ENV["CCWHEEL_ENV_DIR"]
    try:
        use_uv, extra, rest, unset = plan(cmd, kind)
    except Unfaithful as e:
        log(
            "note: %s: the frontend makes its own build environment for %s, at its own "
            "paths (compiles that include its headers may miss)"
            % (e, ENV.get("CCWHEEL_IDENTIFIER", "this build"))
        )
        exec_(cmd)
    # Found before the environment's scripts come first on PATH.
    uv = shutil.which("uv") or "uv"
    old_path = ENV.get("PATH", "")
    try:
        installer = create_env(path, use_uv, extra)
        # As an isolated build runs its backend: with the environment's scripts (cmake,
        # ninja, meson, cython from the build requirements) first on PATH.
        ENV["PATH"] = os.path.dirname(installer.python) + os.pathsep + old_path
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], config_settings(cmd))
    except Exception as e:  # whatever it was, the frontend's own way may still build
        ENV["PATH"] = old_path
        warn(
            "could not prepare the build environment at %s (%s: %s) - retrying with the "
            "frontend's own isolation (compiles that include its environment will miss)"
            % (path, type(e).__name__, e)
        )
        exec_(cmd)
    log("build environment at %s: the build requirements and nothing else" % path)
    for name in unset:
        ENV.pop(name, None)
    python = installer.python
    if kind == "pip":
        # This interpreter's pip (`python` on PATH is now the environment's).
        exec_(
            [sys.executable, "-m", "pip", "--python", python, "wheel"]
            + rest
            + ["--no-build-isolation"]
        )
    if kind == "uv":
        exec_([uv, "build", "--python=%s" % python, "--no-build-isolation"] + rest)
    sys.exit(run_build_with(python, rest))


def no_isolation(cmd):
    """The build requirements go into this interpreter (the user chose no-isolation)."""
    try:
        installer = Installer(sys.executable, uses_uv(cmd), outer_pip=False)
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], config_settings(cmd))
    except Exception as e:
        warn("could not install the build requirements (%s: %s)" % (type(e).__name__, e))
    exec_(cmd)


# The user's own "no isolation" in the environment the build runs with (possibly passed in
# from the host, where ccwheel's composition cannot see it): the frontend is theirs.
OWN_ISOLATION = {"pip": "PIP_NO_BUILD_ISOLATION", "uv": "UV_NO_BUILD_ISOLATION"}


def main():
    cmd = sys.argv[1:]
    kind = kind_of(cmd)
    mode = ENV.get("CCWHEEL_ISOLATION", "off")
    if kind is None or mode not in ("env-dir", "fixed-env", "no-isolation"):
        exec_(cmd)
    own = OWN_ISOLATION.get(kind)
    if own and own in ENV:
        log("note: %s is set: the frontend isolates as you chose" % own)
        exec_(cmd)
    if mode == "env-dir":
        env_dir(cmd)
    elif mode == "fixed-env":
        fixed_env(cmd, kind)
    else:
        no_isolation(cmd)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a fault of ccwheel's must not fail the build
        warn(
            "ccwheel's frontend step failed (%s: %s) - running the frontend's command as it is"
            % (type(e).__name__, e)
        )
        exec_(sys.argv[1:])
