"""Write the GitHub workflows of the README and the docs (their ```yaml blocks with `jobs:`
and `runs-on:`; other CI services' snippets have neither both) to a directory, for
`nox -s lint` to validate and audit them as it does the repository's own: users copy them.

usage: python tests/readme_workflows.py DIR
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
# Where users copy workflows from: the README, then the docs' pages in name order.
PAGES = (README, *sorted((ROOT / "docs").glob("*.md")))


def workflows(text: str) -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return [b for b in blocks if "\njobs:" in b and "runs-on:" in b]


def all_workflows() -> list[tuple[str, str]]:
    """(page name, workflow text) of every page, in order."""
    return [(p.stem, w) for p in PAGES for w in workflows(p.read_text(encoding="utf-8"))]


def main(dest: Path) -> int:
    found = all_workflows()
    if not found:
        print("readme_workflows: no workflow in README.md or docs/", file=sys.stderr)
        return 1
    dest.mkdir(parents=True, exist_ok=True)
    for i, (page, text) in enumerate(found, 1):
        path = dest / f"{page}-{i}.yml"
        path.write_text(text, encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
