"""setuptools' own backend, telling setup.py (run in this process) the config settings
each hook got: what the frontend passed, for the record."""

import json
import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def get_requires_for_build_wheel(config_settings=None):
    os.environ["FIDELITY_PROBE_REQUIRES_SETTINGS"] = json.dumps(config_settings)
    return _setuptools.get_requires_for_build_wheel(config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    os.environ["FIDELITY_PROBE_SETTINGS"] = json.dumps(config_settings)
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
