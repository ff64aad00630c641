"""Check that a printed edition holds what its HTML holds: every section heading and every table row.

WeasyPrint can drop content without an error (a full-width table crossing a page break in a
two-column layout printed its first row only). The check compares elements, not words: each
h2, h3 and table row of the HTML must have a box on some laid-out page. Words would mislead,
since "Data" may be a dropped row and also a heading elsewhere.
"""
from __future__ import annotations

import re
from typing import Any

# Elements a reader does not see on paper by design (the HTML's screen-reader or screen-only text).
_HIDDEN_CLASSES = {"vh", "visually-hidden", "sr-only", "screen-only"}
_CHECKED = {"h2": "heading", "h3": "heading", "tr": "table row"}
_SKIP = {"head", "svg"}


def missing_elements(html: Any, document: Any) -> tuple[str, ...]:
    """Name each heading or table row of the HTML (a WeasyPrint HTML) that no laid-out page holds."""
    laid_out = {id(box.element) for page in document.pages for box in page._page_box.descendants()
                if getattr(box, "element_tag", None) in _CHECKED}
    missing = []
    for element in _checked(html.etree_element):
        if id(element) not in laid_out:
            missing.append(f"{_CHECKED[element.tag]} '{_label(element)}'")
    return tuple(missing)


def _checked(root: Any) -> list[Any]:
    """Return the headings and table rows a reader should find on paper, in document order."""
    found, stack = [], [root]
    while stack:
        element = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _SKIP or set((element.get("class") or "").split()) & _HIDDEN_CLASSES:
            continue
        if tag in _CHECKED:
            found.append(element)
        stack.extend(reversed(list(element)))
    return found


def _label(element: Any) -> str:
    """Return an element's words to name it by: a row by its first cell."""
    first = next((cell for cell in element if cell.tag in ("th", "td")), element) if element.tag == "tr" else element
    text = re.sub(r"\s+", " ", "".join(first.itertext())).strip()
    return text[:60] or "(empty)"
