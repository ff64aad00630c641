"""Keep the content a release was built from inside it, and say what is new since the release before."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.compare.changes import content_changes
from brief.content.snapshot import (
    SNAPSHOT,
    SnapshotError,
    previous_release,
    read_snapshot,
    release_key,
    snapshot_of,
    snapshot_path,
    snapshot_text,
)
from brief.publish.release import Asset, Release

if TYPE_CHECKING:
    from brief.content.load import Content

MAX_LISTED = 12  # changes listed one by one on the index page and in the feed; the rest are counted


def with_snapshot(content: Content, root: Path, release: Release) -> tuple[Release, list[str]]:
    """Return the release with the content snapshot among its files and its changes since the previous release.

    Also return warnings (a previous release whose snapshot is missing or damaged).
    """
    data = snapshot_text(content).encode()
    snapshot = Asset(SNAPSHOT, hashlib.sha256(data).hexdigest(), len(data), data=data)
    changes, warnings = release_changes(content, root, release.name)
    assets = tuple(sorted([*release.assets, snapshot], key=lambda a: a.file))
    return replace(release, assets=assets, changes=changes), warnings


def release_changes(content: Content, root: Path, name: str) -> tuple[dict[str, Any], list[str]]:
    """Describe what is new in release `name` since the one before it, for its manifest, index entry and feed."""
    before = previous_release(root, name)
    if before is None:
        return {"since": None, "first": True, "summary": "the first release", "items": [], "more": 0}, []
    as_of, edition = release_key(before) or ("", 0)
    shown = f"build/dist/{before}/{SNAPSHOT}"
    base = {"since": before, "since_edition": edition, "since_as_of": as_of, "first": False}
    try:
        old = read_snapshot(snapshot_path(root, before), shown, root)
    except SnapshotError as e:
        note = f"what changed since edition {edition} is not known: {e.message}"
        return {**base, "summary": None, "note": note, "items": [], "more": 0}, [note]
    changes = content_changes(old, snapshot_of(content))
    items = [i.sentence() for i in changes.items]
    return {**base, "summary": changes.summary(), "items": items[:MAX_LISTED],
            "more": max(0, len(items) - MAX_LISTED)}, []


def whats_new_head(changes: dict[str, Any] | None) -> str:
    """Say in one sentence what is new in a release (its manifest's `changes`), for the index and the feed."""
    if not changes:
        return ""
    if changes.get("first"):
        return "What is new: this is the first release."
    since = f"since edition {changes.get('since_edition')} (as of {changes.get('since_as_of')})"
    if changes.get("note"):
        return f"What is new {since}: not known; {changes['note']}."
    if not changes.get("items"):
        return f"What is new {since}: no changes to the content."
    return f"What is new {since}: {changes.get('summary')}."


def whats_new_text(changes: dict[str, Any] | None) -> str:
    """Say what is new in a release in one paragraph: the sentence above, then each change."""
    items = [str(i) for i in (changes or {}).get("items") or []]
    more = int((changes or {}).get("more") or 0)
    tail = [f"And {more} more (brief changes --since {changes.get('since')} lists them)."] if changes and more else []
    return " ".join([whats_new_head(changes), *items, *tail]).strip()
