"""Write the GitHub workflows of the README (its ```yaml blocks with `jobs:`) to a directory,
for `nox -s lint` to validate and audit them as it does the repository's own: users copy
them.

usage: python tests/readme_workflows.py DIR
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def workflows(text: str) -> list[str]:
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "\njobs:" in b]


def main(dest: Path) -> int:
    found = workflows(README.read_text(encoding="utf-8"))
    if not found:
        print("readme_workflows: no workflow in README.md", file=sys.stderr)
        return 1
    dest.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(found, 1):
        (dest / f"readme-{i}.yml").write_text(text, encoding="utf-8")
        print(dest / f"readme-{i}.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
