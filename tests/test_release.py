"""The release workflow (.github/workflows/release.yml): its shape where a mistake would
publish what it should not, or with more rights than it needs, and its shell steps run here
as the runner runs them (bash -eo pipefail): the tag/version check against an sdist and a
wheel freshly built from this checkout, the major tag's computation and its push against a
local origin. `nox -s lint` validates and audits the workflow and shellchecks these scripts.

usage (for `nox -s lint`): python tests/test_release.py DIR  writes each step's script to DIR
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
SHA = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text(encoding="utf-8")))


def scripts(workflow: dict[str, Any]) -> dict[str, str]:
    """Each `run:` of the workflow, by job and step id (or position)."""
    found = {}
    for job_name, job in workflow["jobs"].items():
        for i, step in enumerate(job.get("steps", [])):
            if "run" in step:
                found[f"{job_name}-{step.get('id', i)}"] = step["run"]
    return found


def step(workflow: dict[str, Any], job: str, step_id: str) -> dict[str, Any]:
    (found,) = [s for s in workflow["jobs"][job]["steps"] if s.get("id") == step_id]
    return dict(found)


def run_script(
    script: str, cwd: Path, tmp: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """A step's script as GitHub's `shell: bash` runs it, with this interpreter as `python`
    and a fresh GITHUB_OUTPUT; returns the process and the outputs the step wrote."""
    assert "${{" not in script, "an expression inside a script: pass it through env"
    path = tmp / "step.sh"
    path.write_text(script, encoding="utf-8")
    output = tmp / "github-output"
    output.write_text("")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ['PATH']}"
    environ.update(GITHUB_OUTPUT=str(output), **env)
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
    )
    lines = output.read_text().splitlines()
    return proc, dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load()


# The shape.


def test_it_runs_on_version_tags_only(workflow: dict[str, Any]) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on == {"push": {"tags": ["v*.*.*"]}}


def test_no_rights_by_default_and_each_job_only_its_own(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["major-tag"]["permissions"] == {"contents": "write"}
    assert set(jobs) == {"build", "publish", "major-tag"}


def test_the_build_job_cannot_mint_a_publishing_token(workflow: dict[str, Any]) -> None:
    assert "id-token" not in workflow["jobs"]["build"]["permissions"]


def test_the_build_job_builds_and_checks_with_pypa_build_and_twine(
    workflow: dict[str, Any],
) -> None:
    assert step(workflow, "build", "build")["run"].strip() == "python -m build --outdir dist"
    assert step(workflow, "build", "twine")["run"].strip() == (
        "python -m twine check --strict dist/*"
    )
    names = [s.get("id") for s in workflow["jobs"]["build"]["steps"]]
    # The upload is last: nothing unchecked reaches the publish job.
    assert names.index("build") < names.index("twine") < names.index("version")
    assert workflow["jobs"]["build"]["steps"][-1]["uses"].startswith("actions/upload-artifact@")


def test_the_publish_job_uses_trusted_publishing(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["publish"]
    assert job["needs"] == "build"
    assert job["environment"]["name"] == "pypi"
    (publish,) = [s for s in job["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert not {"password", "user", "username"} & set(publish.get("with", {}))
    assert "secrets." not in WORKFLOW.read_text(encoding="utf-8")


def test_the_major_tag_moves_after_publishing_and_only_then(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["major-tag"]
    assert job["needs"] == "publish"
    move = job["steps"][-1]
    assert move["if"] == "steps.major.outputs.major != ''"
    assert move["env"] == {"MAJOR": "${{ steps.major.outputs.major }}"}
    assert "$GITHUB_REF_NAME" in step(workflow, "major-tag", "major")["run"]


def test_every_action_is_pinned_by_commit_with_its_version(workflow: dict[str, Any]) -> None:
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert len(uses) == 6
    assert [u for u in uses if not SHA.match(u)] == []
    lines = re.findall(r"^\s*(?:- )?uses:.*$", WORKFLOW.read_text(encoding="utf-8"), re.M)
    assert len(lines) == len(uses)
    for line in lines:
        assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_credentials_persist_only_where_the_job_pushes(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        for s in job["steps"]:
            if s.get("uses", "").startswith("actions/checkout@"):
                persist = s["with"]["persist-credentials"]
                assert persist is (name == "major-tag"), name


def test_no_expression_inside_a_script(workflow: dict[str, Any]) -> None:
    for name, script in scripts(workflow).items():
        assert "${{" not in script, name


# The tag/version check, against a fresh build.


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the build needs of this checkout, as a tag's checkout would have it."""
    dest = tmp_path_factory.mktemp("checkout")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="module")
