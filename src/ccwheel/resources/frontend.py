"""Run the build frontend's command with the build environment at a fixed path.

usage: python frontend.py FRONTEND-COMMAND...

cibuildwheel runs this in place of its frontend command (`python -m pip wheel ...`,
`python -m build ...`, `uv build ...`) when ccwheel composes the build: so everything here
happens after the user's before-build, exactly when the frontend itself would resolve
the build requirements. It runs in the build container under the build's own Python
(any version cibuildwheel builds for): plain os.path code, nothing to install.

What it does, by CCWHEEL_ISOLATION (the contracts are declared in platforms/linux.py and
platforms/host.py):
- env-dir: pypa/build isolates in CCWHEEL_ENV_DIR itself (--env-dir, build >= 1.6); an
  older one as in fixed-env.
- fixed-env, pip and pypa/build (also with uv as its installer): the frontend's own
  command runs in this process, unchanged, with only the directory of its build
  environment pinned to CCWHEEL_ENV_DIR (see pinned()): its isolation is its own.
- fixed-env, uv: uv makes its build environment itself, in its cache: a new virtual
  environment with nothing but the build requirements (the static ones, then those the
  backend asks for, asked in that environment), made by uv at CCWHEEL_ENV_DIR; then
  `uv build --no-build-isolation --python` it.
- no-isolation: the build requirements go into the build interpreter itself (an explicit
  choice; the build sees whatever else is installed there too).

Whatever goes wrong here is ccwheel's problem, not the build's: one warning line, and the
frontend's own command runs unchanged (with its own isolation, at its random paths). What
goes wrong in the frontend itself is the build's, as without ccwheel.
"""

import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time

ENV = os.environ
# The command and environment as cibuildwheel gave them: what the safety net runs.
ORIGINAL = (sys.argv[1:], dict(os.environ))


def warn(message):
    sys.stderr.write("ccwheel: warning: %s\n" % message)
    sys.stderr.flush()


def log(message):
    sys.stderr.write("ccwheel: %s\n" % message)
    sys.stderr.flush()


def program(word):
    """uv for uv, /usr/local/bin/uv and C:\\tools\\uv.exe alike (the host builds name uv by
    its full path)."""
    name = re.split(r"[\\/]", word)[-1]
    return name[:-4] if name.lower().endswith(".exe") else name


# uv, as the build's command names it (else as PATH has it): set by main().
UV = ["uv"]


def kind_of(cmd):
    """pip, build or uv: which frontend command this is (None: not one ccwheel knows)."""
    if cmd[1:4] == ["-m", "pip", "wheel"]:
        return "pip"
    if cmd[1:3] == ["-m", "build"]:
        return "build"
    if cmd[1:2] == ["build"] and program(cmd[0]) == "uv":
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
            out.append(arg[2:][1:] if arg[2] == "=" else arg[2:])
        i += 1
    return out


# uv has no parser ccwheel can ask: it carries the options it knows, lets through those
# cibuildwheel itself gives, and leaves uv alone on any other.
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
    "--exclude-newer",
    "--exclude-newer-package",
    "--no-binary-package",
    "--no-build-package",
    "--allow-insecure-host",
    "--fork-strategy",
)
UV_FINDER_FLAGS = ("--no-index", "--no-binary", "--no-build", "--offline", "--native-tls")
UV_BUILD_CONSTRAINT = ("-b", "--build-constraint", "--build-constraints")
UV_LET_THROUGH = (
    "-o",
    "--out-dir",
    "-C",
    "--config-setting",
    "--config-settings",
    "--color",
)
UV_LET_THROUGH_FLAGS = (
    "--wheel",
    "-v",
    "--verbose",
    "-q",
    "--quiet",
    "--no-progress",
    "--no-build-logs",
)
# Settings (in [tool.uv], a uv.toml, UV_CONFIG_FILE) that `uv build` applies to its build
# environment and `uv pip install` does not, or the other way round ([pip]).
UV_BUILD_SETTINGS = (
    "sources",
    "extra-build-dependencies",
    "build-constraint-dependencies",
    "no-build-isolation",
    "no-build-isolation-package",
    "extra-build-variables",
    "dependency-metadata",
    "config-settings",
    "config-settings-package",
    "pip",
)
# Variables that would send pip's install somewhere else than the environment, or that
# the frontends' own build environments ignore.
INSTALL_UNSET = ("PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_ROOT", "UV_CONSTRAINT", "UV_OVERRIDE")


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


def pyproject(package):
    path = os.path.join(package, "pyproject.toml")
    return load_toml(path) if os.path.exists(path) else None


