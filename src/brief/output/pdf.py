"""Print an edition's HTML to a tagged PDF with WeasyPrint, loading only the pack's own files."""
from __future__ import annotations

import logging
import mimetypes
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from brief.output.settings import PDF_VARIANT, isolate_fonts

isolate_fonts()  # before WeasyPrint starts fontconfig: only the shipped fonts exist for it

import pikepdf  # noqa: E402
from weasyprint import HTML, Attachment  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

from brief.edition.render import Page, within  # noqa: E402
from brief.errors import BuildError  # noqa: E402
from brief.output.archival import VARIANT as ARCHIVAL_VARIANT  # noqa: E402
from brief.output.archival import Archival  # noqa: E402
from brief.output.completeness import missing_elements  # noqa: E402
from brief.output.tagging import hold_tags  # noqa: E402

# PDF/UA-1: tagged, with /Lang and the title shown; never pdf/x-*, which embeds a random id.
PDF_OPTIONS = {"pdf_variant": PDF_VARIANT}


@dataclass(frozen=True)
class PdfResult:
    """A printed edition."""

    audience: str
    pdf: bytes
    pages: int
    warnings: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # headings and table rows of the HTML that the laid-out pages lack
    archival: bytes | None = None  # the PDF/A-3 copy, when the job asked for one


class PackFetcher(URLFetcher):
    """Serve shipped assets and files inside the pack; refuse the network and everything else."""

    def __init__(self, out_dir: Path, assets: dict[str, Path], root: Path):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)
        self._out_dir = os.path.normpath(out_dir)
        self._assets = assets
        self._root = root

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc:
            raise ValueError(f"refused {url}: only files inside the pack may be loaded")
        path = os.path.normpath(url2pathname(parts.path))
        asset = None
        if os.path.commonpath([path, self._out_dir]) == self._out_dir:
            asset = self._assets.get(Path(os.path.relpath(path, self._out_dir)).as_posix())
        target = asset or within(Path(path), [self._root])
        if target is None or not target.is_file():
            raise ValueError(f"refused {url}: not a file inside the pack or the templates")
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        # WeasyPrint reads an image again, lazily, from the response's file URL: name the file served,
        # not its copy in build/ (stale until written). A stylesheet keeps its URL: its fonts resolve from it.
        served = url if mime == "text/css" else target.as_uri()
        return URLFetcherResponse(served, target.read_bytes(), {"Content-Type": mime})


@contextmanager
def captured() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's warnings and errors instead of printing them (its errors are only logged)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger, handler = logging.getLogger("weasyprint"), Collect(logging.WARNING)
    propagate, logger.propagate = logger.propagate, False  # reported through BuildError and warnings, not stderr
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def declared_fonts(assets: dict[str, Path]) -> set[str]:
    """Return the font families the stylesheets declare with @font-face from shipped files."""
    families = set()
    for name, path in assets.items():
        if name.endswith(".css"):
            for rule in re.findall(r"@font-face\s*{([^}]*)}", path.read_text(encoding="utf-8")):
                family = re.search(r"font-family\s*:\s*['\"]?([^;'\"]+)", rule)
                if family and "url(" in rule and "local(" not in rule:
                    families.add(family.group(1).strip())
    return families


def render_pdf(job: Page) -> PdfResult:
    """Print one edition (and its archival copy, if asked); raise BuildError on errors, font fallbacks, tag faults."""
    with captured() as records:
        fetcher = PackFetcher(job.out_dir, job.assets, job.root)
        html = HTML(string=job.html, base_url=job.out_dir.as_uri() + "/", url_fetcher=fetcher, media_type="print")
        label_figures(html.etree_element)
        document = html.render()
        pdf = document.write_pdf(finisher=scope_headers, **PDF_OPTIONS)
        archival: Archival | None = getattr(job, "archival", None)
        copy = write_archival(document, archival) if archival is not None else None
    check_log(job.audience, records)
    check_fonts(job.audience, document.fonts.values(), declared_fonts(job.assets))
    warnings = tuple(f"{job.audience}: {r.getMessage()}" for r in records if r.levelno < logging.ERROR)
    missing = missing_elements(html, document)
    return PdfResult(job.audience, tagged(job.audience, pdf), len(document.pages), warnings, missing,
                     tagged(job.audience, copy, ARCHIVAL_VARIANT, unique_associated_files) if copy else None)


