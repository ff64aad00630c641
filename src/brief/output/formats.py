"""Which files an edition is built as (HTML, PDF, Word), and which of them a build must write.

An edition's record in the manifest lists every file it has, all made from one source
hash. A build asks for some formats; an edition is up to date only when it has all of
them. Once an edition has a format it keeps it: a rebuild rewrites every format the
edition had, so no file in build/ is ever older than its neighbours.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from brief.output.manifest import EditionRecord

FORMATS = ("html", "pdf", "docx")  # the order files are written and listed in
DEFAULT_FORMATS = ("html", "pdf")


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """Return the formats named by repeated or comma-separated values, in canonical order; ValueError if unknown."""
    named = {v.strip().lower() for value in values for v in value.split(",") if v.strip()}
    unknown = sorted(named - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(FORMATS)} (repeat --format or separate them with commas)")
    return tuple(f for f in FORMATS if f in named) or DEFAULT_FORMATS


def kinds(record: EditionRecord | None) -> set[str]:
    """Return the formats an edition's record has files of."""
    return {f.kind for f in record.files if f.kind in FORMATS} if record else set()


def has_formats(record: EditionRecord, formats: Iterable[str]) -> bool:
    """True when the record has a file of every format asked for."""
    return set(formats) <= kinds(record)


@dataclass(frozen=True)
class Job:
    """What one edition's build writes, and the record whose files stay valid beside them."""

    write: tuple[str, ...]
    keep: EditionRecord | None = None  # inputs unchanged: its files are kept, only `write` is added

    @property
    def prints(self) -> bool:
        return "pdf" in self.write


def plan(formats: Iterable[str], old: EditionRecord | None, unchanged: bool) -> Job:
    """Return what to write for an edition asked in formats, given its last record and whether that is current."""
    wanted = set(formats) | kinds(old)
    if old is not None and unchanged:  # only formats it lacks: its other files are current
        return Job(tuple(f for f in FORMATS if f in wanted - kinds(old)), keep=old)
    return Job(tuple(f for f in FORMATS if f in wanted))
