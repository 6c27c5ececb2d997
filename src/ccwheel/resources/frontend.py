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
    """The -C/--config-setting(s) of a frontend command, as the frontends pass them to the
    backend's hooks: one value per key, or a list when a key repeats."""
    settings = {}
    i = 0
    while i < len(cmd):
        arg = cmd[i]
        value = None
        for flag in ("--config-settings", "--config-setting", "-C"):
            if arg == flag and i + 1 < len(cmd):
                value = cmd[i + 1]
                i += 1
            elif arg.startswith(flag + "=") and flag != "-C":
                value = arg[len(flag) + 1 :]
            elif flag == "-C" and arg.startswith("-C") and len(arg) > 2 and arg != "-C":
                value = arg[2:]
            if value is not None:
                break
        if value is not None:
            key, _, val = value.partition("=")
            if key in settings:
                old = settings[key]
                settings[key] = (old if isinstance(old, list) else [old]) + [val]
            else:
                settings[key] = val
        i += 1
    return settings


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
    return kind_of(cmd) == "uv" or "--installer=uv" in cmd


class Installer:
    """Installs into the environment of `python` with the frontend's own installer: from
    outside it when pip can (so the environment holds nothing but what is installed, as
    pypa/build's isolated environments do), with uv for uv."""

    def __init__(self, python, use_uv, outer_pip):
        self.python = python
        self.use_uv = use_uv
        self.outer_pip = outer_pip and not use_uv

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
        subprocess.check_call(cmd + list(requirements), stdout=sys.stderr)


def create_env(path, use_uv, outer_pip):
    """A new virtual environment at `path` for the build requirements."""
    shutil.rmtree(path, ignore_errors=True)
    if use_uv:
        cmd = ["uv", "venv", "-q", "--python", sys.executable, path]
    else:
        cmd = [sys.executable, "-m", "venv"] + (["--without-pip"] if outer_pip else []) + [path]
    subprocess.check_call(cmd, stdout=sys.stderr)
    return Installer(os.path.join(path, "bin", "python"), use_uv, outer_pip)


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


def fixed_env(cmd, kind):
    path = ENV["CCWHEEL_ENV_DIR"]
    outer_pip = pip_has_python_option()
    # Found before the environment's scripts come first on PATH.
    uv = shutil.which("uv") or "uv"
    old_path = ENV.get("PATH", "")
    try:
        installer = create_env(path, uses_uv(cmd), outer_pip)
        # As an isolated build runs its backend: with the environment's scripts (cmake,
        # ninja, meson, cython from the build requirements) first on PATH.
        ENV["PATH"] = os.path.dirname(installer.python) + os.pathsep + old_path
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], config_settings(cmd))
    except Exception as e:  # whatever it was, the frontend's own way builds
        ENV["PATH"] = old_path
        warn(
            "could not prepare the build environment at %s (%s: %s) - building with the "
            "frontend's own isolation (compiles that include its environment will miss)"
            % (path, type(e).__name__, e)
        )
        exec_(cmd)
    log("build environment at %s: the build requirements and nothing else" % path)
    python = installer.python
    if kind == "pip":
        if installer.outer_pip:
            # This interpreter's pip (`python` on PATH is now the environment's).
            exec_(
                [sys.executable]
                + cmd[1:3]
                + ["--python", python]
                + cmd[3:]
                + ["--no-build-isolation"]
            )
        exec_([python] + cmd[1:] + ["--no-build-isolation"])
    if kind == "uv":
        exec_(
            [uv, "build", "--python=%s" % python, "--no-build-isolation"]
            + without_python_option(cmd[2:])
        )
    args = [a for a in cmd[3:] if a != "--installer=uv"]
    sys.exit(run_build_with(python, args))


def no_isolation(cmd):
    """The build requirements go into this interpreter (the user chose no-isolation)."""
    try:
        installer = Installer(sys.executable, uses_uv(cmd), outer_pip=False)
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], config_settings(cmd))
    except Exception as e:
        warn("could not install the build requirements (%s: %s)" % (type(e).__name__, e))
    exec_(cmd)


def main():
    cmd = sys.argv[1:]
    kind = kind_of(cmd)
    mode = ENV.get("CCWHEEL_ISOLATION", "off")
    if kind is None or mode not in ("env-dir", "fixed-env", "no-isolation"):
        exec_(cmd)
    if mode == "env-dir":
        env_dir(cmd)
    elif mode == "fixed-env":
        fixed_env(cmd, kind)
    else:
        no_isolation(cmd)


if __name__ == "__main__":
    main()
