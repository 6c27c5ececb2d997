"""Check a built ccwheel wheel and the `ccwheel` command installed from it into a fresh
venv (`nox -s package`): the files that run in containers are in it, the version agrees, and
the command starts.

usage: python tests/check_package.py WHEEL CCWHEEL-COMMAND
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
# What ccwheel copies into every build container, and its GitHub Action's commands.
REQUIRED = ("ccwheel/resources/setup.sh", "ccwheel/resources/frontend.py", "ccwheel/ci.py")


def main(wheel: Path, command: str) -> int:
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "src/ccwheel/__init__.py").read_text())
    assert version is not None
    expected = version.group(1)
    names = zipfile.ZipFile(wheel).namelist()
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        print(f"check_package: {wheel.name} lacks {missing}", file=sys.stderr)
        return 1
    if f"-{expected}-" not in wheel.name:
        print(f"check_package: {wheel.name} is not version {expected}", file=sys.stderr)
        return 1
    out = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    if out.stdout.strip() != f"ccwheel {expected}":
        print(f"check_package: `ccwheel --version` said {out.stdout!r}", file=sys.stderr)
        return 1
    subprocess.run([command, "build", "--help"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([command, "ci", "--help"], check=True, stdout=subprocess.DEVNULL)
    print(f"check_package: {wheel.name}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