def build_system(package):
    """[build-system] with the defaults pip and pypa/build apply (PEP 517/518)."""
    table = (pyproject(package) or {}).get("build-system", {})
    if "build-backend" not in table:
        table = dict(table)
        table.setdefault("requires", ["setuptools>=40.8.0"])
        table["build-backend"] = "setuptools.build_meta:__legacy__"
    return table


def hook_caller(package, table, python):
    try:
        from pyproject_hooks import BuildBackendHookCaller
    except ImportError:
        try:
            from pip._vendor.pyproject_hooks import BuildBackendHookCaller
        except ImportError:
            # An interpreter without pip (uv's environments, on the host): the copy of
            # pyproject_hooks ccwheel brings (CCWHEEL_LIB, see platforms/host.py).
            sys.path.append(ENV["CCWHEEL_LIB"])
            from pyproject_hooks import BuildBackendHookCaller
    return BuildBackendHookCaller(
        package,
        table["build-backend"],
        backend_path=table.get("backend-path"),
        python_executable=python,
    )


def uses_uv(cmd):
    found, _ = options(cmd, ("--installer",), ())
    return kind_of(cmd) == "uv" or (values(found, ("--installer",)) or ["pip"])[-1] == "uv"


class Installer:
    """Installs into the environment of `python` with the frontend's own installer: uv for
    uv (from outside the environment), pip for pip (the interpreter's own, for
    no-isolation). `extra`: the user's options that steer finding the requirements
    (indexes, find-links, constraints)."""

    def __init__(self, python, use_uv, extra=()):
        self.python = python
        self.use_uv = use_uv
        self.extra = list(extra)

    def install(self, requirements):
        if not requirements:
            return
        if self.use_uv:
            cmd = [UV[0], "pip", "install", "--python", self.python]
        else:
            cmd = [self.python, "-m", "pip", "install", "-q", "--no-user"]
        env = {k: v for k, v in ENV.items() if k not in INSTALL_UNSET}
        log("installing build requirements: %s" % ", ".join(requirements))
        subprocess.check_call(
            cmd + self.extra + list(requirements),
            stdout=sys.stderr,
            env=env,
            cwd=ENV.get("CCWHEEL_PACKAGE") or None,
        )


def create_env(path, extra):
    """A new virtual environment at `path` for the build requirements, made by uv."""
    shutil.rmtree(path, ignore_errors=True)
    subprocess.check_call(
        [UV[0], "venv", "-q", "--python", sys.executable, path], stdout=sys.stderr
    )
    python = (
        os.path.join(path, "Scripts", "python.exe")
        if os.name == "nt"
        else os.path.join(path, "bin", "python")
    )
    return Installer(python, True, extra)


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


