"""A small GitHub Actions runner, for running ccwheel's action.yml and the README's
workflows here the way GitHub runs them.

What it does as GitHub's runner does (docs.github.com, "Workflow syntax", "Expressions",
"Contexts", "Workflow commands", "Metadata syntax" of composite actions):
- a workflow's jobs, one matrix leg at a time (strategy.job-index in expansion order), on a
  fresh machine each: the same paths, an empty home, an empty workspace;
- steps in order; `if:` (`success()` unless a status function is named) and every
  `${{ }}` evaluated over github, env, inputs, matrix, strategy, runner, secrets, steps
  (outputs, outcome, conclusion); a composite action's steps with its own inputs (defaults
  applied) and steps, its outputs evaluated after them;
- `run:` through `bash -e {0}` (no shell given) or `bash --noprofile --norc -eo pipefail
  {0}` (shell: bash), the script written to a file; GITHUB_OUTPUT (name=value and
  name<<DELIMITER blocks), GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY as files new for
  every step; stdout and stderr into one log; `::warning::`/`::error::` collected.

Stand-ins for the actions a workflow uses: actions/checkout (copies the project),
actions/setup-python (this interpreter; a fresh venv on PATH when it updates the
environment), actions/cache/restore and actions/cache/save over a directory store with
GitHub's rules (an exact key, else each restore-keys prefix in order, the newest entry that
starts with it; entries of the job's own ref, then of the default branch; a version per
path, so another path never restores; a key once saved is never overwritten), and
actions/upload-artifact (copies the files). `uses:` of ccwheel (any ref) is this checkout.
Windows (pwsh) steps and runners other than Linux X64 are not run: GitHub's are needed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

# ---------------------------------------------------------------------------------------
# Expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\].,*])|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            msg = f"cannot read expression at {text[pos:]!r}"
            raise ValueError(msg)
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _lookup(obj: Any, key: Any) -> Any:
    """Contexts are case-insensitive; a missing property is null."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for k, v in obj.items():
            if isinstance(k, str) and isinstance(key, str) and k.lower() == key.lower():
                return v
        return None
    if isinstance(obj, list) and isinstance(key, float) and 0 <= key < len(obj):
        return obj[int(key)]
    return None


def _number(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip()) if v.strip() else 0.0
        except ValueError:
            return float("nan")
    return float("nan")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) and not isinstance(a, (dict, list)):
        return bool(a == b)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    return _number(a) == _number(b)


def truthy(v: Any) -> bool:
    return v not in (None, False, "", 0, 0.0) and not (isinstance(v, float) and v != v)


