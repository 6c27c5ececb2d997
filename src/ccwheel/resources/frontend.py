"""Run the build frontend's command with the build environment at a fixed path.

usage: python frontend.py FRONTEND-COMMAND...

cibuildwheel runs this in place of its frontend command (`python -m pip wheel ...`,
`python -m build ...`, `uv build ...`) when ccwheel composes the build: so everything here
happens after the user's before-build, exactly when the frontend itself would resolve
the build requirements. It runs in the build container under the build's own Python
(any version cibuildwheel builds for): plain os.path code, nothing to install.

What it does, by CCWHEEL_ISOLATION (the contracts are declared in platforms/linux.py and
platforms/host.py):
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
import shutil
import subprocess
import sys
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


# What pip's own isolated build passes from `pip wheel`'s options to the install of the
# build requirements (pip's build_env): the options with these destinations are carried
# over to ccwheel's install, in the form pip's parser read them.
PIP_FINDER_DESTS = (
    "index_url",
    "extra_index_urls",
    "no_index",
    "find_links",
    "trusted_hosts",
    "pre",
    "prefer_binary",
    "format_control",
    "cert",
    "client_cert",
    "proxy",
    "retries",
    "timeout",
    "keyring_provider",
    "uploaded_prior_to",
    "release_control",
    "no_proxy_env",
)
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
            cmd = [UV[0], "pip", "install", "--python", self.python]
        elif self.outer_pip:
            cmd = [sys.executable, "-m", "pip", "--python", self.python, "install", "-q"]
        else:
            cmd = [self.python, "-m", "pip", "install", "-q"]
        env = {k: v for k, v in ENV.items() if k not in INSTALL_UNSET}
        if not self.use_uv:
            cmd.append("--no-user")
            # As pip's own build environments (pip >= 25.3): the user's constraints are
            # for the project's dependencies, not its build requirements.
            env["_PIP_IN_BUILD_IGNORE_CONSTRAINTS"] = "1"
        log("installing build requirements: %s" % ", ".join(requirements))
        subprocess.check_call(
            cmd + self.extra + list(requirements),
            stdout=sys.stderr,
            env=env,
            cwd=ENV.get("CCWHEEL_PACKAGE") or None,
        )


def create_env(path, use_uv, extra):
    """A new virtual environment at `path` for the build requirements."""
    shutil.rmtree(path, ignore_errors=True)
    if use_uv:
        cmd = [UV[0], "venv", "-q", "--python", sys.executable, path]
    else:
        # Without pip (nor the setuptools ensurepip brings before Python 3.12): this
        # interpreter's pip installs into it from outside (plan() made sure it can).
        cmd = [sys.executable, "-m", "venv", "--without-pip", path]
    subprocess.check_call(cmd, stdout=sys.stderr)
    python = (
        os.path.join(path, "Scripts", "python.exe")
        if os.name == "nt"
        else os.path.join(path, "bin", "python")
    )
    return Installer(python, use_uv, True, extra)


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


# pypa/build's command line, run by this interpreter with another one as the one it runs
# the backend with (its --no-isolation takes sys.executable).
_BUILD_WITH = (
    "import runpy, sys; sys.executable = sys.argv[1]; "
    "sys.argv = ['python -m build'] + sys.argv[2:]; "
    "runpy.run_module('build', run_name='__main__', alter_sys=True)"
)


def build_command(python, args):
    """pypa/build's own command line with `python` as the backend's interpreter: nothing of
    this interpreter's packages reaches the backend, and build's check that the
    requirements are installed here is skipped, since they are installed there."""
    return (
        [sys.executable, "-c", _BUILD_WITH, python]
        + list(args)
        + [
            "--no-isolation",
            "--skip-dependency-check",
        ]
    )


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
    if os.name == "nt":
        # Windows has no exec: the process would end before its replacement, and
        # cibuildwheel would go on while the frontend still runs.
        sys.exit(subprocess.call(cmd, env=ENV))
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


def _option(parser_options, token):
    """The option a command-line token names, as optparse/argparse match it (a unique
    prefix of a long option counts), or None."""
    name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
    if name in parser_options:
        return parser_options[name]
    if token.startswith("--"):
        found = [o for o in parser_options if o.startswith(name) and o.startswith("--")]
        if len({id(parser_options[o]) for o in found}) == 1:
            return parser_options[found[0]]
    return None


def _split(tokens, parser_options, takes_value, wanted):
    """(tokens of the options `wanted` says yes to, the other tokens), each option with its
    value; `takes_value(option)` tells the options that take one."""
    chosen, rest = [], []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        option = _option(parser_options, token) if token.startswith("-") else None
        group = [token]
        inline = "=" in token if token.startswith("--") else len(token) > 2
        if option is not None and takes_value(option) and not inline and i + 1 < len(tokens):
            group.append(tokens[i + 1])
        (chosen if option is not None and wanted(option) else rest).extend(group)
        i += len(group)
    return chosen, rest


def pip_plan(args):
    """`pip wheel`'s own parser reads its options as pip does: the command line (with
    abbreviations), PIP_* variables and pip's configuration files."""
    from pip._internal.commands import create_command

    command = create_command("wheel")
    try:
        parsed, _ = command.parse_args(list(args))
    except SystemExit:
        raise Unfaithful("pip could not read its options") from None
    if not getattr(parsed, "build_isolation", True) or getattr(parsed, "use_pep517", None) is False:
        raise Unfaithful("pip is told not to isolate")
    parser = command.parser
    table = dict(parser._long_opt)
    table.update(parser._short_opt)

    def takes_value(option):
        return option.takes_value()

    finder, _ = _split(args, table, takes_value, lambda o: o.dest in PIP_FINDER_DESTS)
    cli_constraints, rest = _split(
        args, table, takes_value, lambda o: o.dest == "build_constraints"
    )
    # pip >= 25.3 constrains an isolated build's requirements with build constraints, and
    # refuses them with --no-build-isolation: they become constraints of ccwheel's install,
    # taken out of the command and of the environment. From a config file, they cannot be.
    constraints = list(getattr(parsed, "build_constraints", None) or [])
    unset = []
    from_env = ENV.get("PIP_BUILD_CONSTRAINT", "").split()
    if from_env:
        unset.append("PIP_BUILD_CONSTRAINT")
    carried = set(from_env)
    carried.update(v for v in cli_constraints if not v.startswith("-"))
    carried.update(t.split("=", 1)[1] for t in cli_constraints if t.startswith("--") and "=" in t)
    if any(c not in carried for c in constraints):
        raise Unfaithful("pip's configuration gives build constraints")
    extra = list(finder) + [a for c in constraints for a in ("-c", c)]
    return extra, rest, unset, dict(parsed.config_settings or {})


