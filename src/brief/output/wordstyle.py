"""The few things an edition's stylesheets say that a Word reader needs: which classes are bold, italic or a new line.

Pandoc ignores CSS, so a date, a title and a description set apart by weight and line
breaks would run together in Word. Rules whose selector ends in one class (``.event-title``,
``.change .was``) are read from the print and all-media stylesheets; their font-weight,
font-style and display: block become <strong>, <em> and a line break around the element.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_AT_BLOCK = re.compile(r"@[^{;]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", re.S)  # @media, @page, @font-face
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_LAST_CLASS = re.compile(r"(?:^|[\s>+~])\.([A-Za-z_][\w-]*)$")


@dataclass
class ClassLooks:
    """Class name -> what Word should show: bold, italic, on a line of its own."""

    bold: set[str] = field(default_factory=set)
    italic: set[str] = field(default_factory=set)
    block: set[str] = field(default_factory=set)

    def read(self, css: str) -> None:
        """Add what a stylesheet's single-class rules say (later rules win, as in CSS)."""
        css = _AT_BLOCK.sub("", _COMMENT.sub("", css))
        for selectors, body in _RULE.findall(css):
            declared = dict(_declaration(d) for d in body.split(";") if ":" in d)
            for selector in selectors.split(","):
                found = _LAST_CLASS.search(selector.strip())
                if found:
                    self._apply(found.group(1), declared)

    def _apply(self, name: str, declared: dict[str, str]) -> None:
        for key, target, on in (("font-weight", self.bold, _is_bold), ("font-style", self.italic, _is_italic),
                                ("display", self.block, lambda v: v == "block")):
            if key in declared:
                (target.add if on(declared[key]) else target.discard)(name)

    def wrappers(self, classes: set[str]) -> tuple[str, str, bool]:
        """Return the tags to open and close inside an element with these classes, and whether it starts a line."""
        tags = [t for t, names in (("strong", self.bold), ("em", self.italic)) if classes & names]
        return "".join(f"<{t}>" for t in tags), "".join(f"</{t}>" for t in reversed(tags)), bool(classes & self.block)


def _declaration(text: str) -> tuple[str, str]:
    key, _, value = text.partition(":")
    return key.strip().lower(), value.replace("!important", "").strip().lower()


def _is_bold(value: str) -> bool:
    return value in ("bold", "bolder") or (value.isdigit() and int(value) >= 600)


def _is_italic(value: str) -> bool:
    return value in ("italic", "oblique")
