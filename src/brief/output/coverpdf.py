"""Print a recipient's cover to a one-page tagged PDF (imported in print workers only: it loads WeasyPrint).

Each worker parses the cover stylesheet and loads the fonts once and reuses them for every cover:
that halves the time per cover and keeps the worker from growing with each one.
"""
from __future__ import annotations

import logging
from pathlib import Path

from brief.errors import BuildError
from brief.output.pdf import (  # first: it isolates the fonts
    PDF_OPTIONS,
    PackFetcher,
    captured,
    check_fonts,
    declared_fonts,
)
from brief.output.recipient_records import CoverStyle

# isort: split
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

_loaded: dict[tuple[str, Path, bytes], tuple[CSS, FontConfiguration, set[str]]] = {}


def _style(style: CoverStyle) -> tuple[CSS, FontConfiguration, set[str]]:
    """Return the parsed stylesheet, its fonts and the families it declares, loaded once per worker (per content)."""
    data = style.assets[style.stylesheet].read_bytes()
    key = (style.stylesheet, style.out_dir, data)
    if key not in _loaded:
        _loaded.clear()  # one edition's covers at a time: keep one
        fonts = FontConfiguration()
        fetcher = PackFetcher(style.out_dir, style.assets, style.root)
        with captured() as records:
            sheet = CSS(string=data.decode("utf-8"), base_url=(style.out_dir / style.stylesheet).as_uri(),
                        url_fetcher=fetcher, font_config=fonts)
        _raise_errors(style.stylesheet, records)
        _loaded[key] = (sheet, fonts, declared_fonts({style.stylesheet: style.assets[style.stylesheet]}))
    return _loaded[key]


def print_cover(html: str, style: CoverStyle, label: str) -> bytes:
    """Print one cover; raise BuildError on a WeasyPrint error, a stray font, or more than one page."""
    sheet, fonts, declared = _style(style)
    fetcher = PackFetcher(style.out_dir, style.assets, style.root)
    with captured() as records:
        document = HTML(string=html, base_url=style.out_dir.as_uri() + "/", url_fetcher=fetcher,
                        media_type="print").render(stylesheets=[sheet], font_config=fonts)
        pdf = document.write_pdf(**PDF_OPTIONS)
    _raise_errors(label, records)
    check_fonts(label, document.fonts.values(), declared)
    if len(document.pages) != 1:
        raise BuildError(f"{label}: the cover runs to {len(document.pages)} pages; a cover is one page: shorten "
                         "the recipient's fields or note, or the cover template")
    return pdf


def _raise_errors(label: str, records: list[logging.LogRecord]) -> None:
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR or ".notdef" in r.getMessage()]
    if errors:
        raise BuildError("\n".join(f"{label}: {e}" for e in errors))
