"""The previous release as an input of editions that say what is new since it.

An edition with a ``whats_new`` section is made from the snapshot of the release
before it, so that snapshot is one of its inputs, under the name
``previous-release:<this release>``. The file compared with is recorded as the
input's path (``build/dist`` itself when there was none); when a release appears
or goes that changes which one comes before, the edition is out of date, and its
snapshot's bytes are hashed like any other input.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.content.snapshot import SNAPSHOT, previous_release, release_name, snapshot_path
from brief.output.inputs import Input

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.output.manifest import EditionRecord

PREFIX = "previous-release:"
KINDS = ("whats_new",)  # section kinds made from the previous release


def previous_inputs(content: Content, profile: Any) -> list[Input]:
    """Return the previous-release input of an edition whose sections need it (else none)."""
    if not any(s.kind in KINDS for s in profile.sections):
        return []
    current = release_name(content.pack.as_of, content.pack.edition)
    before = previous_release(content.root, current)
    path = snapshot_path(content.root, before) if before else Path(content.root) / "build" / "dist"
    return [Input(f"{PREFIX}{current}", path)]


def previous_changes(record: EditionRecord, root: Path | str) -> Iterator[str]:
    """Say when the release an edition was compared with is no longer the one before it (one appeared or went)."""
    for name, path in record.input_paths.items():
        if not name.startswith(PREFIX):
            continue
        then = Path(path).parent.name if Path(path).name == SNAPSHOT else None
        now = previous_release(Path(root), name.removeprefix(PREFIX))
        if now != then:
            yield (f"build/dist/{now}/ (a newer release to say what is new since)" if now
                   else f"build/dist/{then}/ (gone: the release this edition said what is new since)")