def build_plan(args):
    """pypa/build's own parser: its --installer (any abbreviation) chooses the installer
    and leaves the command, which then runs without isolation."""
    from build.__main__ import main_parser

    parser = main_parser()
    try:
        parsed, _ = parser.parse_known_args(list(args))
    except SystemExit:
        raise Unfaithful("pypa/build could not read its options") from None
    table = dict(parser._option_string_actions)
    _, rest = _split(
        args, table, lambda a: a.nargs != 0, lambda a: "--installer" in a.option_strings
    )
    settings = config_settings(
        ["-C%s" % c for c in (getattr(parsed, "config_settings", None) or [])]
    )
    if getattr(parsed, "config_json", None):
        settings.update(config_settings(["--config-json", parsed.config_json]))
    installer = getattr(parsed, "installer", None) or "pip"
    return installer == "uv", rest, settings


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
    unset = []
    if ENV.get("UV_BUILD_CONSTRAINT"):
        constraints += ENV["UV_BUILD_CONSTRAINT"].split()
        unset.append("UV_BUILD_CONSTRAINT")
    extra, _ = options(found, UV_FINDER, UV_FINDER_FLAGS)
    extra += [a for c in constraints for a in ("-c", c)]
    _, rest = options(args, UV_BUILD_CONSTRAINT, ())
    return extra, rest, unset, config_settings(args)


