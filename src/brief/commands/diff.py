"""Run `brief diff`: compare two versions of the pack's agreement and print the result."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from brief.compare.engine import Comparison, UnknownVersion, compare, version_warnings
from brief.compare.formats import diff_html, render_md, render_text, to_json
from brief.edition.checks import load_pack
from brief.errors import UsageError

FORMATS = ("text", "md", "json", "html")


def run_diff(pack: Path, from_id: str | None, to_id: str | None, fmt: str = "text", color: bool | None = None) -> None:
    """Load the pack, compare FROM with TO, print warnings to stderr and the result to stdout."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    content = load_pack(pack)
    if content.versions is None:
        raise UsageError(f"{Path(pack) / 'content' / 'versions.yaml'} does not exist; brief diff compares the "
                         "versions of an agreement listed there (see docs/diff.md)")
    try:
        comparison = compare(content.versions, from_id, to_id, content.vocabulary.keys("areas"),
                             content.vocabulary.effect_words())
    except UnknownVersion as e:
        raise UsageError(str(e)) from None
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
        use_color = wants_color() if color is None else color
        click.echo(render_text(comparison, content.sources, use_color, _width(use_color)), color=use_color)
    elif fmt == "md":
        click.echo(render_md(comparison, content.sources), nl=False)
    else:
        click.echo(diff_html(comparison, content.sources, content.pack.language, note), nl=False)


def same_version_note(c: Comparison) -> str | None:
    """Return the message for comparing a version with itself, else None."""
    if not c.same_version:
        return None
    return f"No differences: FROM and TO are the same version ({c.to_version.id}, {c.to_version.label})."


def wants_color() -> bool:
    """Colour by default on a terminal, unless NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _width(color: bool) -> int:
    # Wrap to the terminal when there is one; a fixed width keeps piped output stable.
    if not color or not sys.stdout.isatty():
        return 88
    import shutil

    return max(40, min(shutil.get_terminal_size((88, 24)).columns, 110))
