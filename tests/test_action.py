"""ccwheel's GitHub Action (action.yml): a drop-in for cibuildwheel's. It cannot run here;
what it runs is tested elsewhere (`ccwheel ci`: test_ci.py), and `nox -s lint` validates it
against GitHub's schema and audits it with zizmor. These tests hold it to cibuildwheel's
inputs and to ccwheel's own command line."""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path
from typing import Any

import offline
import pytest

from ccwheel import __version__, cibw, config

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).parent.parent
ACTION = ROOT / "action.yml"


def _load(text: str) -> dict[str, Any]:
    return dict(yaml.safe_load(text))


@pytest.fixture(scope="module")
def cibuildwheel_action(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The action.yml of the cibuildwheel installed here, from its sdist on PyPI."""
    version = cibw.version()
    sdist = offline.cibuildwheel_sdist(version, tmp_path_factory.mktemp("cibw-sdist"))
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"cibuildwheel-{version}/action.yml")
        assert member is not None
        return _load(member.read().decode())


def test_every_input_of_cibuildwheel_s_action_is_here_with_its_default(
    cibuildwheel_action: dict[str, Any],
) -> None:
    ours = _load(ACTION.read_text())["inputs"]
    theirs = cibuildwheel_action["inputs"]
    assert theirs, "cibuildwheel's action has no inputs?"
    for name, spec in theirs.items():
        assert name in ours, f"input {name!r} of cibuildwheel's action is missing"
        assert str(ours[name].get("default", "")) == str(spec.get("default", "")), name
        assert ours[name].get("required", False) == spec.get("required", False), name


def test_every_option_and_variable_the_action_passes_exists() -> None:
    """A typo in an option would fail every user's build: each --option in the build steps
    is one of ccwheel's (config.py) or one of cibuildwheel's it passes on, and each
    CCWHEEL_* variable it sets is one of ccwheel's settings."""
    action = _load(ACTION.read_text())
    steps = action["runs"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    used = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", scripts))
    ours = {config.flag(name) for name in config.options()}
    # cibuildwheel's, passed through as its own action passes them.
    theirs = {"--output-dir", "--config-file", "--only"}
    # `ccwheel ci`'s, and pip's --python in the install step.
    ci = {"--report", "--restored-key", "--own-prefix", "--python"}
    assert used <= ours | theirs | ci, used - ours - theirs - ci
    variables = {
        name for step in steps for name in step.get("env", {}) if name.startswith("CCWHEEL_")
    }
    settings = {config.env_name(name) for name in config.options()}
    # The action's own values for `ccwheel ci keys` are INPUT_*: a CCWHEEL_* name that is
    # no setting would be refused by the settings (a slip) or ignored.
    assert variables <= settings, variables - settings
    assert {"CCWHEEL_CACHE", "CCWHEEL_REMOTE_STORAGE", "CCWHEEL_REMOTE_READ_ONLY"} <= variables


def test_inputs_reach_scripts_only_through_the_environment() -> None:
    """No `${{ }}` inside a run script: an input with shell syntax in it cannot run."""
    action = _load(ACTION.read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step


def test_the_remote_storage_url_never_reaches_a_command_line() -> None:
    action = _load(ACTION.read_text())
    for step in action["runs"]["steps"]:
        assert "--remote-storage" not in step.get("run", "")
        for name, value in step.get("env", {}).items():
            if "remote-storage" in str(value):
                assert name == "CCWHEEL_REMOTE_STORAGE", (name, value)


def test_no_readme_workflow_run_on_pull_requests_sets_a_hit_rate_floor() -> None:
    """A pull request that edits a widely included header misses by nature: a floor there
    fails ordinary PRs (exit 20) and skips their upload. The docs show it as a canary,
    in a workflow that pull requests do not run."""
    import readme_workflows

    found = readme_workflows.all_workflows()
    assert found
    canaries = 0
    for _page, text in found:
        workflow = _load(text)
        # PyYAML reads the key `on` as True.
        triggers = workflow.get("on", workflow.get(True))
        names = set(triggers) if isinstance(triggers, (dict, list)) else {triggers}
        uses_floor = "min-hit-rate" in text
        if {"pull_request", "pull_request_target"} & names:
            assert not uses_floor, workflow.get("name")
        canaries += uses_floor
    assert canaries >= 1, "the docs should show the floor as a canary"


def test_the_pinned_cibuildwheel_is_one_the_package_supports_and_the_tests_run() -> None:
    """The action's default cibuildwheel: inside ccwheel's own requirement, the release the
    long tests and cibuildwheel's own suite run against, and the one the README names."""
    from packaging.requirements import Requirement

    pin = _load(ACTION.read_text())["inputs"]["cibuildwheel-version"]["default"]
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [req] = [
        Requirement(r)
        for r in pyproject["project"]["dependencies"]
        if Requirement(r).name == "cibuildwheel"
    ]
    assert req.specifier.contains(pin)
    assert f'CIBUILDWHEEL_SUITE = "cibuildwheel=={pin}"' in (ROOT / "noxfile.py").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"^\| {re.escape(__version__)} \| {re.escape(pin)} \|", readme, re.M)
