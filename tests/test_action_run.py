"""ccwheel's action.yml run as GitHub runs a composite action (tests/gha.py), with real
cibuildwheel, docker, the stand-in image, ccache and gcc: jobs on fresh machines that share
only the actions/cache store, as hosted runners do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import gha
import pytest
import readme_workflows
from conftest import PROJECTS

# The redis-server of the remote-storage tests (as test_trust_docker.py takes it).
from test_remote_docker import PASSWORD, _entries, redis_port  # noqa: F401 (a fixture)


def docker(test: Any) -> Any:
    """Real builds: in the long tier, run once (in `nox -s tests`), not per cibuildwheel
    line (the action installs the cibuildwheel it pins itself)."""
    return pytest.mark.long(pytest.mark.docker(test))


ROOT = Path(__file__).parent.parent
# The checkout whose action.yml runs: this one, or another (an older commit's, to see the
# tests fail on it).
ACTION_DIR = Path(os.environ.get("CCWHEELTEST_ACTION_DIR") or ROOT)
UNITS = 7  # the setuptools example
BUILD = "cp312-manylinux_x86_64"


def test_expressions_as_github_reads_them() -> None:
    runner = gha.Runner(Path("/nonexistent"), gha.CacheStore(Path("/nonexistent")), ROOT)
    ctx = runner._context({"os": "ubuntu-latest"}, 2, 4, {})
    ctx["inputs"] = {"python-path": "", "cache": "true"}
    ctx["steps"] = {"python": {"outputs": {"python-path": "/py"}, "outcome": "success"}}
    ev = runner.evaluate
    assert ev("inputs.python-path || steps.python.outputs.python-path || 'python3'", ctx) == "/py"
    assert ev("inputs.cache == 'TRUE'", ctx) is True  # strings compare case-insensitively
    assert ev("runner.arch == 'X64' || runner.arch == 'ARM64'", ctx) is True
    assert ev("!cancelled() && steps.python.outcome == 'success'", ctx) is True
    assert ev("strategy.job-index", ctx) == 2.0
    assert gha.text_of(ev("strategy.job-index", ctx)) == "2"
    assert json.loads(ev("toJSON(matrix)", ctx)) == {"os": "ubuntu-latest"}
    assert ev("steps.nope.outputs.x", ctx) is None
    assert ev("github.event_name == 'pull_request'", ctx) is False
    assert runner.template("a-${{ matrix.os }}-b", ctx) == "a-ubuntu-latest-b"
    assert runner._condition("inputs.cache == 'true'", ctx, failed=True) is False
    assert runner._condition("${{ !cancelled() }}", ctx, failed=True) is True


def test_the_cache_store_keeps_github_s_rules(tmp_path: Path) -> None:
    store = gha.CacheStore(tmp_path / "store")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "f").write_text("1")
    path = str(tmp_path / "c")
    assert store.save(path, "k-a-1", "refs/heads/main").startswith("Cache saved")
    (tmp_path / "c" / "f").write_text("2")
    assert store.save(path, "k-a-2", "refs/heads/main").startswith("Cache saved")
    (tmp_path / "c" / "f").write_text("3")
    # A saved key is never overwritten.
    assert store.save(path, "k-a-2", "refs/heads/main").startswith("Failed")
    shutil.rmtree(tmp_path / "c")
    assert store.restore(path, "k-a-3", ["k-a-", "k-"], "refs/heads/main") == "k-a-2"
    assert (tmp_path / "c" / "f").read_text() == "2"
    assert store.restore(path, "k-a-1", ["k-"], "refs/pull/1/merge") == "k-a-1"  # default branch
    assert store.restore(str(tmp_path / "other"), "k-a-1", ["k-"], "refs/heads/main") is None
    assert store.save(path, "k-b-1", "refs/pull/1/merge").startswith("Cache saved")
    assert store.restore(path, "x", ["k-b"], "refs/heads/main") is None  # another branch's


# ---------------------------------------------------------------------------------------
# The action, for real


@pytest.fixture
def machine(
    tmp_path_factory: pytest.TempPathFactory, docker_image: str, wheelhouse: Path, tmp_path: Path
) -> dict[str, Any]:
    """The runner machine's own settings (not the workflow's): the stand-in image for
    manylinux, the offline wheelhouse mounted into the containers, one identifier."""
    env = {
        "CIBW_CONTAINER_ENGINE": f"docker; create_args: --volume={wheelhouse}:/wheelhouse:ro",
        "CIBW_MANYLINUX_X86_64_IMAGE": docker_image,
        "CIBW_ENVIRONMENT_LINUX": "PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheelhouse",
        "CIBW_BUILD": BUILD,
        # A speed-up only: what pip downloaded for one job's install, the next reuses.
        "PIP_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "pip-cache"),
    }
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "setuptools", project)
    return {
        "env": env,
        "project": project,
        "store": gha.CacheStore(tmp_path / "store"),
        "root": tmp_path / "runner",
    }


def _runner(machine: dict[str, Any], action_dir: Path = ACTION_DIR, **kw: Any) -> gha.Runner:
    return gha.Runner(
        machine["root"], machine["store"], action_dir, machine_env=machine["env"], **kw
    )


def _job(
    with_: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    matrix: dict[str, Any] | None = None,
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "runs-on": "ubuntu-latest",
        "steps": [
            {"uses": "actions/checkout@v6", "with": {"persist-credentials": False}},
            {"id": "ccwheel", "uses": "ccwheel/ccwheel@v0", "with": with_ or {}},
            {
                "if": "${{ !cancelled() }}",
                "run": 'echo "rate=$RATE hits=$HITS"',
                "env": {
                    "RATE": "${{ steps.ccwheel.outputs.hit-rate }}",
                    "HITS": "${{ steps.ccwheel.outputs.hits }}",
                },
            },
        ],
    }
    if env:
        job["env"] = env
    if matrix:
        job["strategy"] = {"matrix": matrix}
    return job


def _totals(job: gha.Job) -> dict[str, Any]:
    """The totals of the report the job's build wrote: the action's (in the runner's
    temporary directory) or a workflow's own (report.json in the workspace)."""
    for path in (
        job.workspace.parent.parent / "temp" / "ccwheel-report.json",
        job.workspace / "report.json",
    ):
        if path.exists():
            return dict(json.loads(path.read_text())["totals"])
    raise AssertionError("no report: " + _explain(job))


