"""Prepare an edition's HTML for pandoc's Word writer.

Pandoc knows no CSS, so what the stylesheets do is done here, in the HTML itself:
screen-reader-only text is dropped (Word would show it), inline SVG graphics become PNG
images with their title and description as alt text, insertions and deletions get the
Word character styles that colour them, and a few HTML5 elements that pandoc drops
(header, footer) become plain blocks. Images are embedded as data: URIs, so pandoc reads
no file at all.
"""
from __future__ import annotations

import base64
import mimetypes
from functools import cached_property
from html import escape
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from brief.output.raster import Fonts, edition_fonts, svg_to_png
from brief.output.wordstyle import ClassLooks

if TYPE_CHECKING:
    from brief.edition.render import Page

# Classes that hide text from the eye but not from screen readers; the `hidden` attribute hides it from both.
HIDDEN_CLASSES = frozenset({"vh", "visually-hidden", "sr-only"})
# Pandoc drops header, footer and nav with their content (and all but <main> when there is one); a div keeps it.
AS_DIV = frozenset({"header", "main", "footer", "nav", "aside", "figure", "hgroup"})
# Word character styles (defined in templates/editions/reference.docx), over plain underline and strike.
MARKS = {"ins": ("Inserted Text", "u"), "del": ("Deleted Text", "s")}
CAPTION_STYLE = "Image Caption"
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                  "wbr"})
WORD_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
# Elements whose content may be wrapped in <strong>/<em> as the stylesheets make it look (no blocks inside).
PHRASING = frozenset({"span", "p", "dt", "a", "small", "cite", "time", "b", "i", "em", "strong", "abbr", "q"})
INLINE = PHRASING - {"p", "dt"}


def word_html(page: Page) -> str:
    """Return the edition's HTML rewritten for pandoc (see the module's docstring)."""
    rewriter = _Rewriter(page)
    rewriter.feed(page.html)
    rewriter.close()
    return rewriter.result()


