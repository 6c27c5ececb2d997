"""The benchmark's own code, short of its builds: it imports and parses as `nox -s bench`
runs it, and its --jobs ratios are what it prints."""

from __future__ import annotations

import bench
import pytest


def test_the_benchmark_starts() -> None:
    with pytest.raises(SystemExit) as e:
        bench.main(["--help"])
    assert e.value.code == 0


def test_the_jobs_comparison_prints_its_ratios() -> None:
    r = {
        "--jobs 1 cold": {"seconds": 40.0, "samples": [40.0]},
        "--jobs 1 warm": {"seconds": 20.0, "samples": [20.0]},
        "--jobs 2 cold": {"seconds": 24.0, "samples": [24.0]},
        "--jobs 2 warm": {"seconds": 11.0, "samples": [10.0, 11.0, 12.0]},
    }
    assert bench.jobs_ratios(2, r) == {"jobs 2/1 cold": 0.6, "jobs 2/1 warm": 0.55}
    text = bench.render_jobs("setuptools", 2, r)
    assert "\n  --jobs 1 cold              40.0s\n" in text
    assert "\n  --jobs 2 warm              11.0s 10.0-12.0s (n=3)\n" in text
    assert text.splitlines()[-1] == "jobs 2/1 cold 0.60   jobs 2/1 warm 0.55"