def text_of(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


class _Parser:
    def __init__(self, text: str, ctx: dict[str, Any], funcs: dict[str, Callable[..., Any]]):
        self.t = _tokens(text)
        self.i = 0
        self.ctx = ctx
        self.funcs = funcs

    def peek(self) -> str | None:
        return self.t[self.i][1] if self.i < len(self.t) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        tok = self.t[self.i]
        if want is not None and tok[1] != want:
            msg = f"expected {want!r}, found {tok[1]!r}"
            raise ValueError(msg)
        self.i += 1
        return tok

    def parse(self) -> Any:
        v = self.or_()
        if self.i != len(self.t):
            msg = f"unexpected {self.peek()!r}"
            raise ValueError(msg)
        return v

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == "||":
            self.take()
            w = self.and_()
            v = v if truthy(v) else w
        return v

    def and_(self) -> Any:
        v = self.eq()
        while self.peek() == "&&":
            self.take()
            w = self.eq()
            v = w if truthy(v) else v
        return v

    def eq(self) -> Any:
        v = self.cmp()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            w = self.cmp()
            v = _equal(v, w) if op == "==" else not _equal(v, w)
        return v

    def cmp(self) -> Any:
        v = self.unary()
        while self.peek() in ("<", "<=", ">", ">="):
            op = self.take()[1]
            a, b = _number(v), _number(self.unary())
            v = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return v

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        v = self.primary()
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                v = _lookup(v, self.take()[1])
            else:
                key = self.or_()
                self.take("]")
                v = _lookup(v, key)
        return v

    def primary(self) -> Any:
        kind, value = self.take()
        if value == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "num":
            return float(value)
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind != "id":
            msg = f"unexpected {value!r}"
            raise ValueError(msg)
        if value in ("true", "false"):
            return value == "true"
        if value == "null":
            return None
        if self.peek() == "(":
            self.take()
            args = []
            while self.peek() != ")":
                args.append(self.or_())
                if self.peek() == ",":
                    self.take()
            self.take(")")
            return self.funcs[value.lower()](*args)
        return _lookup(self.ctx, value)


_STATUS = re.compile(r"\b(success|failure|always|cancelled)\s*\(")
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


# ---------------------------------------------------------------------------------------
# The cache service


@dataclasses.dataclass
class CacheStore:
    """actions/cache's service, as a directory: entries with key, version and ref."""

    root: Path
    default_ref: str = "refs/heads/main"

    def _entries(self) -> list[dict[str, Any]]:
        index = self.root / "index.json"
        return list(json.loads(index.read_text())) if index.exists() else []

    def keys(self) -> list[str]:
        return [e["key"] for e in self._entries()]

    def restore(self, path: str, key: str, restore_keys: list[str], ref: str) -> str | None:
        version = hashlib.sha256(path.encode()).hexdigest()
        entries = [e for e in self._entries() if e["version"] == version]
        for scope in (ref, self.default_ref):
            scoped = [e for e in entries if e["ref"] == scope]
            exact = [e for e in scoped if e["key"] == key]
            if exact:
                return self._unpack(exact[0], path)
            for prefix in restore_keys:
                found = [e for e in scoped if e["key"].startswith(prefix)]
                if found:
                    return self._unpack(max(found, key=lambda e: e["serial"]), path)
        return None

    def _unpack(self, entry: dict[str, Any], path: str) -> str:
        shutil.copytree(
            self.root / str(entry["serial"]), Path(path), symlinks=True, dirs_exist_ok=True
        )
        return str(entry["key"])

    def save(self, path: str, key: str, ref: str) -> str:
        entries = self._entries()
        if any(e["key"] == key and e["ref"] == ref for e in entries):
            return f"Failed to save: Unable to reserve cache with key {key}"
        if not Path(path).exists():
            return "Path Validation Error: Path(s) specified in the action do(es) not exist"
        serial = len(entries) + 1
        shutil.copytree(Path(path), self.root / str(serial), symlinks=True)
        version = hashlib.sha256(path.encode()).hexdigest()
        entries.append({"key": key, "version": version, "ref": ref, "serial": serial})
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "index.json").write_text(json.dumps(entries))
        return f"Cache saved with key: {key}"


# ---------------------------------------------------------------------------------------
# Jobs


@dataclasses.dataclass
class Step:
    name: str
    outcome: str  # success, failure, skipped
    exit_code: int | None = None
    log: str = ""
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Job:
    name: str
    matrix: dict[str, Any]
    steps: list[Step] = dataclasses.field(default_factory=list)
    summary: str = ""
    annotations: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    artifacts: dict[str, list[Path]] = dataclasses.field(default_factory=dict)
    workspace: Path = Path()

    @property
    def conclusion(self) -> str:
        return "failure" if any(s.outcome == "failure" for s in self.steps) else "success"

    @property
    def log(self) -> str:
        return "".join(f"##[step] {s.name}: {s.outcome}\n{s.log}" for s in self.steps)

    def step(self, name_part: str) -> Step:
        return next(s for s in self.steps if name_part in s.name)


_ANNOTATION = re.compile(r"^::(warning|error|notice)(?: [^:]*)?::(.*)$", re.M)