class _Rewriter(HTMLParser):
    """Find what to change as (start, end, replacement) edits on the source text, then apply them."""

    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page, self.source = page, page.html
        self.lines = [0]
        for line in page.html.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.edits: list[tuple[int, int, str]] = []
        self.skip: tuple[str, int, int] | None = None  # (tag, depth, start) of a hidden element or the head
        self.svg: dict | None = None  # the outermost inline <svg> being read
        self.lists: list[tuple[int, bool]] = []  # open <ol>: (end of its start tag, start number given)
        self.graphics = 0
        self.looks = ClassLooks()
        self.closers: dict[str, list[str]] = {}  # per tag name, what to close before each open element's end

    # ---- positions and edits ----

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.lines[line - 1] + col

    def _tag_end(self, start: int) -> int:
        return self.source.index(">", start) + 1

    @cached_property
    def fonts(self) -> Fonts:
        """The edition's @font-face fonts, read at its first graphic (an edition without any reads none)."""
        return edition_fonts(self.page.assets)

    def result(self) -> str:
        out, at = [], 0
        for start, end, text in sorted(self.edits, key=lambda e: (e[0], e[1])):
            out += [self.source[at:start], text]
            at = end
        return "".join(out) + self.source[at:]

    # ---- the parser's callbacks ----

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            self._stylesheet(a)
        if self._skipping(tag, +1) or self._in_svg(tag, +1):
            return
        if tag == "head" or "hidden" in a or HIDDEN_CLASSES & set(a.get("class", "").split()):
            if tag in VOID:
                self.edits.append((start, self._tag_end(start), ""))
            else:
                self.skip = (tag, 1, start)
        elif tag == "svg":
            self.svg = {"start": start, "attrs": a, "depth": 1, "title": [], "desc": [], "in": None}
        else:
            self._rewrite_start(tag, a, start)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            self._stylesheet(a)
        if self.skip or self.svg:
            return
        if "hidden" in a or HIDDEN_CLASSES & set(a.get("class", "").split()):
            self.edits.append((start, self._tag_end(start), ""))
        elif tag == "img":
            self._rewrite_start(tag, a, start)

    def handle_endtag(self, tag: str) -> None:
        start = self._offset()
        if self.skip:
            self._skipping(tag, -1, start)
            return
        if self.svg:
            self._in_svg(tag, -1, start)
            return
        if tag in AS_DIV:
            self.edits.append((start, self._tag_end(start), "</div>"))
        elif tag in MARKS:
            self.edits.append((start, self._tag_end(start), f"</{MARKS[tag][1]}></span>"))
        elif tag == "figcaption":
            self.edits.append((start, self._tag_end(start), "</div>"))
        elif tag == "ol" and self.lists:
            self.lists.pop()
        if tag in PHRASING and self.closers.get(tag):
            closer = self.closers[tag].pop()
            if closer:
                self.edits.append((start, start, closer))

    def handle_data(self, data: str) -> None:
        if self.svg and self.svg["in"]:
            self.svg[self.svg["in"]].append(data)

    # ---- hidden elements and the head: dropped whole ----

    def _skipping(self, tag: str, step: int, at: int = 0) -> bool:
        if not self.skip:
            return False
        name, depth, start = self.skip
        if tag == name:
            depth += step
        if depth == 0:
            self.edits.append((start, self._tag_end(at), ""))
            self.skip = None
        else:
            self.skip = (name, depth, start)
        return True

    # ---- inline SVG: drawn as a PNG image ----

    def _in_svg(self, tag: str, step: int, at: int = 0) -> bool:
        svg = self.svg
        if not svg:
            return False
        if tag == "svg":
            svg["depth"] += step
        elif step > 0 and svg["depth"] == 1 and tag in ("title", "desc"):
            svg["in"] = tag
        elif step < 0 and tag in ("title", "desc"):
            svg["in"] = None
        if step < 0 and svg["depth"] == 0:
            end = self._tag_end(at)
            self.edits.append((svg["start"], end, self._image(svg, self.source[svg["start"]:end])))
            self.svg = None
        return True

    def _image(self, svg: dict, source: str) -> str:
        title = " ".join("".join(svg["title"]).split())
        desc = " ".join("".join(svg["desc"]).split())
        alt = " ".join(t for t in (title, desc) if t) or svg["attrs"].get("aria-label", "").strip()
        self.graphics += 1
        what = f"{self.page.audience}: graphic {self.graphics}" + (f" ('{title}')" if title else "")
        png = svg_to_png(source, self.fonts, what)
        width, height = _size(svg["attrs"])
        size = f' width="{width}" height="{height}"' if width and height else ""
        return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{escape(alt)}" '
                f'title="{escape(title)}"{size}>')

    # ---- other elements ----

    def _stylesheet(self, a: dict[str, str]) -> None:
        """Read what a linked print or all-media stylesheet says about classes (see brief.output.wordstyle)."""
        from brief.edition.render import resolve_resource

        media = {m.strip() for m in a.get("media", "all").lower().split(",")}
        if "stylesheet" not in a.get("rel", "").lower().split() or not media & {"all", "print"}:
            return
        path = resolve_resource(a.get("href", ""), self.page.out_dir, self.page.assets, self.page.root)
        if path is not None and path.is_file():
            self.looks.read(path.read_text(encoding="utf-8", errors="replace"))

    def _rewrite_start(self, tag: str, a: dict[str, str], start: int) -> None:
        end = self._tag_end(start)
        if tag in PHRASING:
            opener, closer, block = self.looks.wrappers(set(a.get("class", "").split()))
            self.closers.setdefault(tag, []).append(closer)
            if block and tag in INLINE:
                self.edits.append((start, start, "<br>"))
            if opener:
                self.edits.append((end, end, opener))
        if tag in AS_DIV:
            self.edits.append((start, start + 1 + len(tag), "<div"))
        elif tag in MARKS:
            style, inner = MARKS[tag]
            self.edits.append((start, end, f'<span data-custom-style="{style}"><{inner}>'))
        elif tag == "figcaption":
            self.edits.append((start, end, f'<div data-custom-style="{CAPTION_STYLE}">'))
        elif tag == "img":
            self.edits.append((start, end, self._embedded(a)))
        elif tag == "ol":
            self.lists.append((end, "start" in a))
        elif tag == "li" and self.lists and a.get("value", "").isdigit():
            # Pandoc numbers from the list's start and ignores value=: start where the first item says.
            ol_end, numbered = self.lists[-1]
            if not numbered:
                self.edits.append((ol_end - 1, ol_end - 1, f' start="{int(a["value"])}"'))
                self.lists[-1] = (ol_end, True)

    def _embedded(self, a: dict[str, str]) -> str:
        """Return an <img> whose picture is inside it (a data: URI), or its alt text if Word cannot show it."""
        from brief.edition.render import resolve_resource

        alt = a.get("alt", "")
        path = resolve_resource(a.get("src", ""), self.page.out_dir, self.page.assets, self.page.root)
        if path is None or not path.is_file():
            return escape(alt)  # refused earlier by the HTML check; never read from outside the pack
        suffix = path.suffix.lower()
        if suffix == ".svg":
            self.graphics += 1
            data = svg_to_png(path.read_text(encoding="utf-8"), self.fonts, f"{self.page.audience}: {path.name}")
            mime = "image/png"
        else:
            mime = WORD_IMAGES.get(suffix) or mimetypes.guess_type(path.name)[0] or ""
            if mime not in WORD_IMAGES.values():
                return escape(alt)
            data = path.read_bytes()
        size = "".join(f' {k}="{escape(a[k])}"' for k in ("width", "height") if a.get(k))
        return (f'<img src="data:{mime};base64,{base64.b64encode(data).decode()}" alt="{escape(alt)}" '
                f'title="{escape(a.get("title", ""))}"{size}>')


def _size(attrs: dict[str, str]) -> tuple[str, str]:
    """Return an SVG's size in CSS pixels, from its viewBox (pandoc shrinks what is wider than the page)."""
    box = attrs.get("viewbox", "").replace(",", " ").split()
    try:
        width, height = float(box[2]), float(box[3])
    except (IndexError, ValueError):
        return "", ""
    return f"{width:g}", f"{height:g}"

