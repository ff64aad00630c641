"""Print an edition's HTML to a tagged PDF with WeasyPrint, loading only the pack's own files."""
from __future__ import annotations

import logging
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from brief.output.settings import PDF_VARIANT, isolate_fonts

isolate_fonts()  # before WeasyPrint starts fontconfig: only the shipped fonts exist for it

from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

from brief.edition.render import Page, within  # noqa: E402
from brief.errors import BuildError  # noqa: E402
from brief.output.completeness import missing_elements  # noqa: E402

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


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


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
    """Print one edition; raise BuildError on any WeasyPrint error or font fallback."""
    logger = logging.getLogger("weasyprint")
    capture = _Records()
    propagate = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False  # reported through BuildError and warnings, not stderr
    try:
        fetcher = PackFetcher(job.out_dir, job.assets, job.root)
        html = HTML(string=job.html, base_url=job.out_dir.as_uri() + "/", url_fetcher=fetcher, media_type="print")
        document = html.render()
        pdf = document.write_pdf(**PDF_OPTIONS)
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate
    errors = [r.getMessage() for r in capture.records if r.levelno >= logging.ERROR]
    if errors:
        raise BuildError("\n".join(f"{job.audience}: {e}" for e in errors))
    # A character no shipped font has prints as an empty box: as bad as a fallback font.
    glyphs = [m for r in capture.records for m in re.findall(r'"(.+?)" \((U\+[0-9A-F]+)\)', r.getMessage())
              if ".notdef" in r.getMessage()]
    if glyphs:
        chars = ", ".join(dict.fromkeys(f"{c} ({code})" for c, code in glyphs))
        raise BuildError(f"{job.audience}: the shipped fonts have no glyph for {chars}; these would print as "
                         "empty boxes. Replace them, or add a font that has them to templates/fonts")
    check_fonts(job.audience, document.fonts.values(), declared_fonts(job.assets))
    warnings = tuple(f"{job.audience}: {r.getMessage()}" for r in capture.records if r.levelno < logging.ERROR)
    missing = missing_elements(html, document)
    return PdfResult(job.audience, pdf, len(document.pages), warnings, missing)


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