def has_env_dir():
    out = subprocess.run(
        [sys.executable, "-m", "build", "--help"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        universal_newlines=True,
    ).stdout
    return "--env-dir" in out


def exec_(cmd, also=()):
    """The frontend's command in place of this process; the include digest (host builds)
    taken first, as everything the build installs before its backend is in place."""
    include_digest(also)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":
        # Windows has no exec: the process would end before its replacement, and
        # cibuildwheel would go on while the frontend still runs.
        sys.exit(subprocess.call(cmd, env=ENV))
    os.execvp(cmd[0], cmd)


def env_dir(cmd):
    """pypa/build isolates at the fixed path itself where it can (--env-dir, build >= 1.6);
    an image's older one runs as it is, its environment pinned as in fixed-env (not
    upgraded: the build is the image's, as with plain cibuildwheel)."""
    if has_env_dir():
        exec_(cmd)
    return pinned([a for a in cmd if not a.startswith("--env-dir")], "build")


def uv_plan(cmd, data):
    """uv: the options ccwheel knows are carried or let through; any other leaves uv to
    itself, and so do settings `uv build` and `uv pip install` would not share."""
    package = ENV["CCWHEEL_PACKAGE"]
    configs = [("[tool.uv]", ((data or {}).get("tool") or {}).get("uv") or {})]
    for path in (ENV.get("UV_CONFIG_FILE"), os.path.join(package, "uv.toml")):
        if path and os.path.isfile(path):
            configs.append((path, load_toml(path)))
    for where, table in configs:
        for key in UV_BUILD_SETTINGS:
            if key in table:
                raise Unfaithful("%s %s changes how uv builds it" % (where, key))
    args = without_python_option(cmd[2:])
    valued = UV_FINDER + UV_BUILD_CONSTRAINT + UV_LET_THROUGH
    flags = UV_FINDER_FLAGS + UV_LET_THROUGH_FLAGS
    found, positional = options(args, valued, flags)
    unknown = [a for a in positional if a.startswith("-")]
    if unknown:
        raise Unfaithful("uv option %s is not one ccwheel knows" % unknown[0])
    constraints = values(found, UV_BUILD_CONSTRAINT)
    # Stays in the environment: `uv build --no-build-isolation` takes it and leaves it
    # unused, and the backend sees it as with plain cibuildwheel.
    constraints += ENV.get("UV_BUILD_CONSTRAINT", "").split()
    extra, _ = options(found, UV_FINDER, UV_FINDER_FLAGS)
    extra += [a for c in constraints for a in ("-c", c)]
    _, rest = options(args, UV_BUILD_CONSTRAINT, ())
    return extra, rest, config_settings(args)


# Where pip and pypa/build make their isolated build environments, in their own process:
# tempfile.mkdtemp with these prefixes (pip/_internal/utils/temp_dir.py, build/env.py).
ENV_PREFIX = {"pip": "pip-build-env-", "build": "build-env-"}


def pin_mkdtemp(wanted, path, nested):
    """From now on, tempfile.mkdtemp(prefix=wanted) makes `path` (emptied first). With
    `nested` (pip: its environments for build requirements from sdists live while the
    project's does), later ones are path-2, path-3...; without (pypa/build, which has one
    at a time, and 1.0 to 1.1 make a second for its venv and leave the first unused), each
    is `path` again. Every other temporary directory is made as before. Where the fixed
    one cannot be made, a random one is: one warning, and the build goes on."""
    real = tempfile.mkdtemp
    made = []

    def mkdtemp(suffix=None, prefix=None, dir=None):
        if prefix != wanted or suffix or dir is not None:
            return real(suffix, prefix, dir)
        target = path if not (made and nested) else "%s-%d" % (path, len(made) + 1)
        try:
            if os.path.islink(target) or os.path.isfile(target):
                os.unlink(target)
            elif os.path.isdir(target):
                shutil.rmtree(target)
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                os.makedirs(parent)
            os.mkdir(target, 0o700)
        except OSError as e:
            warn(
                "could not make the build environment at %s (%s) - the frontend makes it at "
                "a random path (compiles that include it will miss)" % (target, e)
            )
            return real(suffix, prefix, dir)
        made.append(target)
        return target

    tempfile.mkdtemp = mkdtemp


def pinned(cmd, kind):
    """pip and pypa/build are this interpreter's `python -m MODULE`: their own command runs
    here, as it is, with only its build environment's directory pinned. Every option,
    variable, configuration file and constraint rule of theirs is then as with plain
    cibuildwheel, because it is the frontend; the backend runs in a child process, which
    sees nothing of this."""
    if program(cmd[0]) not in ("python", "python3") or len(cmd) < 3:
        return lambda: exec_(cmd)
    pin_mkdtemp(ENV_PREFIX[kind], ENV["CCWHEEL_ENV_DIR"], nested=kind == "pip")

    def run():
        include_digest()
        sys.argv = [cmd[0]] + cmd[3:]
        if not getattr(sys.flags, "safe_path", False):
            # As `python -m` has it (under -P / PYTHONSAFEPATH it adds nothing, and
            # sys.path[0] is then the user's own).
            sys.path[0] = os.getcwd()
        runpy.run_module(cmd[2], run_name="__main__", alter_sys=True)

    return run


def uv_env(cmd):
    """uv makes its build environments itself (a random directory in its cache): a new
    environment of ccwheel's at the fixed path, with nothing but the build requirements,
    installed by uv; then `uv build` runs without isolation, its backend in it."""
    path = ENV["CCWHEEL_ENV_DIR"]
    try:
        extra, rest, settings = uv_plan(cmd, pyproject(ENV["CCWHEEL_PACKAGE"]))
    except Unfaithful as e:
        log(
            "note: %s: uv makes its own build environment for %s, at its own paths "
            "(compiles that include its headers may miss)"
            % (e, ENV.get("CCWHEEL_IDENTIFIER", "this build"))
        )
        exec_(cmd)
    # Found before the environment's scripts come first on PATH.
    uv = UV[0]
    old_path = ENV.get("PATH", "")
    started = time.monotonic()
    failure = None
    try:
        installer = create_env(path, extra)
        # As uv runs the backend's hooks: with the environment's scripts (cmake, ninja,
        # meson, cython from the build requirements) first on PATH. `uv build --python`
        # of a virtual environment puts them there itself.
        ENV["PATH"] = os.path.dirname(installer.python) + os.pathsep + old_path
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], settings)
    except Exception as e:  # whatever it was, uv's own way may still build
        failure = e
    ENV["PATH"] = old_path
    if failure is not None:
        warn(
            "could not prepare the build environment at %s (%s: %s) - retrying with uv's "
            "own isolation (compiles that include its environment will miss)"
            % (path, type(failure).__name__, failure)
        )
        exec_(cmd)
    log(
        "build environment at %s in %.1fs: the build requirements and nothing else"
        % (path, time.monotonic() - started)
    )
    exec_(
        [uv, "build", "--python=%s" % installer.python, "--no-build-isolation"] + rest,
        also=[os.path.join(path, "include")],  # where the backend runs
    )


