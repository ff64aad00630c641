"""Build editions, stage by stage: plan, tailor, render HTML, print PDF, check, write, record.

The logic yields typed events and raises BriefErrors; brief.commands.build prints them.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from brief.errors import BriefError, BuildError, UsageError
from brief.output.atomic import cleanup_leftovers, write_bytes_atomic, write_text_atomic
from brief.output.inputs import Input, edition_inputs, input_digests, source_hash
from brief.output.lock import build_lock
from brief.output.manifest import (
    EditionRecord,
    Manifest,
    OutputFile,
    edition_unchanged,
    make_edition,
    read_manifest,
    write_manifest,
)
from brief.output.paths import contained_build_dir
from brief.output.settings import build_settings

if TYPE_CHECKING:  # imported lazily at run time: `brief --help` and a no-op build stay fast
    from brief.content.load import Content
    from brief.edition.render import Page
    from brief.output.printing import Printed


@dataclass(frozen=True)
class BuildRequest:
    """What the user asked to build, and how."""

    audiences: tuple[str, ...] = ()
    all: bool = False
    allow_overflow: bool = False
    force: bool = False
    wait: float = 0
    workers: int | None = None


@dataclass(frozen=True)
class Written:
    """An edition's files are on disk."""

    audience: str
    pdf: Path
    html: Path
    pages: int
    budget: int
    files: tuple[OutputFile, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """An edition's inputs are unchanged since it was last built, and its files are intact."""

    audience: str
    pdf: Path
    html: Path
    pages: int
    files: tuple[OutputFile, ...] = ()


@dataclass(frozen=True)
class Warned:
    """Something the reader should know that did not stop the build."""

    message: str


BuildEvent = Written | Skipped | Warned
Sources = tuple[list[Input], dict[str, str | None], str]  # an edition's inputs, their digests, its source hash


def build(pack: Path, request: BuildRequest) -> Iterator[BuildEvent]:
    """Build the chosen editions of the pack, yielding an event as each is written or skipped."""
    if not request.audiences and not request.all:
        raise UsageError("name an edition with --audience NAME (repeatable), or build them all with --all")
    root = Path(pack).resolve()
    if not (root / "content").is_dir():
        load(root)  # raises the "not a pack" error before anything is created
    build_dir = contained_build_dir(root)
    with build_lock(build_dir, wait=request.wait, display="build/.brief.lock"):
        yield from clean(root, build_dir)
        manifest, problems = read_manifest(build_dir)
        yield from (Warned(f"{p}; rebuilding what it cannot vouch for") for p in problems)
        current = {} if request.force else current_editions(root, manifest, request)
        if current and len(current) == len(requested_names(root, request)):
            # Every input is byte-identical to the last good build (which validated it):
            # skip without parsing the pack or importing WeasyPrint.
            yield from (skipped(record, build_dir) for record in current.values())
            return
        content = load(root)
        yield from (Warned(str(w)) for w in content.warnings)
        names = choose_editions(sorted(content.audiences), request)
        yield from (skipped(current[name], build_dir) for name in names if name in current)
        # Audiences removed from the pack leave the manifest; their old files stay for the reader.
        manifest.editions = {k: v for k, v in manifest.editions.items() if k in content.audiences}
        try:
            yield from make_editions(content, [n for n in names if n not in current], manifest, build_dir, request)
        except BaseException:
            # Record the editions that were written before the failure, but report the failure itself.
            with contextlib.suppress(BriefError):
                write_manifest(build_dir, manifest)
            raise
        write_manifest(build_dir, manifest)  # last, and only for what was written


def clean(root: Path, build_dir: Path) -> Iterator[Warned]:
    """Remove the temporary files an interrupted run left."""
    for leftover in cleanup_leftovers(build_dir, recursive=True):
        yield Warned(f"removed {leftover.relative_to(root)}, left by an interrupted run")


def load(root: Path) -> Content:
    """Load and validate the pack (pydantic and the models are imported only now)."""
    from brief.edition.checks import load_pack

    return load_pack(root)


def requested_names(root: Path, request: BuildRequest) -> list[str]:
    """Return the edition names asked for, as the profile files name them (without parsing them)."""
    known = sorted(p.stem for p in (root / "content" / "audiences").glob("*.yaml"))
    return known if request.all else list(dict.fromkeys(request.audiences))


def current_editions(root: Path, manifest: Manifest, request: BuildRequest) -> dict[str, EditionRecord]:
    """Return the manifest records of the asked editions whose inputs, code and outputs are unchanged."""
    from brief.edition.render import template_files

    templates, settings = template_files(root), build_settings()
    records = {name: manifest.editions.get(name) for name in requested_names(root, request)}
    return {name: r for name, r in records.items()
            if r is not None and edition_unchanged(r, root, templates, settings, root / "build")}


def choose_editions(known: list[str], request: BuildRequest) -> list[str]:
    """Return the audience names to build, in the order asked (all of them, sorted, for --all)."""
    if request.all:
        return known
    unknown = [a for a in request.audiences if a not in known]
    if unknown:
        raise UsageError(f"unknown audience{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"known audiences: {', '.join(known)}")
    return list(dict.fromkeys(request.audiences))


def make_editions(content: Content, names: list[str], manifest: Manifest, build_dir: Path,
                  request: BuildRequest) -> Iterator[BuildEvent]:
    """Tailor, render, print, check, write and record the named editions."""
    if not names:
        return
    from brief.edition.render import environment, render_html, template_files
    from brief.edition.tailor import tailor
    from brief.output.printing import print_pdfs, printers

    # Hash every edition's inputs before anything renders, so an edit made mid-render is seen next run.
    templates = template_files(content.root)  # one look at the template folders for every edition
    sources = {name: edition_sources(content, name, templates) for name in names}
    # Start the printers before tailoring: they import WeasyPrint while this process renders HTML.
    with printers(min(request.workers or os.cpu_count() or 1, len(names))) as pool:
        editions = [tailor(content, content.audiences[name]) for name in names]
        env = environment(content)
        pages = [render_html(content, edition, env) for edition in editions]
        printed, failures = print_pdfs(pool, pages)
    for page in (p for p in pages if p.audience in printed):
        result = printed[page.audience]
        yield from (Warned(message) for message in result.warnings)
        problem = check_printed(page, result, content.audiences[page.audience].page_budget, request.allow_overflow)
        if isinstance(problem, Warned):
            yield problem
        elif problem is not None:
            failures.append(problem)
            continue
        yield record(build_dir, manifest, page, result, sources[page.audience], content)
    if failures:
        raise BuildError("\n".join(failures))


def edition_sources(content: Content, name: str, templates: dict[str, Path]) -> Sources:
    """Return an edition's inputs (templates: the template lookup), their digests and its source hash."""
    # A title read from a source's copy prints in the sources list: that copy is an input too.
    copies = [s.file for s in content.sources.values() if s.file and s.title_line]
    inputs = edition_inputs(content.root, content.audiences[name], templates=templates, pack_files=copies)
    digests = input_digests(inputs)
    return inputs, digests, source_hash(digests, settings=build_settings())


def check_printed(page: Page, result: Printed, budget: int, allow_overflow: bool) -> Warned | str | None:
    """Return why a printed edition must not be written (a message), a warning, or None when it is fine."""
    if result.missing:
        return (f"{page.audience}: the PDF lacks what the HTML has: {'; '.join(result.missing)}; "
                "nothing written for it (a layout that drops content: check the stylesheet)")
    if result.pages <= budget:
        return None
    over = f"{page.audience}: {result.pages} pages, budget {budget}"
    if allow_overflow:
        return Warned(f"{over}; written anyway (--allow-overflow)")
    return f"{over}; shorten the content or raise page_budget (nothing written for it)"


def record(build_dir: Path, manifest: Manifest, page: Page, result: Printed, sources: Sources,
           content: Content) -> Written:
    """Write an edition's files, record them in the manifest, and say so."""
    profile = content.audiences[page.audience]
    pdf, html, assets = write_edition(page, result.pdf)
    inputs, digests, _ = sources
    entry = make_edition(build_dir, page.audience, inputs, [pdf, html, *assets], pages={pdf: result.pages},
                         settings=build_settings(), title=profile.title, digests=digests)
    _remove_replaced(build_dir, manifest.editions.get(page.audience), entry)
    manifest.editions[page.audience] = entry
    return Written(page.audience, pdf, html, result.pages, profile.page_budget, entry.files)


def write_edition(page: Page, pdf: bytes) -> tuple[Path, Path, list[Path]]:
    """Write an edition's assets, HTML, then PDF, each atomically; return the PDF, HTML and asset paths."""
    written = []
    for name, source in page.assets.items():
        target = page.out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        if not (target.is_file() and target.read_bytes() == data):
            write_bytes_atomic(target, data)
        written.append(target)
    html = page.out_dir / f"{page.slug}.html"
    write_text_atomic(html, page.html)
    pdf_path = page.out_dir / f"{page.slug}.pdf"
    write_bytes_atomic(pdf_path, pdf)
    return pdf_path, html, written


def _remove_replaced(build_dir: Path, old: EditionRecord | None, new: EditionRecord) -> None:
    """Delete an edition's previous PDF and HTML when it now has other names (the title changed)."""
    if old is None:
        return
    keep = {f.path for f in new.files}
    for f in old.files:
        if f.path.endswith((".pdf", ".html")) and f.path not in keep:
            (build_dir / f.path).unlink(missing_ok=True)


def skipped(entry: EditionRecord, build_dir: Path) -> Skipped:
    """Return the event for an edition left as it was."""
    pdf = next(f for f in entry.files if f.path.endswith(".pdf"))
    html = next(f for f in entry.files if f.path.endswith(".html"))
    return Skipped(entry.audience, build_dir / pdf.path, build_dir / html.path, pdf.pages or 0, entry.files)
