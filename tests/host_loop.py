"""cibuildwheel's own macOS (and Windows) build loop, run on this Linux machine with gcc.

There is no Mac or Windows machine here, so the host-build path is tested through the real
thing as far as it runs on Linux: cibuildwheel's `platforms/macos.py` `build()`, with its
option handling, before-build, frontend commands, virtualenvs and random `cibw-run-*`
directories. What is replaced is what needs macOS itself or the network beyond PyPI:

- `install_cpython` (python.org's installer, `sudo installer`): this machine's interpreter
  of the same version, the one running the tests;
- `get_macos_version` (`platform.mac_ver()` is empty on Linux): 14.0;
- `_PYTHON_HOST_PLATFORM`, which `setup_python` sets unless it is set: set to this
  machine's own, or the wheel would be tagged macosx, pip would take no manylinux wheel
  for the build requirements, and uv would not take the interpreter;
- virtualenv's zipapp, which cibuildwheel downloads from GitHub: one made from
  virtualenv's wheels on PyPI (`pip install --target` and `zipapp`), handed over where
  cibuildwheel asks for it (`venv._ensure_virtualenv`);
- delocate's repair (`CIBW_REPAIR_WHEEL_COMMAND_MACOS=""`) and the pins of packages the
  index may lack (`CIBW_DEPENDENCY_VERSIONS=latest`).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import sysconfig
import zipapp
from pathlib import Path
from typing import Any, Iterator

# The identifier the loop builds: the interpreter running the tests, for macOS x86_64
# (cibuildwheel on an x86_64 Linux picks x86_64 as the native macOS architecture).
IDENTIFIER = f"cp{sys.version_info.major}{sys.version_info.minor}-macosx_x86_64"


def base_python() -> Path:
    """This interpreter's own installation (not a virtual environment's), as
    install_cpython returns python.org's."""
    exe = Path(sysconfig.get_config_var("BINDIR") or Path(sys.base_prefix, "bin"))
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        if (exe / name).exists():
            return exe / name
    msg = f"no base interpreter found in {exe}"
    raise RuntimeError(msg)


def virtualenv_zipapp(dest: Path) -> Path:
    """virtualenv as the zipapp cibuildwheel downloads, made from PyPI's wheels (once)."""
    pyz = dest / "virtualenv.pyz"
    if pyz.is_file():
        return pyz
    target = dest / "virtualenv-src"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "virtualenv",
        ],
        check=True,
    )
    zipapp.create_archive(target, pyz, main="virtualenv.__main__:run_with_catch")
    return pyz


@contextlib.contextmanager
def macos_loop_on_linux(pyz: Path) -> Iterator[dict[str, str]]:
    """cibuildwheel's macOS module patched as the module docstring says; yields the
    variables the run needs (for monkeypatch.setenv)."""
    from packaging.version import Version

    from ccwheel import cibw

    modules = {m.__name__.rsplit(".", 1)[-1]: m for m in cibw._host_modules()}
    macos = modules["macos"]
    try:
        import cibuildwheel.venv as venv  # 3.0 and later: (path, version)

        ensure: Any = lambda _version: (pyz, Version(_pyz_version(pyz)))  # noqa: E731
    except ImportError:
        import cibuildwheel.util as venv  # 2.x: the path only

        ensure = lambda _version: pyz  # noqa: E731

    saved: dict[tuple[Any, str], Any] = {}

    def patch(obj: Any, name: str, value: Any) -> None:
        saved[(obj, name)] = getattr(obj, name)
        setattr(obj, name, value)

    python = base_python()
    patch(macos, "install_cpython", lambda *_a, **_kw: python)
    patch(macos, "get_macos_version", lambda: (14, 0))
    patch(venv, "_ensure_virtualenv", ensure)
    try:
        yield _loop_env("MACOS", "x86_64")
    finally:
        for (obj, name), value in saved.items():
            setattr(obj, name, value)


@contextlib.contextmanager
def windows_loop_on_linux(pyz: Path) -> Iterator[dict[str, str]]:
    """cibuildwheel's Windows module (3.0 and later), its build loop as far as it runs on
    Linux: `setup_python` (nuget's Python, `where`, Visual Studio for GraalPy) is replaced
    by what it does that Linux can do: cibuildwheel's own virtualenv for the build, the
    user's environment applied over it, pypa/build installed. The loop itself (before-build,
    the frontend's command through the module's `call`, the wheel's way out) is the real one."""
    import inspect

    from packaging.version import Version

    from ccwheel import cibw

    modules = {m.__name__.rsplit(".", 1)[-1]: m for m in cibw._host_modules()}
    windows = modules["windows"]
    import cibuildwheel.venv as venv

    python = base_python()

    def setup_python(
        tmp: Path, config: Any, constraint: Any, environment: Any, frontend: str
    ) -> Any:
        tmp.mkdir()
        kwargs: dict[str, Any] = {"use_uv": False}
        if "marker_env" in inspect.signature(venv.virtualenv).parameters:
            kwargs["marker_env"] = venv.target_marker_env(
                implementation_id=config.identifier.split("-")[0]
            )
        env = venv.virtualenv(config.version, python, tmp / "venv", constraint, **kwargs)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env = environment.as_dictionary(prev_environment=env)
        windows.call("python", "-m", "pip", "install", "build[virtualenv]", env=env)
        return python, env

    saved = {
        (windows, "setup_python"): windows.setup_python,
        (venv, "_ensure_virtualenv"): venv._ensure_virtualenv,
    }
    windows.setup_python = setup_python
    venv._ensure_virtualenv = lambda _version: (pyz, Version(_pyz_version(pyz)))
    try:
        yield _loop_env("WINDOWS", "AMD64")
    finally:
        for (obj, name), value in saved.items():
            setattr(obj, name, value)


def _loop_env(platform: str, arch: str) -> dict[str, str]:
    """The variables a loop's run needs (for monkeypatch.setenv)."""
    return {
        f"CIBW_REPAIR_WHEEL_COMMAND_{platform}": "",
        "CIBW_DEPENDENCY_VERSIONS": "latest",
        "CIBW_BUILD": IDENTIFIER.split("-")[0] + "-*",
        f"CIBW_ARCHS_{platform}": arch,
        "_PYTHON_HOST_PLATFORM": sysconfig.get_platform(),
    }


def _pyz_version(pyz: Path) -> str:
    out = subprocess.run(
        [sys.executable, str(pyz), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[1]


__all__ = [
    "IDENTIFIER",
    "base_python",
    "macos_loop_on_linux",
    "virtualenv_zipapp",
    "windows_loop_on_linux",
]