def no_isolation(cmd):
    """The build requirements go into this interpreter (the user chose no-isolation)."""
    try:
        installer = Installer(sys.executable, uses_uv(cmd))
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], config_settings(cmd))
    except Exception as e:
        warn("could not install the build requirements (%s: %s)" % (type(e).__name__, e))
    exec_(cmd)  # its digest with the headers the requirements brought into this interpreter


def include_digest(also=()):
    """Where the host builds' contract names a file for it (CCWHEEL_INCLUDE_DIGEST, see
    platforms/host.py): the digest of this interpreter's include directory (cibuildwheel's
    virtualenv's, on every compile line setuptools makes when the backend runs there) and
    of the directories `also` (an environment of ccwheel's own), as they are now, hashed by
    ccache with every compile of the build. A header that appeared there since the last
    run, shadowing one found later on the include path, then misses instead of hitting the
    object compiled without it. If it cannot be written, direct mode (which cannot see such
    a header) is off for the build."""
    target = ENV.get("CCWHEEL_INCLUDE_DIGEST")
    if not target:
        return
    roots = [os.path.join(sys.prefix, "include")] + list(also)
    try:
        with open(target, "w") as f:
            f.write("\n".join(line for root in roots for line in _listing(root)) + "\n")
    except Exception as e:  # the cache must never be why a build fails (also in the net)
        warn("could not list %s (%s) - ccache's direct mode is off for this build" % (roots, e))
        ENV["CCACHE_NODIRECT"] = "1"
        return
    listed = ENV.get("CCACHE_EXTRAFILES", "").split(os.pathsep)
    if target not in listed:
        ENV["CCACHE_EXTRAFILES"] = os.pathsep.join([p for p in listed if p] + [target])


def _listing(root):
    """Each file under `root` (following links to directories, each directory once) with
    its content's digest, and each link with its target, in a stable order."""
    import hashlib

    lines, seen = ["root %s" % root], set()
    for top, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(top, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                lines.append("link %s %s" % (rel, os.readlink(path)))
            if name in files:
                with open(path, "rb") as f:
                    lines.append("file %s %s" % (rel, hashlib.sha256(f.read()).hexdigest()))
    return lines


# The user's own "no isolation" in the environment the build runs with (possibly passed in
# from the host, where ccwheel's composition cannot see it): the frontend is theirs.
OWN_ISOLATION = {"pip": "PIP_NO_BUILD_ISOLATION", "uv": "UV_NO_BUILD_ISOLATION"}


def main():
    """Runs (execs) the command it makes, or returns what runs the frontend in this process
    (outside the safety net: a failure of the frontend's is the build's, as without
    ccwheel)."""
    cmd = sys.argv[1:]
    kind = kind_of(cmd)
    UV[0] = cmd[0] if kind == "uv" else (shutil.which("uv") or "uv")
    mode = ENV.get("CCWHEEL_ISOLATION", "off")
    if kind is None or mode not in ("env-dir", "fixed-env", "no-isolation"):
        exec_(cmd)
    own = OWN_ISOLATION.get(kind)
    if own and own in ENV:
        log("note: %s is set: the frontend isolates as you chose" % own)
        exec_(cmd)
    if mode == "env-dir":
        return env_dir(cmd)
    if mode == "fixed-env" and kind == "uv":
        uv_env(cmd)
    elif mode == "fixed-env":
        return pinned(cmd, kind)
    else:
        no_isolation(cmd)
    return None


if __name__ == "__main__":
    run = None
    try:
        run = main()
    except Exception as e:  # a fault of ccwheel's must not fail the build
        warn(
            "ccwheel's frontend step failed (%s: %s) - running the frontend's command as it is"
            % (type(e).__name__, e)
        )
        os.environ.clear()
        os.environ.update(ORIGINAL[1])
        exec_(ORIGINAL[0])
    if run is not None:
        run()
