"""What ccwheel's GitHub Action (action.yml) computes around the build, as plain commands
that run and are tested anywhere: `ccwheel ci keys` (the cache keys for actions/cache) and
`ccwheel ci outputs` (the report's figures as step outputs, and whether the cache changed
enough to be saved).

The keys: one that changes with every run and attempt (GitHub never overwrites a cache
entry, so a fixed key would keep the first cache forever), and restore prefixes from the
most to the least specific, so the newest earlier cache of the same job comes back first,
else the newest of any job on the same runner OS, architecture and toolchain.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Part of every key: changed when a cache of an older ccwheel must not be restored.
CACHE_FORMAT = "1"
# What tells one use of the action from another with the same runner: the job, the
# matrix leg, the step, the action's inputs that choose what is built, and every CIBW_*
# variable (images, environment, frontend, selection). The action's own values are
# INPUT_*, never CCWHEEL_*: those are ccwheel's settings, which refuse what they do not know.
JOB_VARIABLES = (
    "GITHUB_JOB",
    "GITHUB_ACTION",
    "INPUT_MATRIX",
    "INPUT_JOB_INDEX",
    "INPUT_PACKAGE_DIR",
    "INPUT_CONFIG_FILE",
    "INPUT_ONLY",
)


@dataclasses.dataclass(frozen=True)
class Keys:
    key: str
    restore_keys: tuple[str, ...]


def _runner(env: Mapping[str, str]) -> str:
    system = env.get("RUNNER_OS") or platform.system()
    return f"{system}-{env.get('RUNNER_ARCH') or platform.machine()}"


def keys(env: Mapping[str, str], toolchain: str) -> Keys:
    """`toolchain`: what makes an earlier cache of the same runner worth less (the
    cibuildwheel release, whose default images carry the compilers). A cache restored from
    another toolchain is safe, only colder (ccache hashes the compiler's content): the last
    restore prefix takes any."""
    runner = f"ccwheel-{CACHE_FORMAT}-{_runner(env)}-"
    names = [*JOB_VARIABLES, *sorted(n for n in env if n.startswith("CIBW_"))]
    job_text = "\n".join(f"{name}={env.get(name, '')}" for name in names)
    job = hashlib.sha256(job_text.encode()).hexdigest()[:12]
    run = f"{env.get('GITHUB_RUN_ID', '0')}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    own = f"{runner}{toolchain}-{job}-"
    return Keys(key=f"{own}{run}", restore_keys=(own, f"{runner}{toolchain}-", runner))


@dataclasses.dataclass(frozen=True)
class Figures:
    """The report's totals the action exposes as outputs."""

    compilations: int
    hits: int
    misses: int
    hit_rate: float | None
    # False when the run could not use the cache directory: nothing there is ccwheel's.
    cache_used: bool = True

    def save(self, restored_key: str, own_prefix: str) -> bool:
        """Whether to upload the cache: when the run stored new results (every miss stored
        one), or when what it restored was not this job's own (another job's, or nothing),
        so that next time this job finds its own. A run that hit everything it restored
        from its own earlier cache changed nothing the next run needs."""
        if not self.cache_used:
            return False
        return self.misses > 0 or not restored_key.startswith(own_prefix)


def figures(report: Mapping[str, Any]) -> Figures:
    totals = report.get("totals") or {}
    rate = totals.get("hit_rate")
    return Figures(
        compilations=int(totals.get("compilations", 0)),
        hits=int(totals.get("hits", 0)),
        misses=int(totals.get("misses", 0)),
        hit_rate=float(rate) if rate is not None else None,
        cache_used=not report.get("cache_unusable"),
    )


def read_figures(path: Path) -> Figures | None:
    """None when there is no report (the run stopped before writing one)."""
    try:
        return figures(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def output_lines(values: Mapping[str, str | tuple[str, ...]]) -> str:
    """GITHUB_OUTPUT's format: name=value, or a delimited block for several lines. A line
    break inside a value (a cache directory's name, say) would forge other outputs."""
    lines = []
    for name, value in values.items():
        for text in value if isinstance(value, tuple) else (value,):
            if "\n" in text or "\r" in text:
                msg = f"output {name} has a line break in its value: {text!r}"
                raise ValueError(msg)
        if isinstance(value, tuple):
            delimiter = f"ccwheel_{hashlib.sha256(name.encode()).hexdigest()[:8]}"
            lines += [f"{name}<<{delimiter}", *value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "\n".join(lines) + "\n"


def write_outputs(values: Mapping[str, str | tuple[str, ...]]) -> None:
    """To GITHUB_OUTPUT when set; always to stdout, for the log."""
    text = output_lines(values)
    print(text, end="")
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(text)


def outputs_of(
    found: Figures | None, restored_key: str = "", own_prefix: str = ""
) -> dict[str, str | tuple[str, ...]]:
    if found is None:
        return {"hit-rate": "", "compiles": "0", "hits": "0", "misses": "0", "save": "false"}
    rate = "" if found.hit_rate is None else f"{found.hit_rate:.4f}"
    return {
        "hit-rate": rate,
        "compiles": str(found.compilations),
        "hits": str(found.hits),
        "misses": str(found.misses),
        "save": "true" if found.save(restored_key, own_prefix) else "false",
    }
