"""Why a unit missed: its hash inputs compared with the previous run of the same build.

With --explain, ccache runs in debug mode and writes, per compilation, a
`<object>.<timestamp>.ccache-input-text` file under the run's debug directory: the text of
everything it hashed, in sections (common, direct mode, preprocessor mode). For each unit
that missed, the same object's file from the newest earlier run of the same identifier is
compared with it, and the first difference that explains a miss is named: the compiler, an
option (an include path is told apart), the source, or a header's content.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

SUFFIX = ".ccache-input-text"
LOG_SUFFIX = ".ccache-log"
# ccache's log names each include file whose content no longer matches the manifest.
# ("Mismatch for src/x.h: hash A != B", or "size 356 != 314" when even the size differs).
_MISMATCH = re.compile(r"\] Mismatch for (.+?): (?:hash|size|mtime|ctime) ")
_STAMP = re.compile(r"\.\d{8}_\d{6}_\d+$")
_LINEMARKER = re.compile(r'^# \d+ "$')
_INCLUDE_OPTIONS = ("-I", "-isystem", "-iquote", "-idirafter", "--sysroot")


@dataclasses.dataclass
class HashInput:
    """One compilation's hash inputs, from its input-text file."""

    common: list[str] = dataclasses.field(default_factory=list)
    args: list[str] = dataclasses.field(default_factory=list)
    # The options the preprocessor-mode hash saw: -I and -D live here too.
    cpp_args: list[str] = dataclasses.field(default_factory=list)
    input_file: str = ""
    source_hash: str = ""
    # Preprocessed output, per file it came from (main source and every header).
    cpp: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def parse(text: str) -> HashInput:
    result = HashInput()
    section = ""
    key = ""
    values: dict[tuple[str, str], list[str]] = {}
    for line in text.split("\n"):
        if line.startswith("=== ") and line.endswith(" ==="):
            section, key = line[4:-4], ""
        elif line.startswith("### "):
            key = line[4:]
            if key == "arg" and section in ("DIRECT MODE", "PREPROCESSOR MODE"):
                (result.args if section == "DIRECT MODE" else result.cpp_args).append("")
        elif section == "COMMON":
            result.common.append(f"{key}: {line}")
        elif section == "DIRECT MODE" and key == "arg" and result.args:
            result.args[-1] += line
        elif section == "PREPROCESSOR MODE" and key == "arg" and result.cpp_args:
            result.cpp_args[-1] += line
        else:
            values.setdefault((section, key), []).append(line)
    result.input_file = "".join(values.get(("DIRECT MODE", "inputfile"), [])).strip()
    result.source_hash = "".join(values.get(("DIRECT MODE", "sourcecode hash"), [])).strip()
    result.cpp = _split_cpp(values.get(("PREPROCESSOR MODE", "cpp"), []))
    return result


def _split_cpp(lines: list[str]) -> dict[str, list[str]]:
    """Preprocessed lines grouped by the file the line markers say they came from. In the
    input text a marker spans three lines: `# 12 "`, the file name, `" flags`."""
    files: dict[str, list[str]] = {}
    current = ""
    i = 0
    while i < len(lines):
        if _LINEMARKER.match(lines[i]) and i + 2 < len(lines) and lines[i + 2].startswith('"'):
            current = lines[i + 1]
            i += 3
            continue
        if lines[i].strip():
            files.setdefault(current, []).append(lines[i])
        i += 1
    return files


def _describe_args(before: list[str], after: list[str]) -> str:
    removed = [a for a in before if a not in after]
    added = [a for a in after if a not in before]
    if not removed and not added:
        return "the order of the compiler options changed"
    kind = (
        "include path"
        if all(a.startswith(_INCLUDE_OPTIONS) for a in removed + added)
        else ("option")
    )
    if len(removed) == 1 and len(added) == 1:
        return f"{kind} {added[0]} changed (was {removed[0]})"
    parts = []
    if added:
        parts.append(f"added {' '.join(added)}")
    if removed:
        parts.append(f"removed {' '.join(removed)}")
    return f"{kind}s changed: {'; '.join(parts)}"


def changed_headers(log: str) -> list[str]:
    """Include files whose content differs from what the cache's manifest recorded."""
    return sorted({m.group(1) for m in _MISMATCH.finditer(log)})


def _headers_cause(names: list[str]) -> str:
    return (
        f"header {names[0]} changed"
        if len(names) == 1
        else (f"headers changed: {', '.join(names)}")
    )


def compare(before: HashInput, after: HashInput, log: str = "") -> str:
    """The cause of a miss, in a few words, or "" when the hash inputs match. `log` is the
    current compilation's ccache log, which names changed headers."""
    if before.common != after.common:
        return (
            "the compiler changed ("
            + ", ".join(
                sorted({c.split(":", 1)[0] for c in set(before.common) ^ set(after.common)})
            )
            + ")"
        )
    if before.args != after.args:
        return _describe_args(before.args, after.args)
    if before.cpp_args != after.cpp_args:
        return _describe_args(before.cpp_args, after.cpp_args)
    if before.input_file != after.input_file:
        return f"the source path changed (was {before.input_file})"
    if before.source_hash != after.source_hash:
        return f"the source {after.input_file} changed"
    # A header that only defines macros shows no lines of its own in the preprocessed
    # text, so ccache's own record of mismatching include files comes first.
    changed = changed_headers(log) or [
        name
        for name in sorted(set(before.cpp) | set(after.cpp))
        if before.cpp.get(name) != after.cpp.get(name)
        and name != after.input_file
        and not name.startswith("<")
    ]
    if changed:
        return _headers_cause(changed)
    if before.cpp != after.cpp:
        return f"the preprocessed source of {after.input_file} changed"
    return ""


