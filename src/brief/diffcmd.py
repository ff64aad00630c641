"""Run `brief diff`: compare two versions of the pack's agreement and print the result."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from brief.compare import Comparison, compare, version_warnings
from brief.diffformat import cited, render_html, render_md, render_text
from brief.errors import UsageError
from brief.load import load_pack
from brief.model import Citation, Source, Version

FORMATS = ("text", "md", "json", "html")
FORMAT_VERSION = 1  # bump when the JSON shape changes incompatibly


def run_diff(pack: Path, from_id: str | None, to_id: str | None, fmt: str = "text", color: bool | None = None) -> None:
    """Load the pack, compare FROM with TO, print warnings to stderr and the result to stdout."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    content = load_pack(pack)
    if content.versions is None:
        raise UsageError(f"{Path(pack) / 'content' / 'versions.yaml'} does not exist; brief diff compares the "
                         "versions of an agreement listed there (see docs/diff.md)")
    comparison = compare(content.versions, from_id, to_id)
    warnings = version_warnings(content.versions, from_id, to_id)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    note = same_version_note(comparison)
    if fmt == "json":
        if note:
            click.echo(note, err=True)
        click.echo(json.dumps(to_json(comparison, content.sources, warnings), indent=2, ensure_ascii=False))
    elif note and fmt in ("text", "md"):
        click.echo(note)
    elif fmt == "text":
        use_color = sys.stdout.isatty() if color is None else color
        click.echo(render_text(comparison, content.sources, use_color, _width(use_color)), color=use_color)
    elif fmt == "md":
        click.echo(render_md(comparison, content.sources), nl=False)
    else:
        click.echo(render_html(comparison, content.sources, content.pack.language, note), nl=False)


def same_version_note(c: Comparison) -> str | None:
    """Return the message for comparing a version with itself, else None."""
    if not c.same_version:
        return None
    return f"No differences: FROM and TO are the same version ({c.to_version.id}, {c.to_version.label})."


def to_json(c: Comparison, sources: dict[str, Source], warnings: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the comparison in the shape src/brief/diff.schema.json documents."""
    return {
        "format_version": FORMAT_VERSION,
        "agreement": c.agreement,
        "from": _version(c.from_version, c.from_not_stated),
        "to": _version(c.to_version, c.to_not_stated),
        "same_version": c.same_version,
        "identical": c.identical,
        "summary": c.summary(),
        "counts": c.counts(),
        "warnings": list(warnings),
        "rows": [
            {
                "area": r.area, "key": r.key, "change": r.change, "from_key": r.from_key, "to_key": r.to_key,
                "from_keys": list(r.from_keys), "from_text": r.from_text, "to_text": r.to_text,
                "from_stated": r.from_stated, "to_stated": r.to_stated, "effect": r.effect, "renamed": r.renamed,
                "redline": [{"op": s.op, "text": s.text} for s in r.redline],
                "from_sources": [_cite(x) for x in r.from_sources], "to_sources": [_cite(x) for x in r.to_sources],
            }
            for r in c.rows
        ],
        "sources": [
            {"id": s.id, "title": s.title, "author": s.author, "publisher": s.publisher,
             "date": s.date.iso() if s.date else None, "url": s.url}
            for s in cited(c, sources)
        ],
    }


def _version(v: Version, gaps: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": v.id, "label": v.label, "kind": v.kind, "status": v.status,
        "dates": {k: (d.iso() if d else None) for k, d in (("signed", v.signed), ("effective", v.effective),
                                                           ("expires", v.expires))},
        "not_stated": list(gaps),  # following `inherits`, as the rows use it
    }


def _cite(c: Citation) -> dict[str, str | None]:
    return {"source": c.source, "locator": c.locator}


def _width(color: bool) -> int:
    # Wrap to the terminal when there is one; a fixed width keeps piped output stable.
    if not color or not sys.stdout.isatty():
        return 88
    import shutil

    return max(40, min(shutil.get_terminal_size((88, 24)).columns, 110))
