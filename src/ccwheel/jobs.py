"""`--jobs N`: the selected identifiers split into N groups, each built by its own
`ccwheel build` (one cibuildwheel run with its own containers) side by side, all sharing
the cache directory, as separate runs already may (see cache.open_run, publish_downloads).

The run the user started plans the groups (`plan`), starts them and follows them
(`run_groups`): one progress line as each build starts, each build's log printed whole
when it ends, never interleaved. A failed build ends its group, as it ends a cibuildwheel
run; the other groups build all of theirs (as `make -k` does: nothing is stopped inside
cibuildwheel's build loop, which would lose the wheels it has yet to copy out), and the
exit code is cibuildwheel's for the first group that failed. It then concludes the run as
one (run.conclude: the report, the verdict, --min-hit-rate over every build). A group (a
`Member`) is an ordinary `ccwheel build` of its identifiers that tells when each build
starts and ends, and hands its builds' facts over instead of reporting them. The groups
run in sessions of their own, so that a signal reaches each once, from here.

A group's directory, which GROUP_ENV names to it:
    log        its stdout and stderr
    events     a line per build: "start|end IDENTIFIER OFFSET", OFFSET where the log is then
    handover   its builds' facts (a pickled HandOver), written as its run ends
    summary    its cibuildwheel's GitHub step summary (which cibuildwheel overwrites, not
               appends to), appended to the job's in group order at the end
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ccwheel import cache, cibw, config, console
from ccwheel.console import note
from ccwheel.errors import ConfigError

GROUP_ENV = "_CCWHEEL_GROUP"
# How many groups the run has: each group's run keeps as many earlier runs' directories
# (the runs of one earlier invocation, for --explain and `cache info`).
GROUPS_ENV = "_CCWHEEL_GROUPS"
# The compile parallelism each group's backend gets (CMAKE_BUILD_PARALLEL_LEVEL, where
# the user did not set it): the cores shared out, not each group taking them all.
PARALLEL_ENV = "_CCWHEEL_PARALLEL"
PARALLEL_VARIABLE = "CMAKE_BUILD_PARALLEL_LEVEL"
LOG, EVENTS, HANDOVER, SUMMARY = "log", "events", "handover", "summary"
# A group: `ccwheel build` in this interpreter, without the working directory (the
# project's) first on its module path, as the console script the user ran has it.
GROUP_COMMAND = (
    sys.executable,
    "-c",
    "import sys; getattr(sys.flags, 'safe_path', 0) or sys.path.pop(0); "
    "from ccwheel.cli import entry; entry()",
    "build",
)

# What a group pays for an image none of its builds used yet (the container's start,
# ccwheel's setup, before-all), in seconds: identifiers of one image stay together where
# that does not make a group finish later.
IMAGE_START_SECONDS = 5.0
# A build whose time is not recorded, when none is.
UNKNOWN_SECONDS = 60.0
_POLL_SECONDS = 0.2
# How long the groups get to end (their containers removed) once this run must end.
_END_SECONDS = 60


@dataclasses.dataclass
class HandOver:
    """What a group's run did, for the run that started it; and the groups' together."""

    facts: list[Any]  # verdict.Facts, one per build that started
    code: int
    interrupted: bool = False
    own_max_size: bool = False


@dataclasses.dataclass(frozen=True)
class Plan:
    groups: list[list[str]]
    parallel: int
    # Every identifier, in cibuildwheel's order: the report's.
    order: tuple[str, ...] = ()


def cores() -> int:
    """The cores this process may use (its CPU affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def image_of(identifier: str) -> str:
    """The platform part of an identifier (manylinux_x86_64): one image builds it."""
    return identifier.split("-", 1)[-1]


def is_container_build(identifier: str) -> bool:
    return image_of(identifier).startswith(("manylinux", "musllinux"))


def split(
    identifiers: Sequence[str], seconds: Mapping[str, float | None], n: int
) -> list[list[str]]:
    """Up to `n` groups that finish together, by the builds' recorded `seconds` (one with
    none counts as the mean of the others). Two ways are tried: each image's builds kept
    in one group, and each build on its own; the one that ends sooner wins, the first on a
    tie (fewer containers). Each group keeps cibuildwheel's order."""
    known = [s for s in seconds.values() if s is not None]
    default = sum(known) / len(known) if known else UNKNOWN_SECONDS
    estimate = {
        i: default if seconds.get(i) is None else float(seconds[i] or 0) for i in identifiers
    }
    by_image: dict[str, list[str]] = {}
    for identifier in identifiers:
        by_image.setdefault(image_of(identifier), []).append(identifier)
    tries = [
        _pack(list(by_image.values()), estimate, n),
        _pack([[i] for i in identifiers], estimate, n),
    ]
    best = min(tries, key=lambda groups: _ends(groups, estimate))
    position = {i: k for k, i in enumerate(identifiers)}
    return [sorted(g, key=position.__getitem__) for g in best if g]


def _ends(groups: list[list[str]], estimate: Mapping[str, float]) -> float:
    """When the last of these groups ends."""
    return max(
        sum(estimate[i] for i in g) + IMAGE_START_SECONDS * len({image_of(i) for i in g})
        for g in groups
    )


def _pack(units: list[list[str]], estimate: Mapping[str, float], n: int) -> list[list[str]]:
    """The longest unit first, each into the group in which it ends soonest (an image new
    to the group costs its start); ties to the group with the lower number."""
    groups: list[list[str]] = [[] for _ in range(n)]

    def ends(g: int, unit: list[str]) -> float:
        return _ends([groups[g] + unit], estimate)

    for unit in sorted(units, key=lambda u: -_ends([u], estimate)):  # stable on ties
        best = min(range(n), key=lambda g: (ends(g, unit), g))
        groups[best].extend(unit)
    return groups


def plan(settings: config.Settings, argv: Sequence[str], on_command_line: bool) -> Plan | None:
    """The groups of this run; None to build in one run, said in one line where the user
    asked for more. A --jobs on the command line is refused (exit 2, before any container)
    on a host that builds on itself; one from the environment or [tool.ccwheel], which a
    matrix shares with such hosts, builds one at a time there."""
    wanted = settings.jobs
    if wanted == 1 or cibw.builds_at_most_one(argv):
        return None
    label = f"--jobs {'auto' if wanted is None else wanted}"
    identifiers, code = cibw.identifiers(argv)
    if code != 0:
        return None  # the run itself then says what cibuildwheel could not do
    host = [i for i in identifiers if not is_container_build(i)]
    if host:
        if wanted is not None and on_command_line:
            msg = (
                f"{label}: {host[0]} builds on this machine, whose Pythons and work "
                f"directory its builds share; --jobs is for Linux container builds only"
            )
            raise ConfigError(msg)
        note(f"{label}: {host[0]} builds on this machine, one build at a time")
        return None
    last = {i: cache.last_seconds(settings.cache_dir, i) for i in identifiers}
    groups = split(identifiers, last, min(wanted or cores(), len(identifiers)))
    if len(groups) < 2:
        n = len(identifiers)
        why = f"{n} build{'' if n == 1 else 's'} selected" if n < 2 else "one group is quickest"
        if wanted is None and cores() < 2:
            why = "1 core here"
        note(f"{label}: {why}, built in one run")
        return None
    return Plan(groups, max(1, cores() // len(groups)), tuple(identifiers))


def group_env(settings: config.Settings, flags: Mapping[str, object]) -> dict[str, str]:
    """A group's environment: this one, with the user's ccwheel flags as CCWHEEL_*
    variables (they beat the variables and the file there as here), one job each, and
    the remote storage as resolved here (its variable is out of this process's environment
    while the run lasts)."""
    env = dict(os.environ)
    for name, value in flags.items():
        if value is not None:
            env[config.env_name(name)] = str(value)
    env[config.env_name("jobs")] = "1"
    env.pop(config.env_name("remote_storage"), None)
    if settings.remote_storage:
        env[config.env_name("remote_storage")] = settings.remote_storage
    # The group's identifiers replace the selection (CIBW_BUILD), never add to it.
    inherit = cibw.without_build_inherit(env.get("CIBW_INHERIT", ""))
    if inherit != env.get("CIBW_INHERIT", inherit):
        env["CIBW_INHERIT"] = inherit
    return env


@dataclasses.dataclass
class _Group:
    number: int
    identifiers: list[str]
    dir: Path
    proc: subprocess.Popen[bytes]
    events_seen: int = 0
    printed: int = 0
    running: str | None = None
    since: float = 0.0
    done: bool = False

    def read_events(self) -> list[tuple[str, str, int]]:
        try:
            with (self.dir / EVENTS).open("rb") as f:
                f.seek(self.events_seen)
                data = f.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self.events_seen += len(complete)
        events = []
        for line in complete.decode().splitlines():
            what, identifier, offset = line.split()
            events.append((what, identifier, int(offset)))
        return events


class _Follow:
    """The groups of one run as they go: their progress, logs and first failure."""

    def __init__(self, groups: list[_Group], total: int) -> None:
        self.groups = groups  # filled as they start
        self.total = total
        self.started = 0
        self.failure: tuple[_Group, int] | None = None
        self.interrupted = False

    def pump(self) -> None:
        for g in self.groups:
            if g.done:
                continue
            exited = g.proc.poll() is not None
            for what, identifier, offset in g.read_events():
                self._event(g, what, identifier, offset)
            if exited:
                self._ended(g)

    def _event(self, g: _Group, what: str, identifier: str, offset: int) -> None:
        if what == "start":
            self.started += 1
            g.running, g.since = identifier, time.monotonic()
            note(f"[{self.started}/{self.total}] {identifier} started (group {g.number})")
            return
        took = time.monotonic() - g.since
        g.running = None
        _print_log(g, offset, f"{identifier}: finished in {took:.1f}s (group {g.number})")

    def _ended(self, g: _Group) -> None:
        handover = read_handover(g)
        code = handover.code if handover else _exit_status(g.proc.returncode)
        # Interrupted by this run: no failure. Stopped by anything else (a kill, a
        # supervisor): its missing builds are this run's failure, with its exit code.
        interrupted = self.interrupted
        if g.running is not None:
            if interrupted or (handover and handover.interrupted):
                how = "interrupted"
            elif handover is None and g.proc.returncode < 0:
                how = f"killed by signal {-g.proc.returncode}"
            else:
                how = f"failed (cibuildwheel exited {code})"
            title = f"{g.running}: {how} (group {g.number})"
        else:
            title = f"group {g.number}: the end of its cibuildwheel run (exit {code})"
        _print_log(g, None, title, skip_empty=True)
        g.done = True
        if handover is None:
            note(
                f"group {g.number} ended with no word of its builds (exit {code}); "
                f"its log: {g.dir / LOG}"
            )
        if code != 0 and not interrupted and self.failure is None:
            self.failure = (g, code)
            live = sum(not other.done for other in self.groups)
            if live:
                others = "the other group builds" if live == 1 else f"the {live} other groups build"
                note(f"group {g.number} failed (exit {code}): {others} the rest of theirs")


def _exit_status(returncode: int) -> int:
    """A process's exit status as a shell gives it (128 + the signal that ended it)."""
    return 128 - returncode if returncode < 0 else returncode


def _print_log(g: _Group, upto: int | None, title: str, skip_empty: bool = False) -> None:
    """The group's log from where it was printed up to `upto` (None: its end), whole,
    under `title` (a folded group under GitHub Actions; cibuildwheel's own groups in it
    are dropped there, as GitHub does not nest them)."""
    with (g.dir / LOG).open("rb") as f:
        f.seek(g.printed)
        data = f.read() if upto is None else f.read(max(0, upto - g.printed))
    g.printed += len(data)
    if skip_empty and not data.strip():
        return
    gha = console.in_github_actions()
    if gha:
        kept = [
            line
            for line in data.splitlines(keepends=True)
            if not line.startswith((b"::group::", b"::endgroup::"))
        ]
        data = b"".join(kept)
    sys.stdout.flush()
    sys.stderr.flush()
    out = sys.stdout.buffer
    out.write(f"::group::{title}\n".encode() if gha else f"ccwheel: {title}:\n".encode())
    out.write(data if data.endswith(b"\n") or not data else data + b"\n")
    if gha:
        out.write(b"::endgroup::\n")
    out.flush()


def read_handover(g: _Group) -> HandOver | None:
    try:
        with (g.dir / HANDOVER).open("rb") as f:
            found = pickle.load(f)  # written by our own group, in our own 0700 directory
    except (OSError, pickle.UnpicklingError, EOFError):
        return None
    return found if isinstance(found, HandOver) else None


def _start(
    top: Path, number: int, the_plan: Plan, env: dict[str, str], argv: Sequence[str]
) -> _Group:
    directory = top / f"group-{number}"
    directory.mkdir()
    identifiers = the_plan.groups[number - 1]
    env = {
        **env,
        "CIBW_BUILD": " ".join(identifiers),
        GROUP_ENV: str(directory),
        GROUPS_ENV: str(len(the_plan.groups)),
        PARALLEL_ENV: str(the_plan.parallel),
    }
    if env.get("GITHUB_STEP_SUMMARY"):
        env["GITHUB_STEP_SUMMARY"] = str(directory / SUMMARY)
    with (directory / LOG).open("wb") as log:
        proc = subprocess.Popen(
            [*GROUP_COMMAND, *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=os.name == "posix",
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return _Group(number, identifiers, directory, proc)


def _die_with_parent() -> None:
    """In a group, before it starts: SIGTERM when this run dies (killed, or its terminal
    gone), as no signal of the run's own session reaches the group's (Linux's prctl
    PR_SET_PDEATHSIG; elsewhere a killed run leaves its groups to end on their own)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_groups(the_plan: Plan, env: dict[str, str], argv: Sequence[str]) -> HandOver:
    """Every group built, side by side; their facts together, in cibuildwheel's order."""
    top = Path(tempfile.mkdtemp(prefix="ccwheel-jobs-"))
    sizes = " + ".join(str(len(g)) for g in the_plan.groups)
    note(
        f"--jobs: {sizes} builds in {len(the_plan.groups)} groups side by side, each its own "
        f"cibuildwheel run; each build's log follows when it ends"
    )
    groups: list[_Group] = []
    follow = _Follow(groups, sum(len(g) for g in the_plan.groups))
    signals: list[int] = []
    passed_on = 0
    with _signals_recorded(signals):
        try:
            for number in range(1, len(the_plan.groups) + 1):
                groups.append(_start(top, number, the_plan, env, argv))
            while not all(g.done for g in groups):
                if len(signals) > passed_on:
                    passed_on = len(signals)
                    follow.interrupted = True
                    _pass_on(signals, groups)
                follow.pump()
                time.sleep(_POLL_SECONDS)
        finally:
            _end(groups)
    _append_summaries(groups)
    return _together(the_plan, groups, follow, signals[0] if signals else None, top)


@contextlib.contextmanager
def _signals_recorded(into: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM recorded while the groups run, not raised: nothing this run does
    meanwhile (a group's start, its log half printed) is cut short. The loop passes them on."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    wanted = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, _frame: into.append(signum)) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _pass_on(signals: list[int], groups: list[_Group]) -> None:
    """An interrupt of this run reaches each group once (in sessions of their own, nothing
    else reaches them): the first as it came, a second as SIGTERM; a third kills each
    group's processes. On a host without sessions (Windows) the console's Ctrl-C reached
    every group already, and nothing is sent."""
    if os.name != "posix":
        return
    how = signal.SIGTERM if len(signals) > 1 else signals[-1]
    for g in groups:
        if g.proc.poll() is None:
            if len(signals) > 2:
                os.killpg(g.proc.pid, signal.SIGKILL)
            else:
                g.proc.send_signal(how)


def _end(groups: list[_Group]) -> None:
    """No group outlives this run, whatever ended it: each gets SIGTERM (cibuildwheel then
    removes its containers) and a minute, then its processes are killed."""
    live = [g for g in groups if g.proc.poll() is None]
    for g in live:
        if os.name == "posix":
            g.proc.terminate()
    deadline = time.monotonic() + _END_SECONDS
    for g in live:
        try:
            g.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            if os.name == "posix":
                os.killpg(g.proc.pid, signal.SIGKILL)
            else:
                g.proc.kill()
            g.proc.wait()


def _append_summaries(groups: list[_Group]) -> None:
    """Each group's cibuildwheel step summary, in group order, in the job's."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    parts = [g.dir / SUMMARY for g in groups if (g.dir / SUMMARY).is_file()]
    if not summary or not parts:
        return
    try:
        with Path(summary).open("a", encoding="utf-8") as f:
            for part in parts:
                f.write(part.read_text(encoding="utf-8", errors="replace").rstrip("\n") + "\n\n")
    except OSError as e:
        console.warn(f"cannot append to GITHUB_STEP_SUMMARY: {e}")


def _together(
    the_plan: Plan, groups: list[_Group], follow: _Follow, interrupt: int | None, top: Path
) -> HandOver:
    order = {i: k for k, i in enumerate(the_plan.order)}
    facts: list[Any] = []
    handovers = [read_handover(g) for g in groups]
    for h in handovers:
        if h is not None:
            facts.extend(h.facts)
    facts.sort(key=lambda f: order.get(f.identifier, len(order)))
    code = follow.failure[1] if follow.failure else 0
    if interrupt is not None:
        code = 128 + interrupt
    if follow.failure is None and interrupt is None:
        shutil.rmtree(top, ignore_errors=True)
    else:
        note(f"--jobs: the groups' logs are kept in {top}")
    return HandOver(
        facts=facts,
        code=code,
        interrupted=interrupt is not None,
        own_max_size=any(h.own_max_size for h in handovers if h is not None),
    )


class Member:
    """This run is one group of a `--jobs` run: it says when each build starts and ends,
    and hands its facts over."""

    def __init__(self, directory: Path, parallel: int, groups: int = 1) -> None:
        self.dir = directory
        self.parallel = parallel
        self.groups = groups

    @classmethod
    def from_environment(cls) -> Member | None:
        directory = os.environ.get(GROUP_ENV)
        if not directory:
            return None

        def number(name: str) -> int:
            value = os.environ.get(name, "")
            return int(value) if value.isdigit() else 1

        return cls(Path(directory), number(PARALLEL_ENV), number(GROUPS_ENV))

    def started(self, identifier: str) -> None:
        self._event("start", identifier)

    def ended(self, identifier: str) -> None:
        self._event("end", identifier)

    def _event(self, what: str, identifier: str) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        offset = os.fstat(sys.stdout.fileno()).st_size  # the group's log
        with (self.dir / EVENTS).open("a", encoding="utf-8") as f:
            f.write(f"{what} {identifier} {offset}\n")

    def hand_over(self, handover: HandOver) -> None:
        partial = self.dir / (HANDOVER + ".partial")
        with partial.open("wb") as f:
            pickle.dump(handover, f)
        partial.replace(self.dir / HANDOVER)


def member() -> Member | None:
    return Member.from_environment()


__all__ = [
    "HandOver",
    "Member",
    "Plan",
    "cores",
    "group_env",
    "member",
    "plan",
    "run_groups",
    "split",
]