def inputs(debug_dir: Path) -> dict[str, Path]:
    """Object path -> its newest input-text file under one build's debug directory."""
    found: dict[str, Path] = {}
    for path in sorted(debug_dir.rglob(f"*{SUFFIX}")):
        rel = str(path.relative_to(debug_dir))[: -len(SUFFIX)]
        found["/" + _STAMP.sub("", rel)] = path  # sorted: the newest timestamp wins
    return found


@dataclasses.dataclass
class Explanation:
    source: str
    cause: str


def _common_tail(a: str, b: str) -> int:
    """How many trailing path components two object paths share."""
    n = 0
    for x, y in zip(reversed(a.split("/")), reversed(b.split("/"))):
        if x != y:
            break
        n += 1
    return n


def _relocated(hash_input: HashInput, now_dir: str, then_dir: str) -> HashInput:
    """An earlier unit's hash inputs as if compiled in this run's directory."""

    def fix(text: str) -> str:
        return text.replace(then_dir, now_dir)

    return HashInput(
        common=hash_input.common,
        args=[fix(a) for a in hash_input.args],
        cpp_args=[fix(a) for a in hash_input.cpp_args],
        input_file=fix(hash_input.input_file),
        source_hash=hash_input.source_hash,
        cpp={fix(k): [fix(line) for line in v] for k, v in hash_input.cpp.items()},
    )


def earlier_path(earlier: list[dict[str, Path]], moved: tuple[str, str, str]) -> Path:
    return next(e[moved[2]] for e in earlier if moved[2] in e)


def moved_from(obj: str, earlier: dict[str, Path]) -> tuple[str, str, str] | None:
    """The same unit in an earlier run whose object lies in a different directory (a
    backend that builds from a fresh temporary copy of the project): the earlier object
    sharing the longest tail of path components with this one, at least its name and one
    directory, and only when no other ties with it. (this run's directory, that run's
    directory, that run's object)."""
    best, tied, length = "", False, 1
    for other in earlier:
        n = _common_tail(obj, other)
        if n > length:
            best, tied, length = other, False, n
        elif n == length and best:
            tied = True
    if not best or tied:
        return None
    parts = obj.split("/")
    before = best.split("/")
    now_dir = "/".join(parts[: len(parts) - length]) or "/"
    then_dir = "/".join(before[: len(before) - length]) or "/"
    return now_dir, then_dir, best


def explain(current: Path, previous: list[Path], missed_files: list[str]) -> list[Explanation]:
    """For each unit that missed in `current` (a build's debug dir), its cause, against the
    newest of `previous` (earlier debug dirs of the same identifier, newest first) that
    knows the same object, or else the same unit compiled in another directory."""
    missed = set(missed_files)
    earlier = [inputs(p) for p in previous]
    out = []
    for obj, path in sorted(inputs(current).items()):
        now = parse(path.read_text(errors="replace"))
        if now.input_file not in missed:
            continue
        log_path = path.with_name(path.name[: -len(SUFFIX)] + LOG_SUFFIX)
        log = log_path.read_text(errors="replace") if log_path.is_file() else ""
        before_path = next((e[obj] for e in earlier if obj in e), None)
        # (this run's directory, that run's, that run's input file), when the unit moved.
        moved = None
        if before_path is None:
            moved = next(
                ((m[0], m[1], e[m[2]]) for e in earlier if (m := moved_from(obj, e))), None
            )
        if moved is not None:
            before = _relocated(parse(moved[2].read_text(errors="replace")), moved[0], moved[1])
            # With the directory's own name taken out, what still differs is the cause.
            # Nothing: the paths themselves, outside the base directories, are.
            cause = compare(before, now, log) or (
                f"the source was compiled from a different directory: {moved[0]} (was "
                f"{moved[1]}), outside the base directories (CCACHE_BASEDIR), whose paths "
                f"are hashed as they are"
            )
        elif before_path is None:
            headers = changed_headers(log)
            cause = (
                _headers_cause(headers)
                if headers
                else "no earlier input to compare with (a new unit, or no --explain last time)"
            )
        else:
            cause = compare(parse(before_path.read_text(errors="replace")), now, log) or (
                "its hash inputs did not change (evicted from the cache, or cleaned)"
            )
        out.append(Explanation(now.input_file, cause))
    return out


def summarize(explanations: list[Explanation]) -> list[str]:
    """'3 units missed because header x.h changed', most common cause first."""
    counts = Counter(e.cause for e in explanations)
    return [f"{n} unit{'s' if n != 1 else ''} missed: {cause}" for cause, n in counts.most_common()]