def _explain(job: gha.Job) -> str:
    return (
        "\n".join(f"{s.name}: {s.outcome} ({s.exit_code})" for s in job.steps)
        + "\n"
        + job.log[-6000:]
    )


@docker
def test_two_jobs_share_only_the_cache_store_and_the_second_hits(machine: dict[str, Any]) -> None:
    runner = _runner(machine)
    first = runner.run_job("wheels", _job(), machine["project"])
    assert first.conclusion == "success", _explain(first)
    assert len(list((first.workspace / "wheelhouse").glob("*.whl"))) == 1, _explain(first)
    assert len(machine["store"].keys()) == 1, _explain(first)
    cold = _totals(first)
    assert cold["compilations"] == UNITS and cold["hits"] == 0, cold

    # The next workflow run, on another fresh machine: only the store carries over.
    runner.run_id += 1
    second = runner.run_job("wheels", _job(), machine["project"])
    assert second.conclusion == "success", _explain(second)
    restore = second.step("actions/cache/restore")
    assert restore.outputs["cache-matched-key"] == machine["store"].keys()[0]
    warm = _totals(second)
    assert (warm["compilations"], warm["hits"], warm["direct_hits"]) == (UNITS, UNITS, UNITS), warm
    assert f"rate=1.0000 hits={UNITS}" in second.log
    # All hit from its own job's cache: nothing new to save, no quota spent.
    assert len(machine["store"].keys()) == 1
    assert "ccwheel: 1 build" in second.log  # the closing verdict
    assert "| " in second.summary  # the per-build table in the job summary


@docker
def test_a_second_matrix_leg_has_its_own_key(machine: dict[str, Any]) -> None:
    runner = _runner(machine)
    workflow = {"jobs": {"wheels": _job(matrix={"flavour": ["a", "b"]})}}
    jobs = runner.run_workflow(workflow, machine["project"])
    assert [j.conclusion for j in jobs] == ["success", "success"], _explain(jobs[-1])
    keys = machine["store"].keys()
    # Leg b restored leg a's (the shared prefix) and saved its own entry under its own key.
    assert len(keys) == 2 and keys[0] != keys[1], keys
    restored = jobs[1].step("actions/cache/restore").outputs["cache-matched-key"]
    assert restored == keys[0]
    assert _totals(jobs[1])["hits"] == UNITS


@docker
def test_cache_false_is_plain_cibuildwheel(machine: dict[str, Any]) -> None:
    job = _runner(machine).run_job("wheels", _job({"cache": "false"}), machine["project"])
    assert job.conclusion == "success", _explain(job)
    assert len(list((job.workspace / "wheelhouse").glob("*.whl"))) == 1
    assert job.step("actions/cache/restore").outcome == "skipped"
    assert job.step("actions/cache/save").outcome == "skipped"
    assert machine["store"].keys() == []
    assert "routed through ccache" not in job.log


