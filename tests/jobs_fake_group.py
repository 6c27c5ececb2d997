"""A stand-in for one `--jobs` group, for test_jobs.py: what a group's `ccwheel build`
tells its parent (through jobs.Member, the real one), without cibuildwheel or containers.
It "builds" each identifier of CIBW_BUILD for FAKE_SECONDS; FAKE_FAIL names one that fails
(exit 1, as cibuildwheel's); SIGINT and SIGTERM end it as an interrupted run."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from ccwheel import jobs, verdict


def main() -> int:
    member = jobs.Member.from_environment()
    assert member is not None
    facts: list[verdict.Facts] = []
    code, interrupted = 0, False
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"banner of group {os.environ[jobs.GROUP_ENV]}, session {os.getsid(0)}", flush=True)
    try:
        for identifier in os.environ["CIBW_BUILD"].split():
            member.started(identifier)
            print(f"Building {identifier} wheel", flush=True)
            time.sleep(float(os.environ.get("FAKE_SECONDS", "0.3")))
            if identifier == os.environ.get("FAKE_FAIL"):
                print(f"error: {identifier} failed", file=sys.stderr, flush=True)
                facts.append(verdict.Facts(identifier, False, None, True, False))
                code = 1
                break
            print(f"finished {identifier}", flush=True)
            facts.append(verdict.Facts(identifier, True, 0.3, True, False))
            member.ended(identifier)
    except KeyboardInterrupt:
        code, interrupted = 130, True
    print("end of run", flush=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        # cibuildwheel writes it whole, as here
        Path(summary).write_text(f"summary of {os.environ['CIBW_BUILD']}\n")
    member.hand_over(jobs.HandOver(facts, code, interrupted))
    return code


if __name__ == "__main__":
    sys.exit(main())
