"""Write content changes as terminal text, Markdown or JSON (the shape of `brief changes --format json`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brief import JSON_FORMAT_VERSION
from brief.compare.changes import KINDS, ContentChanges
from brief.compare.formats import md_escape

_MARK = {"added": "+", "removed": "-", "changed": "~"}


@dataclass(frozen=True)
class Span:
    """What was compared: a release (or the content now) and the edition and date it carries."""

    since: str  # the release's name, e.g. "2025-03-01-e1"
    since_edition: int
    since_as_of: str
    to_edition: int
    to_as_of: str
    to: str = "the content now"

    def heading(self) -> str:
        return (f"Changes since release {self.since} (edition {self.since_edition}, as of {self.since_as_of}) "
                f"to {self.to} (edition {self.to_edition}, as of {self.to_as_of})")


def _groups(changes: ContentChanges):
    for kind in KINDS:
        items = [i for i in changes.items if i.kind == kind.name]
        if items:
            yield kind, items


def render_text(changes: ContentChanges, span: Span) -> str:
    """Return the changes for a terminal: a heading, the count, then one line per item by kind."""
    lines = [f"{span.heading()}: {changes.summary()}."]
    for kind, items in _groups(changes):
        lines += ["", f"{kind.name.capitalize()}"]
        for i in items:
            what = "; ".join(f.text() for f in i.fields) if i.change == "changed" else i.change
            lines.append(f"  {_MARK[i.change]} {i.id} “{i.title}”: {what}")
    return "\n".join(lines) + "\n"


def render_md(changes: ContentChanges, span: Span) -> str:
    """Return the changes as Markdown: a heading, the count, then a list per kind."""
    out = [f"# {md_escape(span.heading())}", "", f"**Summary:** {md_escape(changes.summary())}."]
    for kind, items in _groups(changes):
        out += ["", f"## {kind.name.capitalize()}", ""]
        for i in items:
            what = "; ".join(f.text() for f in i.fields) if i.change == "changed" else i.change
            out.append(f"- **{i.change.capitalize()}** `{i.id}` {md_escape(f'“{i.title}”: {what}')}")
    return "\n".join(out) + "\n"


def to_json(changes: ContentChanges, span: Span) -> dict[str, Any]:
    """Return the changes as data: what was compared, the counts, and each item with its fields' values."""
    return {
        "format_version": JSON_FORMAT_VERSION,
        "since": {"release": span.since, "edition": span.since_edition, "as_of": span.since_as_of},
        "to": {"what": span.to, "edition": span.to_edition, "as_of": span.to_as_of},
        "summary": changes.summary(),
        "counts": changes.counts(),
        "changes": [
            {"kind": i.noun, "list": i.kind, "change": i.change, "id": i.id, "title": i.title,
             "audiences": list(i.audiences), "sentence": i.sentence(),
             "fields": [{"field": f.field, "from": f.old, "to": f.new} for f in i.fields]}
            for i in changes.items
        ],
    }
