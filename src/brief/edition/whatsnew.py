"""The "what is new in this edition" section: the content changes since the release before this edition."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from brief.compare.changes import ContentChanges, content_changes
from brief.content import model as m
from brief.content.load import Content
from brief.content.snapshot import (
    SNAPSHOT,
    SnapshotError,
    previous_release,
    read_snapshot,
    release_key,
    release_name,
    snapshot_of,
    snapshot_path,
)
from brief.edition.select import Selected
from brief.edition.views import Citer, Entry
from brief.errors import BuildError


@dataclass(frozen=True)
class WhatsNew:
    """What a whats_new section shows besides its list of changes (its entries)."""

    edition: int
    first: bool  # no earlier release to compare with
    since: str | None = None  # the release compared with, e.g. "2025-03-01-e1"
    since_edition: int | None = None
    since_as_of: date | None = None
    summary: str = ""  # "2 changes (1 assessment changed, 1 figure changed)", for this audience
    note: str | None = None  # why the changes cannot be listed (the release kept no snapshot)
    more: int = 0  # changes beyond the section's max
    left_out: int = 0  # changes to content this edition's reader does not get


def select(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select what changed since the previous release, for this audience; say so when there is none."""
    before = previous_release(c.root, release_name(c.pack.as_of, c.pack.edition))
    if before is None:
        return [], WhatsNew(c.pack.edition, first=True)
    as_of, edition = release_key(before) or ("", 0)
    found = WhatsNew(c.pack.edition, False, before, edition, date.fromisoformat(as_of))
    changes = _changes(c, before)
    if changes is None:
        note = (f"Edition {edition} was published without a record of its content, so what has changed since "
                "cannot be listed.")
        return [], WhatsNew(**{**found.__dict__, "note": note})
    mine = changes.for_audience(a.name)
    shown = mine.items[: spec.max] if spec.max else mine.items
    entries = [Entry(item, _refs(c, item.sources, cite) if item.change != "removed" else ()) for item in shown]
    return entries, WhatsNew(**{**found.__dict__, "summary": mine.summary(), "more": len(mine.items) - len(shown),
                                "left_out": len(changes.items) - len(mine.items)})


def _changes(c: Content, before: str) -> ContentChanges | None:
    """Return the changes since release `before`, None when it kept no snapshot; refuse a damaged one."""
    path = snapshot_path(c.root, before)
    shown = f"build/dist/{before}/{SNAPSHOT}"
    if not path.exists():
        return None
    try:
        old = read_snapshot(path, shown, c.root)
    except SnapshotError as e:
        raise BuildError(f"{e.message}; the 'whats_new' section compares the content with it. Restore the release "
                         f"folder from a backup (its SHA256SUMS tells whether it is intact); nothing was "
                         "written") from None
    return content_changes(old, snapshot_of(c))


def _refs(c: Content, citations: tuple[dict, ...], cite: Citer):
    # The item as it is now: its sources exist in this content, so they can be numbered.
    return cite([m.Citation(source=x["source"], locator=x.get("locator")) for x in citations
                 if x.get("source") in c.sources])
