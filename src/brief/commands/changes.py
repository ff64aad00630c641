"""Run `brief changes`: what changed in the content since a release, item by item."""
from __future__ import annotations

import json
from pathlib import Path

import click

from brief.compare.changes import content_changes
from brief.compare.changes_formats import Span, render_md, render_text, to_json
from brief.content.snapshot import SNAPSHOT, read_snapshot, release_key, releases, snapshot_of, snapshot_path
from brief.edition.checks import load_pack
from brief.errors import UsageError

FORMATS = ("text", "md", "json")


def run_changes(pack: Path, since: str | None, fmt: str = "text") -> None:
    """Load the pack, compare it with a release's snapshot, and print the changes."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    content = load_pack(pack)
    release = choose_release(Path(pack), since)
    old = read_snapshot(snapshot_path(Path(pack), release), f"build/dist/{release}/{SNAPSHOT}", Path(pack))
    changes = content_changes(old, snapshot_of(content))
    as_of, edition = release_key(release) or ("", 0)
    span = Span(release, edition, as_of, content.pack.edition, content.pack.as_of.isoformat())
    if fmt == "json":
        click.echo(json.dumps(to_json(changes, span), indent=2, ensure_ascii=False))
    else:
        click.echo((render_md if fmt == "md" else render_text)(changes, span), nl=False)


def choose_release(root: Path, since: str | None) -> str:
    """Return the release `since` names (a release name, or an edition: 2 or e2); default the newest."""
    known = releases(root)
    if not known:
        raise UsageError("no release in build/dist/ yet, so nothing to compare with; `brief publish` keeps a "
                         "snapshot of the content in each release")
    if since is None:
        return known[0]
    if since in known:
        return since
    wanted = since.strip().lower().removeprefix("edition").strip().removeprefix("e")
    match = next((n for n in known if wanted.isdigit() and (release_key(n) or ("", 0))[1] == int(wanted)), None)
    if match is None:
        listed = ", ".join(f"{n} (edition {(release_key(n) or ('', 0))[1]})" for n in known)
        raise UsageError(f"no release or edition '{since}' in build/dist/; known releases: {listed}")
    return match
