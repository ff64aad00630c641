"""The archival edition: a PDF/A-3 copy of an edition carrying the content files it was made from.

An office that archives a brief keeps the evidence with it: the pack's YAML travels inside the PDF
as associated files (relationship /Source), dated by the pack's as-of date, never the clock, so
rebuilding gives the same bytes. Mailing lists stay out: they are personal data, not the brief.
This module only decides what goes in and where it is written; brief.output.pdf prints it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from brief.edition.render import Page
from brief.output.atomic import write_bytes_atomic

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.output.inputs import Input
    from brief.output.manifest import EditionRecord

# PDF/A-3, level U: every character maps to Unicode (WeasyPrint writes ToUnicode maps), and unlike
# PDF/A-1 and -2 it may carry files of any type. WeasyPrint writes the output intent and the XMP.
VARIANT = "pdf/a-3u"
# '_' never appears in an edition's slug, and sorts after '.': "x.pdf" stays an edition's first PDF.
SUFFIX = "_archival.pdf"
# Who receives an edition is not part of it.
PRIVATE = frozenset({"content/distribution.yaml", "content/recipients.csv", "content/recipients.yaml"})
MIME_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml", ".json": "application/json",
              ".csv": "text/csv", ".md": "text/markdown", ".txt": "text/plain"}


@dataclass(frozen=True)
class Attached:
    """A file to embed: its name in the pack, its bytes and its media type."""

    name: str
    data: bytes
    mime: str


@dataclass(frozen=True)
class Archival:
    """What an archival copy carries, and the date its attachments bear."""

    files: tuple[Attached, ...]
    as_of: date


@dataclass(frozen=True)
class PrintJob(Page):
    """An edition to print, with the archival copy to print beside it (None: the PDF/UA edition only)."""

    archival: Archival | None = None


def wants_archival(content: Content, audience: str, asked: bool) -> bool:
    """True when `--archival` was given or the audience's profile says `archival: true`."""
    return asked or content.audiences[audience].archival


def archival_job(page: Page, content: Content, inputs: list[Input], asked: bool) -> Page:
    """Return the page to print, carrying its archival copy's attachments when one is wanted."""
    if not wants_archival(content, page.audience, asked):
        return page
    files = tuple(Attached(i.name, i.path.read_bytes(), mime_type(i.name)) for i in attachable(inputs))
    return PrintJob(page.audience, page.slug, page.html, page.out_dir, page.assets, page.root,
                    Archival(files, content.pack.as_of))


def attachable(inputs: list[Input]) -> list[Input]:
    """Return the edition's content files that exist, once each, in name order, without the pack's mailing lists."""
    named = {i.name: i for i in inputs if i.name.startswith("content/") and i.name not in PRIVATE}
    return [named[name] for name in sorted(named) if named[name].path.is_file()]


def mime_type(name: str) -> str:
    """Return a file's media type from its suffix (a fixed table: the system's varies between machines)."""
    return MIME_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def archival_path(pdf: Path) -> Path:
    """Return where an edition's archival copy goes, beside its PDF."""
    return pdf.with_name(pdf.stem + SUFFIX)


def write_archival(pdf: Path | None, data: bytes | None) -> dict[str, Path]:
    """Write the archival copy beside the edition's PDF, atomically; return {"archival": its path}, or {}."""
    if pdf is None or data is None:
        return {}
    path = archival_path(pdf)
    write_bytes_atomic(path, data)
    return {"archival": path}


def has_archival(record: EditionRecord) -> bool:
    """True when the manifest records an archival copy for the edition."""
    return any(f.path.endswith(SUFFIX) for f in record.files)
