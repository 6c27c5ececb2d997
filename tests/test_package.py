"""One version: the code's, which the package metadata, CHANGELOG.md and the README's
GitHub Actions example agree with (`nox -s package` checks the built wheel)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import ccwheel

ROOT = Path(__file__).parent.parent


def test_the_installed_metadata_has_the_code_s_version() -> None:
    assert importlib.metadata.version("ccwheel") == ccwheel.__version__


def test_the_changelog_starts_with_this_version() -> None:
    first = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert first is not None and first.group(1) == ccwheel.__version__


def test_the_readme_s_and_the_docs_action_examples_name_this_version() -> None:
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        pins = re.findall(r"uses: \S+/ccwheel@[0-9a-f]{40} # v(\S+)", page.read_text())
        assert set(pins) <= {ccwheel.__version__}, page
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"uses: \S+/ccwheel@[0-9a-f]{40} # v(\S+)", readme)