def plan(cmd, kind):
    """For a frontend command: (use uv, options for the install of the requirements, the
    command's arguments after the frontend's own words with what ccwheel carried over
    taken out, variables to take out of its environment, the config settings). Unfaithful
    when ccwheel's environment would not be the one the frontend would make."""
    data = pyproject(ENV["CCWHEEL_PACKAGE"])
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
        extra, rest, unset, settings = pip_plan(cmd[4:])
        return False, extra, rest, unset, settings
    if kind == "uv":
        extra, rest, unset, settings = uv_plan(cmd, data)
        return True, extra, rest, unset, settings
    use_uv, rest, settings = build_plan(cmd[3:])
    if not use_uv and not pip_has_python_option():
        raise Unfaithful("its pip is older than 22.3 (no --python)")
    return use_uv, [], rest, [], settings


def _version(dist):
    try:
        from importlib.metadata import version
    except ImportError:  # Python < 3.8: no metadata to ask
        return ()
    try:
        return tuple(int(p) for p in re.findall(r"\d+", version(dist))[:3])
    except Exception:
        return ()


def clears_pythonpath(kind):
    """Whether the frontend's own isolated build hides a PYTHONPATH of the user's from the
    backend: pip's always has (its build environment sets its own), pypa/build's from 1.4.3
    (`'PYTHONPATH': ''`). uv's is not known here: left as it is."""
    if kind == "pip":
        return True
    return kind == "build" and _version("build") >= (1, 4, 3)


def fixed_env(cmd, kind):
    path = ENV["CCWHEEL_ENV_DIR"]
    try:
        use_uv, extra, rest, unset, settings = plan(cmd, kind)
    except Unfaithful as e:
        log(
            "note: %s: the frontend makes its own build environment for %s, at its own "
            "paths (compiles that include its headers may miss)"
            % (e, ENV.get("CCWHEEL_IDENTIFIER", "this build"))
        )
        exec_(cmd)
    # Found before the environment's scripts come first on PATH.
    uv = UV[0]
    old_path, old_pythonpath = ENV.get("PATH", ""), ENV.get("PYTHONPATH")
    started = time.monotonic()
    try:
        installer = create_env(path, use_uv, extra)
        # As an isolated build runs its backend: with the environment's scripts (cmake,
        # ninja, meson, cython from the build requirements) first on PATH.
        ENV["PATH"] = os.path.dirname(installer.python) + os.pathsep + old_path
        if clears_pythonpath(kind) and "PYTHONPATH" in ENV:
            # Empty, as the frontend's own isolation has it: CPython takes it as unset.
            ENV["PYTHONPATH"] = ""
        install_requirements(installer, ENV["CCWHEEL_PACKAGE"], settings)
    except Exception as e:  # whatever it was, the frontend's own way may still build
        ENV["PATH"] = old_path
        if old_pythonpath is not None:
            ENV["PYTHONPATH"] = old_pythonpath
        warn(
            "could not prepare the build environment at %s (%s: %s) - retrying with the "
            "frontend's own isolation (compiles that include its environment will miss)"
            % (path, type(e).__name__, e)
        )
        exec_(cmd)
    log(
        "build environment at %s in %.1fs: the build requirements and nothing else"
        % (path, time.monotonic() - started)
    )
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
    exec_(build_command(python, rest))


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
    UV[0] = cmd[0] if kind == "uv" else (shutil.which("uv") or "uv")
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
        os.environ.clear()
        os.environ.update(ORIGINAL[1])
        exec_(ORIGINAL[0])