def built(
    workflow: dict[str, Any], checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The build step's own script run in the checkout: dist/ with the sdist and wheel."""
    proc, _ = run_script(
        step(workflow, "build", "build")["run"], checkout, tmp_path_factory.mktemp("build")
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return checkout / "dist"


def code_version(checkout: Path) -> str:
    text = (checkout / "src" / "ccwheel" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    assert found is not None
    return found.group(1)


def check_tag(
    workflow: dict[str, Any], dist: Path, tmp_path: Path, tag: str
) -> subprocess.CompletedProcess[str]:
    """The version step run in a directory holding a copy of `dist`, as GitHub sets the tag."""
    work = tmp_path / "work"
    shutil.copytree(dist, work / "dist")
    proc, _ = run_script(
        step(workflow, "build", "version")["run"], work, tmp_path, GITHUB_REF_NAME=tag
    )
    return proc


def test_the_build_has_one_sdist_and_one_wheel_of_the_code_s_version(
    built: Path, checkout: Path
) -> None:
    version = code_version(checkout)
    names = sorted(p.name for p in built.iterdir())
    assert names == [f"ccwheel-{version}-py3-none-any.whl", f"ccwheel-{version}.tar.gz"]


def test_the_tag_of_the_built_version_passes(
    workflow: dict[str, Any], built: Path, checkout: Path, tmp_path: Path
) -> None:
    version = code_version(checkout)
    proc = check_tag(workflow, built, tmp_path, f"v{version}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ccwheel {version}:" in proc.stdout


@pytest.mark.parametrize("tag", ["v9.9.9", "v0.0.0", "v{v}rc1", "v{v}.1", "{v}", "V{v}"])
def test_a_tag_of_another_version_fails(
    workflow: dict[str, Any], built: Path, checkout: Path, tmp_path: Path, tag: str
) -> None:
    version = code_version(checkout)
    tag = tag.format(v=version)
    proc = check_tag(workflow, built, tmp_path, tag)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"::error::tag {tag} does not name the built version {version}" in proc.stdout


def test_a_dist_with_a_stray_wheel_fails(
    workflow: dict[str, Any], built: Path, checkout: Path, tmp_path: Path
) -> None:
    version = code_version(checkout)
    stray = tmp_path / "stray"
    shutil.copytree(built, stray)
    (wheel,) = stray.glob("*.whl")
    shutil.copy2(wheel, stray / "ccwheel-0.0.1-py3-none-any.whl")
    proc = check_tag(workflow, stray, tmp_path, f"v{version}")
    assert proc.returncode == 1
    assert "::error::dist/ should hold one wheel and one sdist" in proc.stdout


def test_a_dist_without_its_sdist_fails(
    workflow: dict[str, Any], built: Path, checkout: Path, tmp_path: Path
) -> None:
    version = code_version(checkout)
    partial = tmp_path / "partial"
    shutil.copytree(built, partial)
    (partial / f"ccwheel-{version}.tar.gz").unlink()
    proc = check_tag(workflow, partial, tmp_path, f"v{version}")
    assert proc.returncode == 1


# The major tag, in a repository of tags pushed to a local origin.

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# Annotated tags, as a release is tagged (the move must take the commit, not the tag object),
# and a lightweight one; v0.10.0 sorts after v0.9.0, v10.0.0 is not of v1's line.
TAGS = ("v0.2.0", "v0.3.0", "v0.3.1", "v0.9.0", "v0.10.0", "v0.11.0rc1", "v1.0.0", "v10.0.0")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", str(work))
    git(work, "remote", "add", "origin", str(origin))
    for tag in TAGS:
        git(work, "commit", "-q", "--allow-empty", "-m", tag)
        if tag == "v0.9.0":
            git(work, "tag", tag)
        else:
            git(work, "tag", "-a", "-m", tag, tag)
    git(work, "push", "-q", "origin", "--tags")
    return work


def major_of(workflow: dict[str, Any], repo: Path, tmp_path: Path, tag: str) -> dict[str, str]:
    proc, outputs = run_script(
        step(workflow, "major-tag", "major")["run"], repo, tmp_path, GITHUB_REF_NAME=tag
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return outputs


@pytest.mark.parametrize(
    ("tag", "major"),
    [
        ("v0.10.0", "v0"),  # the newest of v0's line
        ("v1.0.0", "v1"),
        ("v10.0.0", "v10"),
        ("v0.9.0", None),  # older than v0.10.0
        ("v0.3.1", None),
        ("v0.11.0rc1", None),  # not a final release
    ],
)
def test_the_major_tag_is_derived_from_the_pushed_tag(
    workflow: dict[str, Any], repo: Path, tmp_path: Path, tag: str, major: str | None
) -> None:
    outputs = major_of(workflow, repo, tmp_path, tag)
    assert outputs == ({"major": major} if major else {})


def move(workflow: dict[str, Any], repo: Path, tmp_path: Path, tag: str) -> None:
    """The job's two steps: the major tag, then (if it is set) the move."""
    outputs = major_of(workflow, repo, tmp_path, tag)
    if outputs.get("major"):
        proc, _ = run_script(
            workflow["jobs"]["major-tag"]["steps"][-1]["run"],
            repo,
            tmp_path,
            GITHUB_REF_NAME=tag,
            MAJOR=outputs["major"],
            **GIT_ENV,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_major_tag_moves_to_the_release_s_commit_on_the_origin(
    workflow: dict[str, Any], repo: Path, tmp_path: Path
) -> None:
    origin = repo.parent / "origin.git"
    move(workflow, repo, tmp_path, "v0.10.0")
    assert git(origin, "rev-parse", "refs/tags/v0") == git(origin, "rev-parse", "v0.10.0^{commit}")
    # The next release moves it again (it exists now: the push is forced).
    git(repo, "commit", "-q", "--allow-empty", "-m", "v0.10.1")
    git(repo, "tag", "-a", "-m", "v0.10.1", "v0.10.1")
    move(workflow, repo, tmp_path, "v0.10.1")
    assert git(origin, "rev-parse", "refs/tags/v0") == git(repo, "rev-parse", "HEAD")
    # A later fix to an older line leaves it there.
    git(repo, "checkout", "-q", "v0.3.1")
    git(repo, "commit", "-q", "--allow-empty", "-m", "v0.3.2")
    git(repo, "tag", "-a", "-m", "v0.3.2", "v0.3.2")
    move(workflow, repo, tmp_path, "v0.3.2")
    assert git(origin, "rev-parse", "refs/tags/v0") == git(repo, "rev-parse", "v0.10.1^{commit}")


def main(dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    for name, script in scripts(load()).items():
        (dest / f"{name}.sh").write_text(script, encoding="utf-8")
        print(dest / f"{name}.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
