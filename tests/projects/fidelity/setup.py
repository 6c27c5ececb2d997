import importlib.util
import json
import os
import shutil
from pathlib import Path

import packaging
from setuptools import Extension, setup

# What this build saw, shipped in the wheel for the test to read.
try:
    import ccwheel_vendored_helper  # a requirement only the user's before-build provides

    vendored = ccwheel_vendored_helper.VERSION
except ImportError:
    vendored = None
Path("fidelity_probe", "build_env.json").write_text(
    json.dumps(
        {
            "packaging": packaging.__version__,
            "pathspec_visible": importlib.util.find_spec("pathspec") is not None,
            # A build requirement's script: isolated builds put their scripts on PATH.
            "ninja_on_path": shutil.which("ninja") is not None,
            "vendored": vendored,
            # A PYTHONPATH of the user's (the test sets this entry): pip's isolation hides
            # it from the backend, pypa/build's from 1.4.3.
            "user_pythonpath": "/ccwheel-user-path" in os.environ.get("PYTHONPATH", "").split(":"),
        }
    )
)

setup(
    packages=["fidelity_probe"],
    package_data={"fidelity_probe": ["build_env.json"]},
    ext_modules=[Extension("fidelity_probe._c", sources=["csrc/probe.c"])],
)
