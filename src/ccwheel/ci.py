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
# What tells one job of a workflow from another with the same runner: the job, the action's
# inputs that choose what is built, and cibuildwheel's variables that do.
JOB_VARIABLES = (
    "GITHUB_JOB",
    "INPUT_PACKAGE_DIR",
    "INPUT_CONFIG_FILE",
    "INPUT_ONLY",
    "CIBW_BUILD",
    "CIBW_SKIP",
    "CIBW_ARCHS",
    "CIBW_ARCHS_LINUX",
    "CIBW_PLATFORM",
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
    another toolchain is safe, only colder: ccache hashes the compiler's content."""
    runner = f"ccwheel-{CACHE_FORMAT}-{_runner(env)}-{toolchain}-"
    job_text = "\n".join(f"{name}={env.get(name, '')}" for name in JOB_VARIABLES)
    job = hashlib.sha256(job_text.encode()).hexdigest()[:12]
    run = f"{env.get('GITHUB_RUN_ID', '0')}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    return Keys(key=f"{runner}{job}-{run}", restore_keys=(f"{runner}{job}-", runner))


@dataclasses.dataclass(frozen=True)
class Figures:
    """The report's totals the action exposes as outputs."""

    compilations: int
    hits: int
    misses: int
    hit_rate: float | None
    complete: bool

    @property
    def save(self) -> bool:
        """Whether the cache gained results worth uploading: every miss stored one. A run
        that hit everything changed nothing another run needs, so it is not saved again."""
        return self.misses > 0


def figures(report: Mapping[str, Any]) -> Figures:
    totals = report.get("totals") or {}
    rate = totals.get("hit_rate")
    return Figures(
        compilations=int(totals.get("compilations", 0)),
        hits=int(totals.get("hits", 0)),
        misses=int(totals.get("misses", 0)),
        hit_rate=float(rate) if rate is not None else None,
        complete=bool(report.get("complete", False)),
    )


def read_figures(path: Path) -> Figures | None:
    """None when there is no report (the run stopped before writing one)."""
    try:
        return figures(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def output_lines(values: Mapping[str, str | tuple[str, ...]]) -> str:
    """GITHUB_OUTPUT's format: name=value, or a delimited block for several lines."""
    lines = []
    for name, value in values.items():
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


def outputs_of(found: Figures | None) -> dict[str, str | tuple[str, ...]]:
    if found is None:
        return {"hit-rate": "", "compiles": "0", "hits": "0", "misses": "0", "save": "false"}
    rate = "" if found.hit_rate is None else f"{found.hit_rate:.4f}"
    return {
        "hit-rate": rate,
        "compiles": str(found.compilations),
        "hits": str(found.hits),
        "misses": str(found.misses),
        "save": "true" if found.save else "false",
    }