@docker
def test_a_remote_storage_job_fills_the_remote_and_never_shows_the_secret(
    machine: dict[str, Any],
    redis_port: int,  # noqa: F811
) -> None:
    with_ = {"remote-storage": "${{ secrets.CCACHE_REMOTE_STORAGE }}"}
    # ccache's form: redis://PASSWORD@HOST (an empty user, redis://:PASSWORD@, never logs in).
    redis_url = f"redis://{PASSWORD}@127.0.0.1:{redis_port}"
    runner = _runner(machine, secrets={"CCACHE_REMOTE_STORAGE": redis_url})
    first = runner.run_job("wheels", _job(with_), machine["project"])
    assert first.conclusion == "success", _explain(first)
    assert _entries(redis_port) > 0
    # Another machine, with no actions cache at all: the remote storage serves every unit.
    machine["store"].root = machine["store"].root.with_name("empty-store")
    runner.run_id += 1
    second = runner.run_job("wheels", _job(with_), machine["project"])
    assert second.conclusion == "success", _explain(second)
    assert second.step("actions/cache/restore").outputs.get("cache-matched-key") is None
    assert _totals(second)["hits"] == UNITS, _explain(second)
    for job in (first, second):
        assert PASSWORD not in job.log + job.summary
        for path in job.workspace.parent.parent.rglob("*"):
            if path.is_file() and path.stat().st_size < 1_000_000:
                assert PASSWORD.encode() not in path.read_bytes(), path


@docker
def test_a_failing_build_still_saves_the_cache_and_is_red_with_cibuildwheel_s_code(
    machine: dict[str, Any],
) -> None:
    env = {"CIBW_TEST_COMMAND": "false"}  # compiles, then its test fails
    expected = subprocess.run(
        [
            sys.executable,
            "-m",
            "cibuildwheel",
            "--output-dir",
            str(machine["project"].parent / "plain"),
        ],
        cwd=machine["project"],
        env={**os.environ, **machine["env"], **env},
        capture_output=True,
    ).returncode
    assert expected != 0
    job = _runner(machine).run_job("wheels", _job(env=env), machine["project"])
    assert job.conclusion == "failure"
    failed = [s for s in job.steps if s.outcome == "failure" and s.exit_code is not None]
    assert [s.exit_code for s in failed] == [expected], _explain(job)
    assert job.step("actions/cache/save").outcome == "success"
    assert len(machine["store"].keys()) == 1, _explain(job)
    assert "cibuildwheel exited" in job.log


# ---------------------------------------------------------------------------------------
# The README's workflows, copied as they stand


def _readme_workflows() -> list[dict[str, Any]]:
    import yaml

    return [yaml.safe_load(w) for _page, w in readme_workflows.all_workflows()]


@docker
def test_the_readme_s_workflows_run_twice_and_hit(machine: dict[str, Any]) -> None:
    """The README's and the docs' workflows in order, on their Linux X64 legs, sharing one
    cache store: each wheels workflow green twice, its second run hitting every unit; the
    canary (its hit-rate floor) green on what they saved. A workflow that installs ccwheel
    from a copy in the repository (`pip install ./tools/ccwheel`) finds one there."""
    project = machine["project"]
    ran = []
    for workflow in _readme_workflows():
        runs = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
        installs = [m for run in runs for m in re.findall(r"pip install (\./[^\s\"']+)", run)]
        for where in installs:
            ignore = shutil.ignore_patterns(".git", ".nox", "*.egg-info", "__pycache__")
            shutil.copytree(ROOT, project / where, ignore=ignore, dirs_exist_ok=True)
        runner = _runner(machine, run_id=2000 + 10 * len(ran))
        times = 2 if "wheels" in str(workflow.get("name")) else 1
        for attempt in range(times):
            jobs = runner.run_workflow(workflow, project)
            runner.run_id += 1
            assert jobs, workflow["name"]
            for job in jobs:
                assert job.conclusion == "success", _explain(job)
                if times == 2:
                    assert job.artifacts and all(job.artifacts.values()), job.artifacts
                if attempt == 1 or times == 1:
                    totals = _totals(job)
                    assert totals["hits"] == totals["compilations"] == UNITS, totals
        ran.append(workflow["name"])
    # The README's, and the docs' two (the action with a remote cache, the command line).
    assert ran.count("wheels") == 3 and "cache canary" in ran, ran


@docker
def test_cibuildwheel_version_picks_another_supported_line(machine: dict[str, Any]) -> None:
    """The oldest supported line in place of the pin: that cibuildwheel builds, with the
    cache."""
    job = _runner(machine).run_job(
        "wheels", _job({"cibuildwheel-version": "2.23"}), machine["project"]
    )
    assert job.conclusion == "success", _explain(job)
    assert re.search(r"cibuildwheel version 2\.23\.\d+", job.log), _explain(job)
    assert _totals(job)["compilations"] == UNITS, _explain(job)
