"""setuptools' backend, run on a copy of the project in a new temporary directory."""

import os
import shutil
import tempfile

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - every other hook as setuptools has it


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel_directory = os.path.abspath(wheel_directory)
    copy = os.path.join(tempfile.mkdtemp(), "src")
    shutil.copytree(os.getcwd(), copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    here = os.getcwd()
    os.chdir(copy)
    try:
        return _setuptools.build_wheel(wheel_directory, config_settings)
    finally:
        os.chdir(here)
