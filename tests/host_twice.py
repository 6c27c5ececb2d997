"""Build an example project twice with `ccwheel build` on this host, each time from a fresh
copy of it, and check the second build's numbers: every compile a hit, all of them direct.

usage: python tests/host_twice.py PROJECT-DIR [ccwheel build arguments...]

For real macOS and Windows runners (.github/workflows/host.yml), where it cannot be run
from this repository's CI; test_host_loop.py does the same through cibuildwheel's macOS
build loop on Linux.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any


def build(
    project: Path,
    args: list[str],
    where: Path,
    cache_dir: Path,
    name: str,
    checkout_at: str = "checkout",
) -> Any:
    """One build from a fresh copy at WHERE/CHECKOUT_AT (by default the same path each
    time, as a CI runner's checkout is): its report."""
    from ccwheel.cli import main

    checkout = where / checkout_at
    shutil.rmtree(checkout, ignore_errors=True)
    shutil.copytree(project, checkout / project.name)
    report = where / f"{name}.json"
    argv = [
        "build",
        "--cache-dir",
        str(cache_dir),
        "--report",
        str(report),
        "--output-dir",
        "wheelhouse",
        *args,
        project.name,
    ]
    print(f"ccwheel {' '.join(argv)}", file=sys.stderr, flush=True)
    # From the checkout's root, as CI runs cibuildwheel.
    cwd = Path.cwd()
    os.chdir(checkout)
    try:
        code = main(argv)
    finally:
        os.chdir(cwd)
    if code != 0:
        sys.exit(f"{name} build failed with exit code {code}")
    if len(list((checkout / "wheelhouse").glob("*.whl"))) != len(
        json.loads(report.read_text())["builds"]
    ):
        sys.exit(f"{name} build: not one wheel per build")
    return json.loads(report.read_text())


def check(cold: Any, warm: Any) -> list[str]:
    problems = []
    if not warm["builds"]:
        problems.append("no build ran")
    for first, second in zip(cold["builds"], warm["builds"]):
        name = second["identifier"]
        if second["warning"]:
            problems.append(f"{name}: {second['warning']}")
        if not second["warm"]:  # or --min-hit-rate would never apply to it
            problems.append(f"{name}: the second build was not counted as warm")
        if not first["compilations"]:
            problems.append(f"{name}: the first build compiled nothing through ccache")
        if second["hits"] != second["compilations"] or second["compilations"] == 0:
            problems.append(f"{name}: {second['hits']}/{second['compilations']} hits")
        if second["direct_hits"] != second["hits"]:
            problems.append(f"{name}: {second['direct_hits']}/{second['hits']} direct")
    return problems


def main() -> int:
    project, args = Path(sys.argv[1]).resolve(), sys.argv[2:]
    with tempfile.TemporaryDirectory(prefix="ccwheel-twice-") as tmp:
        where = Path(tmp)
        cold = build(project, args, where, where / "cache", "cold")
        warm = build(project, args, where, where / "cache", "warm")
    problems = check(cold, warm)
    for b in warm["builds"]:
        print(
            f"{b['identifier']}: warm {b['hits']}/{b['compilations']} hits, "
            f"{b['direct_hits']} direct"
        )
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