def _read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT and GITHUB_ENV: name=value lines, and name<<DELIMITER blocks."""
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while lines[i] != delimiter:
                block.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


class Runner:
    """One machine image: `root` is where every job's runner directories are, made anew
    for each job (GitHub's hosted runners are fresh machines with the same paths)."""

    def __init__(
        self,
        root: Path,
        store: CacheStore,
        action_dir: Path,
        *,
        machine_env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        event_name: str = "push",
        ref: str = "refs/heads/main",
        run_id: int = 1000,
    ) -> None:
        self.root, self.store, self.action_dir = root, store, action_dir
        self.machine_env = machine_env or {}
        self.secrets = secrets or {}
        self.event_name, self.ref, self.run_id = event_name, ref, run_id

    # -- workflows ---------------------------------------------------------------------

    def legs(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        matrix = dict((job.get("strategy") or {}).get("matrix") or {})
        include = matrix.pop("include", [])
        exclude = matrix.pop("exclude", [])
        names = list(matrix)
        legs = [dict(zip(names, values)) for values in itertools.product(*matrix.values())]
        legs = [
            leg
            for leg in legs
            if not any(all(leg.get(k) == v for k, v in e.items()) for e in exclude)
        ]
        legs += list(include)
        return legs or [{}]

    def run_workflow(self, workflow: dict[str, Any], checkout: Path) -> list[Job]:
        """Every job and leg that runs on Linux X64; the others are left out."""
        jobs = []
        for job_id, job in workflow["jobs"].items():
            legs = self.legs(job)
            for index, leg in enumerate(legs):
                ctx = self._context(leg, index, len(legs), {})
                runs_on = text_of(self.template(str(job.get("runs-on", "")), ctx))
                if not runs_on.startswith("ubuntu") or runs_on.endswith("-arm"):
                    continue
                jobs.append(
                    self.run_job(
                        job_id, job, checkout, leg, index, len(legs), workflow.get("env") or {}
                    )
                )
        return jobs

    def run_job(
        self,
        job_id: str,
        job: dict[str, Any],
        checkout: Path,
        matrix: dict[str, Any] | None = None,
        index: int = 0,
        total: int = 1,
        workflow_env: dict[str, str] | None = None,
    ) -> Job:
        shutil.rmtree(self.root, ignore_errors=True)
        for name in ("work/repo", "temp", "home", "tool_cache", "artifacts"):
            (self.root / name).mkdir(parents=True)
        matrix = matrix or {}
        result = Job(name=job_id, matrix=matrix, workspace=self.root / "work/repo")
        state = _JobState(result, checkout, {}, [])
        ctx = self._context(matrix, index, total, {})
        for name, value in {**(workflow_env or {}), **(job.get("env") or {})}.items():
            state.env[name] = text_of(self.template(str(value), ctx))
        state.job_id = job_id
        self._steps(job["steps"], state, ctx, action_path=None)
        return result

    # -- steps ---------------------------------------------------------------------------

    def _context(
        self, matrix: dict[str, Any], index: int, total: int, env: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "github": {
                "event_name": self.event_name,
                "ref": self.ref,
                "repository": "user/project",
                "workspace": str(self.root / "work/repo"),
                "run_id": str(self.run_id),
                "run_attempt": "1",
            },
            "runner": {
                "os": "Linux",
                "arch": "X64",
                "temp": str(self.root / "temp"),
                "tool_cache": str(self.root / "tool_cache"),
                "environment": "github-hosted",
            },
            "matrix": matrix or None,
            "strategy": {"job-index": float(index), "job-total": float(total), "fail-fast": True},
            "secrets": dict(self.secrets),
            "env": env,
            "steps": {},
            "inputs": {},
        }

    def evaluate(self, expr: str, ctx: dict[str, Any], failed: bool = False) -> Any:
        funcs: dict[str, Callable[..., Any]] = {
            "success": lambda: not failed,
            "failure": lambda: failed,
            "always": lambda: True,
            "cancelled": lambda: False,
            "tojson": lambda v: json.dumps(v, indent=2),
            "fromjson": lambda s: json.loads(s),
            "contains": lambda a, b: (
                any(_equal(x, b) for x in a)
                if isinstance(a, list)
                else text_of(b).lower() in text_of(a).lower()
            ),
            "startswith": lambda a, b: text_of(a).lower().startswith(text_of(b).lower()),
            "endswith": lambda a, b: text_of(a).lower().endswith(text_of(b).lower()),
            "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: text_of(a[int(m[1])]), f),
            "join": lambda a, sep=",": (
                text_of(sep).join(text_of(x) for x in a) if isinstance(a, list) else text_of(a)
            ),
        }
        return _Parser(expr, ctx, funcs).parse()

    def template(self, value: str, ctx: dict[str, Any]) -> Any:
        """A value with `${{ }}` in it: the expression's value when it is the whole value."""
        whole = _TEMPLATE.fullmatch(value.strip())
        if whole:
            return self.evaluate(whole[1], ctx)
        return _TEMPLATE.sub(lambda m: text_of(self.evaluate(m[1], ctx)), value)

    def _condition(self, cond: Any, ctx: dict[str, Any], failed: bool) -> bool:
        if cond is None:
            return not failed
        if isinstance(cond, bool):
            return cond and not failed
        text = str(cond).strip()
        whole = _TEMPLATE.fullmatch(text)
        if whole:
            text = whole[1].strip()
        if not _STATUS.search(text):
            text = f"success() && ({text})"
        return truthy(self.evaluate(text, ctx, failed))

    def _steps(
        self,
        steps: list[dict[str, Any]],
        state: _JobState,
        ctx: dict[str, Any],
        action_path: Path | None,
    ) -> bool:
        """Runs `steps` over `ctx` (its `steps` filled in as they run). True: all passed."""
        failed = False
        for n, spec in enumerate(steps):
            step_id = spec.get("id") or f"__{n}"
            name = spec.get("name") or spec.get("uses") or spec.get("run", "").split("\n")[0]
            ctx["env"] = dict(state.env)
            if not self._condition(spec.get("if"), ctx, failed):
                outcome, outputs, code, log = "skipped", {}, None, ""
            else:
                outcome, outputs, code, log = self._step(spec, state, ctx, action_path)
            prefix = "  " if action_path is not None else ""
            state.job.steps.append(Step(prefix + str(name), outcome, code, log, outputs))
            ctx["steps"][step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            if outcome == "failure" and not spec.get("continue-on-error"):
                failed = True
        return not failed

    def _step(
        self, spec: dict[str, Any], state: _JobState, ctx: dict[str, Any], action_path: Path | None
    ) -> tuple[str, dict[str, str], int | None, str]:
        step_env = {
            k: text_of(self.template(str(v), ctx)) for k, v in (spec.get("env") or {}).items()
        }
        if "run" in spec:
            return self._run(spec, state, ctx, step_env, action_path)
        uses = str(spec["uses"])
        with_ = {
            k: text_of(self.template(str(v), ctx)) for k, v in (spec.get("with") or {}).items()
        }
        return self._uses(uses, with_, state, ctx)

    def _env(
        self,
        state: _JobState,
        step_env: dict[str, str],
        action_path: Path | None,
        files: dict[str, Path],
    ) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "CCWHEEL_", "CIBW_", "INPUT_", "RUNNER_"))
        }
        env = {
            **base,
            **self.machine_env,
            "HOME": str(self.root / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.root / "work/repo"),
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_REF": self.ref,
            "GITHUB_REPOSITORY": "user/project",
            "GITHUB_RUN_ID": str(self.run_id),
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_JOB": state.job_id,
            "GITHUB_ACTION": f"__run_{len(state.job.steps)}",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": str(self.root / "temp"),
            "RUNNER_TOOL_CACHE": str(self.root / "tool_cache"),
            **{name: str(path) for name, path in files.items()},
            **state.env,
            **step_env,
        }
        env.pop("XDG_CACHE_HOME", None)
        if action_path is not None:
            env["GITHUB_ACTION_PATH"] = str(action_path)
        if state.path:
            env["PATH"] = os.pathsep.join([*reversed(state.path), env.get("PATH", "")])
        return env

    def _run(
        self,
        spec: dict[str, Any],
        state: _JobState,
        ctx: dict[str, Any],
        step_env: dict[str, str],
        action_path: Path | None,
    ) -> tuple[str, dict[str, str], int | None, str]:
        shell = spec.get("shell")
        if action_path is not None and shell is None:
            msg = "a composite action's run step must name its shell"
            raise ValueError(msg)
        if shell not in (None, "bash"):
            msg = f"shell {shell!r} is not run here"
            raise NotImplementedError(msg)
        script = text_of(self.template(str(spec["run"]), ctx))
        temp = self.root / "temp"
        n = len(state.job.steps)
        files = {
            name: temp / f"{name.lower()}_{n}"
            for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.write_text("")
        script_path = temp / f"step_{n}.sh"
        script_path.write_text(script)
        command = (
            ["bash", "-e", str(script_path)]
            if shell is None
            else ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_path)]
        )
        cwd = Path(spec.get("working-directory") or self.root / "work/repo")
        if not cwd.is_absolute():
            cwd = self.root / "work/repo" / cwd
        done = subprocess.run(
            command,
            cwd=cwd,
            env=self._env(state, step_env, action_path, files),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log = done.stdout
        state.job.annotations += _ANNOTATION.findall(log)
        state.env.update(_read_outputs(files["GITHUB_ENV"]))
        state.path += [p for p in files["GITHUB_PATH"].read_text().splitlines() if p]
        state.job.summary += files["GITHUB_STEP_SUMMARY"].read_text()
        outcome = "success" if done.returncode == 0 else "failure"
        return outcome, _read_outputs(files["GITHUB_OUTPUT"]), done.returncode, log

    # -- actions -------------------------------------------------------------------------

    def _uses(
        self, uses: str, with_: dict[str, str], state: _JobState, ctx: dict[str, Any]
    ) -> tuple[str, dict[str, str], int | None, str]:
        name = uses.split("@")[0]
        if name == "./" or name.rstrip("/").endswith("ccwheel"):
            return self._composite(self.action_dir, with_, state, ctx)
        if name == "actions/checkout":
            shutil.copytree(
                state.checkout, self.root / "work/repo", dirs_exist_ok=True, symlinks=True
            )
            return "success", {}, None, ""
        if name == "actions/setup-python":
            python = sys.executable
            if with_.get("update-environment", "true") != "false":
                venv = self.root / "tool_cache" / "Python"
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                state.path.append(str(venv / "bin"))
                python = str(venv / "bin" / "python")
            return (
                "success",
                {"python-path": python, "python-version": sys.version.split()[0]},
                None,
                "",
            )
        if name == "actions/cache/restore":
            path = self._expand(with_["path"])
            restore_keys = [k for k in with_.get("restore-keys", "").splitlines() if k.strip()]
            key = with_["key"]
            matched = self.store.restore(path, key, restore_keys, self.ref)
            outputs = {"cache-primary-key": key, "cache-hit": str(matched == key).lower()}
            if matched:
                outputs["cache-matched-key"] = matched
            return "success", outputs, None, f"restored: {matched}\n"
        if name == "actions/cache/save":
            said = self.store.save(self._expand(with_["path"]), with_["key"], self.ref)
            if said.startswith(("Failed", "Path")):
                state.job.annotations.append(("warning", said))
            return "success", {}, None, said + "\n"
        if name == "actions/upload-artifact":
            found = sorted(
                Path(p)
                for line in with_["path"].splitlines()
                if line.strip()
                for p in (self.root / "work/repo").glob(line.strip())
            )
            if not found:
                state.job.annotations.append(
                    ("warning", "No files were found with the provided path")
                )
            state.job.artifacts[with_.get("name", "artifact")] = found
            for path in found:
                shutil.copy2(path, self.root / "artifacts")
            return "success", {}, None, ""
        msg = f"no stand-in for {uses}"
        raise NotImplementedError(msg)

    def _expand(self, path: str) -> str:
        """A path input as the job's shell would read it: ~ is the job's home."""
        path = path.strip()
        if path == "~" or path.startswith("~/"):
            return str(self.root / "home") + path[1:]
        return path

    def _composite(
        self, action_dir: Path, with_: dict[str, str], state: _JobState, ctx: dict[str, Any]
    ) -> tuple[str, dict[str, str], int | None, str]:
        action = yaml.safe_load((action_dir / "action.yml").read_text())
        unknown = set(with_) - set(action.get("inputs") or {})
        if unknown:
            state.job.annotations.append(("warning", f"Unexpected input(s) {sorted(unknown)}"))
        inputs = {
            name: with_.get(name, text_of(spec.get("default", "")))
            for name, spec in (action.get("inputs") or {}).items()
        }
        inner = {**ctx, "inputs": inputs, "steps": {}}
        inner["github"] = {**ctx["github"], "action_path": str(action_dir)}
        passed = self._steps(action["runs"]["steps"], state, inner, action_path=action_dir)
        outputs = {
            name: text_of(self.template(str(spec.get("value", "")), inner))
            for name, spec in (action.get("outputs") or {}).items()
        }
        return ("success" if passed else "failure"), outputs, None, ""


@dataclasses.dataclass
class _JobState:
    job: Job
    checkout: Path
    env: dict[str, str]
    path: list[str]
    job_id: str = "job"
