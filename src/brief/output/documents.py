"""Editions built without printing: a Word or HTML file added to a current edition, or an edition asked without PDF.

`brief build --format docx` after a build of the same content adds the .docx beside the
PDF and HTML it keeps; an edition never printed gets only the files asked for. Either way
no PDF is printed, so WeasyPrint is not even imported.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from brief.errors import UsageError
from brief.output.archival import has_archival
from brief.output.formats import FORMATS, Job, plan
from brief.output.manifest import Manifest, edition_unchanged
from brief.output.settings import build_settings

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.output.build import BuildEvent, BuildRequest


def check_formats(formats: tuple[str, ...]) -> None:
    """Refuse a request for no format, or for one brief cannot write."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"unknown format {', '.join(map(repr, unknown))}" if unknown else "no format asked for"
                         f"; choose from {', '.join(FORMATS)}")


def jobs(root: Path, names: list[str], manifest: Manifest, request: BuildRequest) -> dict[str, Job]:
    """Return what each named edition's build writes, given its last record (kept when its inputs are unchanged)."""
    from brief.edition.render import template_files

    templates, settings = template_files(root), build_settings()
    out = {}
    for name in names:
        old = manifest.editions.get(name)
        # An edition asked for with --archival that has no archival copy yet is printed again.
        current = old is not None and not request.force and (has_archival(old) or not request.archival) \
            and edition_unchanged(old, root, templates, settings, root / "build")
        out[name] = plan(request.formats, old, current)
    return out


def make_documents(content: Content, todo: dict[str, Job], manifest: Manifest,
                   build_dir: Path) -> Iterator[BuildEvent]:
    """Render, convert, write and record the editions whose jobs print no PDF."""
    if not todo:
        return
    from brief.edition.render import environment, render_html, template_files
    from brief.edition.tailor import tailor
    from brief.output.build import edition_sources, record

    templates = template_files(content.root)
    # Hash every edition's inputs before anything renders, so an edit made mid-render is seen next run.
    sources = {name: edition_sources(content, name, templates) for name in todo}
    env = environment(content)
    for name, job in todo.items():
        page = render_html(content, tailor(content, content.audiences[name]), env)
        yield record(build_dir, manifest, page, None, sources[name], content, job.write, keep=job.keep)
