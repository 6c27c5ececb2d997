from __future__ import annotations

from ccwheel.cli import entry

if __name__ == "__main__":
    entry()