def check_log(audience: str, records: list[logging.LogRecord]) -> None:
    """Raise BuildError for any error WeasyPrint logged, and for characters no shipped font has."""
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    if errors:
        raise BuildError("\n".join(f"{audience}: {e}" for e in errors))
    # A character no shipped font has prints as an empty box: as bad as a fallback font.
    glyphs = [m for r in records for m in re.findall(r'"(.+?)" \((U\+[0-9A-F]+)\)', r.getMessage())
              if ".notdef" in r.getMessage()]
    if glyphs:
        chars = ", ".join(dict.fromkeys(f"{c} ({code})" for c, code in glyphs))
        raise BuildError(f"{audience}: the shipped fonts have no glyph for {chars}; these would print as "
                         "empty boxes. Replace them, or add a font that has them to templates/fonts")


def label_figures(root: Any) -> None:
    """Give each image and SVG its accessible name as the text WeasyPrint writes to /Alt (alt, <title>)."""
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        name = element.get("aria-label") or " ".join(
            " ".join("".join(ids[i].itertext()).split()) for i in (element.get("aria-labelledby") or "").split()
            if i in ids)
        if tag == "img" and not element.get("alt") and name:
            element.set("alt", name)
        elif tag == _SVG and name and not any(_has_text(t) for t in element.iter(_SVG_TITLE)):
            title = element.makeelement(_SVG_TITLE, {})
            title.text = name
            element.insert(0, title)


_SVG, _SVG_TITLE = "{http://www.w3.org/2000/svg}svg", "{http://www.w3.org/2000/svg}title"


def _has_text(element: Any) -> bool:
    return bool("".join(element.itertext()).strip())


def scope_headers(document: Any, pdf: Any) -> None:
    """Write each header cell's scope (/Row or /Column, from the HTML) into its structure element's attributes."""
    # A WeasyPrint finisher: runs after tagging, before the file is written. WeasyPrint 70 links each cell box
    # to its structure element (box.mark) and treats every <th> but scope="row" as a column header.
    for page in document.pages:
        for box in page._page_box.descendants():
            mark = getattr(box, "mark", None)
            if getattr(box, "element_tag", None) == "th" and mark is not None and "A" in mark:
                row = box.element.get("scope") in ("row", "rowgroup")
                mark["A"]["Scope"] = "/Row" if row else "/Column"


def write_archival(document: Any, archival: Archival) -> bytes:
    """Write the laid-out document again as PDF/A-3u, tagged, with the pack's content files attached."""
    when = datetime(archival.as_of.year, archival.as_of.month, archival.as_of.day)  # the pack's date, not now
    served = {f"brief-attachment:{n}": f for n, f in enumerate(archival.files)}
    fetcher = _Attachments(served)
    attachments = [Attachment(url=url, url_fetcher=fetcher, name=f.name, created=when, modified=when,
                              relationship="Source", description=f"{f.name}: content this edition was built from")
                   for url, f in served.items()]
    return document.write_pdf(pdf_variant=ARCHIVAL_VARIANT, pdf_tags=True, attachments=attachments,
                              finisher=scope_headers)


class _Attachments(URLFetcher):
    """Serve the archival copy's attachments from memory, each with its own media type."""

    def __init__(self, files):
        super().__init__(allowed_protocols=set(), allow_redirects=False, timeout=1)
        self._files = files

    def fetch(self, url, headers=None):
        attached = self._files[url]
        return URLFetcherResponse(url, attached.data, {"Content-Type": attached.mime})


def unique_associated_files(pdf: pikepdf.Pdf) -> None:
    """List each attachment once in the catalog's /AF (WeasyPrint 70 lists each twice)."""
    listed = pdf.Root.get("/AF")
    if isinstance(listed, pikepdf.Array):
        pdf.Root.AF = pikepdf.Array(list({spec.objgen: spec for spec in listed}.values()))


def tagged(audience: str, pdf: bytes, variant: str = PDF_VARIANT, *fixes: Any) -> bytes:
    """Make the margin boxes artifacts, then refuse a PDF that breaks the tag rules (BuildError)."""
    fixed, problems = hold_tags(pdf, *fixes)
    if problems:
        raise BuildError(f"{audience}: the {variant} PDF breaks the tagging rules readers rely on: "
                         f"{'; '.join(problems)}. Check the templates the edition uses")
    return fixed


def check_fonts(audience: str, fonts, allowed: set[str]) -> None:
    """Refuse a PDF that embeds any font but the shipped ones (a silent fallback)."""
    strays = {}
    for font in fonts:
        if font.family not in allowed:
            chars = "".join(sorted(set("".join(str(v) for v in font.to_unicode.values()))))
            strays[font.family] = chars
    if strays:
        found = "; ".join(f"'{family}' for {chars!r}" if chars else f"'{family}'" for family, chars in strays.items())
        raise BuildError(f"{audience}: text fell back to fonts that are not shipped: {found}. "
                         f"Use characters the shipped fonts ({', '.join(sorted(allowed))}) have, "
                         "or add the font to templates/fonts with an @font-face rule")
