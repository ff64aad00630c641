"""Print a recipient's cover to a one-page tagged PDF (imported in print workers only: it loads WeasyPrint).

Each worker parses the cover stylesheet and loads the fonts once and reuses them for every cover:
that halves the time per cover and keeps the worker from growing with each one.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from brief.errors import BuildError
from brief.output.pdf import PDF_OPTIONS, PackFetcher, check_fonts, declared_fonts  # first: it isolates the fonts
from brief.output.recipient_records import CoverStyle

# isort: split
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

_loaded: dict[tuple[str, Path, bytes], tuple[CSS, FontConfiguration]] = {}


def _style(style: CoverStyle) -> tuple[CSS, FontConfiguration]:
    """Return the parsed stylesheet and its fonts, loaded once per worker (per stylesheet content)."""
    data = style.assets[style.stylesheet].read_bytes()
    key = (style.stylesheet, style.out_dir, data)
    if key not in _loaded:
        _loaded.clear()  # one edition's covers at a time: keep one
        fonts = FontConfiguration()
        fetcher = PackFetcher(style.out_dir, style.assets, style.root)
        with _captured() as records:
            sheet = CSS(string=data.decode("utf-8"), base_url=(style.out_dir / style.stylesheet).as_uri(),
                        url_fetcher=fetcher, font_config=fonts)
        _raise_errors(style.stylesheet, records)
        _loaded[key] = (sheet, fonts)
    return _loaded[key]


def print_cover(html: str, style: CoverStyle, label: str) -> bytes:
    """Print one cover; raise BuildError on a WeasyPrint error, a stray font, or more than one page."""
    sheet, fonts = _style(style)
    fetcher = PackFetcher(style.out_dir, style.assets, style.root)
    with _captured() as records:
        document = HTML(string=html, base_url=style.out_dir.as_uri() + "/", url_fetcher=fetcher,
                        media_type="print").render(stylesheets=[sheet], font_config=fonts)
        pdf = document.write_pdf(**PDF_OPTIONS)
    _raise_errors(label, records)
    check_fonts(label, document.fonts.values(), declared_fonts({style.stylesheet: style.assets[style.stylesheet]}))
    if len(document.pages) != 1:
        raise BuildError(f"{label}: the cover runs to {len(document.pages)} pages; a cover is one page: shorten "
                         "the recipient's fields or note, or the cover template")
    return pdf


def _raise_errors(label: str, records: list[logging.LogRecord]) -> None:
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR or ".notdef" in r.getMessage()]
    if errors:
        raise BuildError("\n".join(f"{label}: {e}" for e in errors))


@contextmanager
def _captured() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's log records instead of printing them (its errors are only logged)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger, handler = logging.getLogger("weasyprint"), Collect(logging.WARNING)
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
