import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import packaging
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:
    import ccwheel_vendored_helper  # a requirement only the user's before-build provides

    vendored = ccwheel_vendored_helper.VERSION
except ImportError:
    vendored = None


def seen(compiles):
    """What this build saw (shipped in the wheel for the tests to read): the first keys
    are what an isolated build must see; the rest is compared with what plain
    cibuildwheel's build saw."""
    settings = {k: os.environ.pop(k, None) for k in list(os.environ) if k.startswith("FIDELITY_")}
    return {
        "packaging": packaging.__version__,
        "pathspec_visible": importlib.util.find_spec("pathspec") is not None,
        # A build requirement's script: isolated builds put their scripts on PATH.
        "ninja_on_path": shutil.which("ninja") is not None,
        "vendored": vendored,
        # A PYTHONPATH of the user's (a test sets this entry): pip's isolation hides it
        # from the backend, pypa/build's from 1.4.3.
        "user_pythonpath": "/ccwheel-user-path" in os.environ.get("PYTHONPATH", "").split(":"),
        "distributions": sorted(
            f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
        ),
        "sys_path": sys.path,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "cwd": str(Path.cwd()),
        "environ": dict(os.environ),
        "settings": {k: json.loads(v) for k, v in settings.items() if v is not None},
        "compiles": compiles,
    }


class probe_build_ext(build_ext):
    def build_extensions(self):
        compiles = []
        spawn = self.compiler.spawn

        def record(cmd, **kwargs):
            if "-c" in cmd:
                compiles.append(list(cmd))
            return spawn(cmd, **kwargs)

        self.compiler.spawn = record
        super().build_extensions()
        Path(self.build_lib, "fidelity_probe", "build_env.json").write_text(
            json.dumps(seen(compiles), indent=1, sort_keys=True)
        )


setup(
    packages=["fidelity_probe"],
    ext_modules=[Extension("fidelity_probe._c", sources=["csrc/probe.c"])],
    cmdclass={"build_ext": probe_build_ext},
)
