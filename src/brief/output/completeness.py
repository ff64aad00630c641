"""Check that a printed edition holds what its HTML holds: every section heading and table row.

WeasyPrint can drop content without an error (a full-width table crossing a page
break in a two-column layout printed its first row only). The check reads the
laid-out pages, not the PDF bytes, so it needs nothing but the document WeasyPrint
already made.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
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
        self.visible: list[str] = []  # all the text a reader sees, to count repeated words fairly
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
        if self._hidden():
            return
        self.visible.append(data)
        if self._capture:
            self._capture[3] += data


@dataclass(frozen=True)
class Expected:
    """What the printed pages must hold: each heading and table row, and all visible text to count them in."""

    items: tuple[tuple[str, str], ...]
    visible: str  # normalised

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        return list(self.items) == other if isinstance(other, list) else NotImplemented


def expected_text(html: str) -> Expected:
    """Return every visible heading and table row of an edition's HTML, with its visible text."""
    parser = _Expected()
    parser.feed(html)
    parser.close()
    return Expected(tuple(parser.items), normal(" ".join(parser.visible)))


def laid_out_text(document: Any) -> str:
    """Return the normalised text of every page WeasyPrint laid out."""
    from weasyprint.formatting_structure.boxes import TextBox

    parts = []
    for page in document.pages:
        parts += [box.text for box in page._page_box.descendants() if isinstance(box, TextBox)]
    return normal("".join(parts))


def missing_text(expected: Expected, document: Any) -> tuple[str, ...]:
    """Name each heading or table row whose words the laid-out pages hold fewer times than the HTML shows them."""
    printed = laid_out_text(document)
    missing = []
    for kind, text in dict.fromkeys(expected.items):
        key = normal(text)[:40]
        # The same words may appear elsewhere too ("Data" as a row and as a heading): count them all.
        if len(key) >= 3 and printed.count(key) < min(expected.visible.count(key), 50):
            missing.append(f"{kind} '{text[:60]}'")
    return tuple(missing)
