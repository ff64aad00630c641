"""Check that a printed edition holds what its HTML holds: every section heading and table row.

WeasyPrint can drop content without an error (a full-width table crossing a page
break in a two-column layout printed its first row only). The check reads the
laid-out pages, not the PDF bytes, so it needs nothing but the document WeasyPrint
already made.
"""
from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from typing import Any

# Elements whose text a reader does not see on paper, by tag or class.
_SKIP_TAGS = {"head", "style", "script", "svg", "title"}
_HIDDEN_CLASSES = {"vh", "visually-hidden", "sr-only", "screen-only"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def normal(text: str) -> str:
    """Return text reduced to lower-case letters and digits, as both sides are compared."""
    return re.sub(r"[\W_]+", "", text.replace("\u00ad", "").casefold())


class _Expected(HTMLParser):
    """Collect the visible text of h2/h3 headings and of each table row's first cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []  # (kind, text)
        self._stack: list[tuple[str, bool]] = []  # (tag, hidden)
        self._capture: list[Any] = []  # [kind, tag, depth, text] while inside a heading or first cell
        self._cell_in_row = 0

    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        self._stack.append((tag, tag in _SKIP_TAGS or bool(classes & _HIDDEN_CLASSES)))
        if tag == "tr":
            self._cell_in_row = 0
        elif tag in ("td", "th"):
            self._cell_in_row += 1
        if self._capture or self._hidden():
            return
        if tag in ("h2", "h3") or (tag in ("td", "th") and self._cell_in_row == 1):
            self._capture = ["heading" if tag.startswith("h") else "table row", tag, len(self._stack), ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self._stack:
            return
        while self._stack:  # tolerate unclosed elements, as browsers do
            open_tag, _ = self._stack.pop()
            if self._capture and len(self._stack) < self._capture[2]:
                kind, _, _, text = self._capture
                if text.strip():
                    self.items.append((kind, " ".join(text.split())))
                self._capture = []
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._capture and not self._hidden():
            self._capture[3] += data


def expected_text(html: str) -> list[tuple[str, str]]:
    """Return (kind, text) for every visible heading and table row of an edition's HTML."""
    parser = _Expected()
    parser.feed(html)
    parser.close()
    return parser.items


def laid_out_text(document: Any) -> str:
    """Return the normalised text of every page WeasyPrint laid out."""
    from weasyprint.formatting_structure.boxes import TextBox

    parts = []
    for page in document.pages:
        parts += [box.text for box in page._page_box.descendants() if isinstance(box, TextBox)]
    return normal("".join(parts))


def missing_text(expected: list[tuple[str, str]], document: Any) -> tuple[str, ...]:
    """Name each heading or table row the laid-out pages hold fewer times than the HTML."""
    printed = laid_out_text(document)
    wanted = Counter((kind, normal(text)[:40]) for kind, text in expected)
    labels = {(kind, normal(text)[:40]): text for kind, text in expected}
    missing = []
    for (kind, key), count in wanted.items():
        if len(key) >= 3 and printed.count(key) < count:
            missing.append(f"{kind} '{labels[(kind, key)][:60]}'")
    return tuple(missing)
