"""The README and the docs site agree with each other: every link from the README into
docs/ names a page and a heading that exist (mkdocs --strict checks the links within the
site, `nox -s docs`), every page is in the site's navigation, and the README stays short."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension (mkdocs) gives a heading."""
    text = re.sub(r"`|\*", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_every_readme_link_into_the_docs_lands_on_a_page_and_heading() -> None:
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", (ROOT / "README.md").read_text())
    assert links
    for target, anchor in links:
        page = ROOT / target
        assert page.is_file(), target
        if anchor:
            assert anchor in _anchors(page), f"{target}#{anchor}"


def test_every_page_is_in_the_navigation() -> None:
    nav = set(re.findall(r":\s*(\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M))
    assert nav == {p.name for p in DOCS.glob("*.md")}


def test_the_readme_is_at_most_1200_words() -> None:
    assert len((ROOT / "README.md").read_text().split()) <= 1200
