"""Build editions, stage by stage: plan, tailor, render HTML, print PDF, check, write, record.

The logic yields typed events and raises BriefErrors; brief.commands.build prints them.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from brief.errors import BriefError, BuildError, Problem, UsageError, WarningsAsErrors
from brief.output.archival import archival_job, has_archival, write_archival
from brief.output.atomic import cleanup_leftovers, write_bytes_atomic, write_text_atomic
from brief.output.documents import check_formats, jobs, make_documents
from brief.output.formats import DEFAULT_FORMATS, has_formats, plan
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
from brief.output.newsroom import newsroom_inputs, start_newsroom, write_newsroom
from brief.output.paths import contained_build_dir
from brief.output.previous import previous_inputs
from brief.output.recipients import Personalised, covers_current, make_covers
from brief.output.recipients import plan as plan_covers
from brief.output.settings import build_settings
from brief.output.shard import Shard

if TYPE_CHECKING:  # imported lazily at run time: `brief --help` and a no-op build stay fast
    from brief.content.load import Content
    from brief.edition.render import Page
    from brief.output.newsroom import FactsJob
    from brief.output.printing import Printed
    from brief.output.recipients import Plan


@dataclass(frozen=True)
class BuildRequest:
    """What the user asked to build, and how."""

    audiences: tuple[str, ...] = ()
    all: bool = False
    allow_overflow: bool = False
    force: bool = False
    wait: float = 0
    workers: int | None = None
    strict: bool = False  # warnings fail the build (exit 4), before anything is written where possible
    formats: tuple[str, ...] = DEFAULT_FORMATS  # of "html", "pdf", "docx" (brief.output.formats)
    shard: Shard | None = None  # build only this slice of the work (brief.output.sharding)
    archival: bool = False  # also a PDF/A-3 copy with the content files attached, for every edition printed


@dataclass(frozen=True)
class Written:
    """An edition's files are on disk (pdf, html, docx: those written this time)."""

    audience: str
    pdf: Path | None
    html: Path | None
    pages: int
    budget: int
    files: tuple[OutputFile, ...] = ()
    docx: Path | None = None
    archival: Path | None = None  # the PDF/A-3 copy (--archival, or archival: true in the profile)


@dataclass(frozen=True)
class Skipped:
    """An edition's inputs are unchanged since it was last built, and its files are intact."""

    audience: str
    pdf: Path | None
    html: Path | None
    pages: int
    files: tuple[OutputFile, ...] = ()
    docx: Path | None = None


@dataclass(frozen=True)
class Warned:
    """Something the reader should know that did not stop the build."""

    message: str
    problem: Problem | None = None  # its place in the pack, when it has one


@dataclass(frozen=True)
class Progress:
    """Work under way: done of total items of one kind, for a progress bar (and a log line now and then)."""

    what: str
    done: int
    total: int


BuildEvent = Written | Skipped | Warned | Progress | Personalised
Sources = tuple[list[Input], dict[str, str | None], str]  # an edition's inputs, their digests, its source hash


def build(pack: Path, request: BuildRequest) -> Iterator[BuildEvent]:
    """Build the chosen editions of the pack, yielding an event as each is written or skipped."""
    if not request.audiences and not request.all:
        raise UsageError("name an edition with --audience NAME (repeatable), or build them all with --all")
    root = Path(pack).resolve()
    if not (root / "content").is_dir():
        load(root)  # raises the "not a pack" error before anything is created
    check_names(root, request)
    check_formats(request.formats)
    build_dir = contained_build_dir(root)
    if request.shard is not None:
        from brief.output.sharding import build_shard

        yield from build_shard(root, build_dir, request)
        return
    with build_lock(build_dir, wait=request.wait, display="build/.brief.lock"):
        yield from clean(root, build_dir)
        manifest, problems = read_manifest(build_dir)
        yield from (Warned(f"{p}; rebuilding what it cannot vouch for") for p in problems)
        current = {} if request.force else current_editions(root, manifest, request)
        if current and len(current) == len(requested_names(root, request)) and not request.strict \
                and covers_current(root, manifest, list(current), build_dir):
            # Every input is byte-identical to the last good build (which validated it):
            # skip without parsing the pack or importing WeasyPrint.
            yield from (skipped(record, build_dir) for record in current.values())
            return
        content = load(root)
        if request.strict and content.warnings:
            raise WarningsAsErrors(content.warnings)
        yield from (Warned(str(w), w) for w in content.warnings)
        names = choose_editions(sorted(content.audiences), request)
        yield from (skipped(current[name], build_dir) for name in names if name in current)
        # Audiences removed from the pack leave the manifest; their old files stay for the reader.
        manifest.editions = {k: v for k, v in manifest.editions.items() if k in content.audiences}
        recorded = manifest.to_json()
        try:
            todo = jobs(root, [n for n in names if n not in current], manifest, request)
            printing = [n for n, j in todo.items() if j.prints]
            # Every cover is rendered before anything is written (a cover template error stops the build);
            # with editions to print, while the printers start, and the covers print in the same warm pool.
            covers = partial(plan_covers, content, names)
            if printing:
                yield from make_editions(content, printing, manifest, build_dir, request, covers)
            else:
                yield from make_covers(content, covers(), manifest, build_dir, request)
            yield from make_documents(content, {n: j for n, j in todo.items() if not j.prints}, manifest, build_dir)
        except BaseException:
            # Record the editions that were written before the failure, but report the failure itself.
            if manifest.to_json() != recorded:  # a failure before anything was written leaves build/ alone
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


def profile_names(root: Path) -> list[str]:
    """Return the audience names the pack's profile files give, sorted (without parsing them)."""
    return sorted(p.stem for p in (root / "content" / "audiences").glob("*.yaml"))


def requested_names(root: Path, request: BuildRequest) -> list[str]:
    """Return the edition names asked for, as the profile files name them (without parsing them)."""
    return profile_names(root) if request.all else list(dict.fromkeys(request.audiences))


def check_names(root: Path, request: BuildRequest) -> None:
    """Refuse audience names that no profile file declares, whatever else was asked (--all included)."""
    known = profile_names(root)
    unknown = [a for a in dict.fromkeys(request.audiences) if a not in known]
    if not unknown or not known:
        return  # no profiles at all: loading the pack says what is wrong
    import difflib

    hints = [f"'{a}' (did you mean '{close[0]}'?)" if (close := difflib.get_close_matches(a, known, 1)) else f"'{a}'"
             for a in unknown]
    raise UsageError(f"unknown audience{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
                     f"known audiences: {', '.join(known)}")


def current_editions(root: Path, manifest: Manifest, request: BuildRequest) -> dict[str, EditionRecord]:
    """Return the manifest records of the asked editions whose inputs, code and outputs are unchanged."""
    from brief.edition.render import template_files

    templates, settings = template_files(root), build_settings()
    records = {name: manifest.editions.get(name) for name in requested_names(root, request)}
    return {name: r for name, r in records.items()
            if r is not None and has_formats(r, request.formats) and (has_archival(r) or not request.archival)
            and edition_unchanged(r, root, templates, settings, root / "build")}


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
                  request: BuildRequest, covers: Callable[[], Plan] | None = None) -> Iterator[BuildEvent]:
    """Tailor, render, print, check, write and record the named editions; then their covers, if planned."""
    if not names:
        return
    from brief.edition.render import environment, render_html, template_files
    from brief.edition.tailor import tailor
    from brief.output.printing import print_each, printers

    # Hash every edition's inputs before anything renders, so an edit made mid-render is seen next run.
    templates = template_files(content.root)  # one look at the template folders for every edition
    sources = {name: edition_sources(content, name, templates) for name in names}
    # Start the printers before tailoring: they import WeasyPrint while this process renders HTML.
    cores = request.workers or os.cpu_count() or 1
    # Personalised covers keep every worker busy after the editions; without them, one per edition is enough.
    wanted = cores if covers is not None and any(content.audiences[n].cover for n in names) else len(names)
    with printers(min(cores, wanted)) as pool:
        cover_plan = covers() if covers is not None else None
        editions = [tailor(content, content.audiences[name]) for name in names]
        env = environment(content)
        pages = [render_html(content, edition, env) for edition in editions]
        pages = [archival_job(p, content, sources[p.audience][0], request.archival) for p in pages]
        facts: dict[str, FactsJob] = {}  # facts sheets, printed beside the editions still printing
        failures: list[str] = []
        strict: list[Problem] = []  # warnings that --strict turns into errors
        yield Progress("editions", 0, len(pages))
        # Each edition is checked, written and reported as soon as its PDF is printed.
        for done, (page, result) in enumerate(print_each(pool, pages), 1):
            if isinstance(result, str):
                failures.append(result)
            else:
                refused = yield from finish(page, result, content, request)
                if isinstance(refused, str):
                    failures.append(refused)
                elif refused:
                    strict += refused
                else:
                    yield record(build_dir, manifest, page, result, sources[page.audience], content, request.formats)
                    facts |= start_newsroom(pool, content, [page.audience])  # it links the edition's CSS
            yield Progress("editions", done, len(pages))
        failures += write_newsroom(facts, content, manifest, build_dir, {n: s[2] for n, s in sources.items()})
        if cover_plan is not None and not (failures or strict):
            # The same warm workers: a fresh pool would import WeasyPrint again (most of a second).
            yield from make_covers(content, cover_plan, manifest, build_dir, request, pool)
    if failures:
        raise BuildError("\n".join(failures))
    if strict:
        raise WarningsAsErrors(strict)


def finish(page: Page, result: Printed, content: Content,
           request: BuildRequest) -> Generator[Warned, None, str | list[Problem] | None]:
    """Report a printed edition's warnings; return why it must not be written, or None when it may be."""
    warned = [Warned(message) for message in result.warnings]
    problem = check_printed(page, result, content.audiences[page.audience].page_budget, request.allow_overflow)
    if isinstance(problem, str):
        return problem
    if isinstance(problem, Warned):
        warned.append(problem)
    yield from warned
    if request.strict and warned:
        return [Problem(f"build/{page.audience}", None, None, "", f"{w.message} (nothing written for it)")
                for w in warned]
    return None


def edition_sources(content: Content, name: str, templates: dict[str, Path]) -> Sources:
    """Return an edition's inputs (templates: the template lookup), their digests and its source hash."""
    # A title read from a source's copy prints in the sources list: that copy is an input too.
    copies = [s.file for s in content.sources.values() if s.file and s.title_line]
    # Every edition prints the vocabulary's labels (and an archival copy carries the file).
    copies.append("content/vocabulary.yaml")
    inputs = edition_inputs(content.root, content.audiences[name], templates=templates, pack_files=copies)
    inputs += previous_inputs(content, content.audiences[name])  # the release a whats_new section follows
    inputs += newsroom_inputs(content, content.audiences[name])  # figures and quotes, for newsroom: true
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


def record(build_dir: Path, manifest: Manifest, page: Page, result: Printed | None, sources: Sources,
           content: Content, formats: tuple[str, ...] = DEFAULT_FORMATS, keep: EditionRecord | None = None) -> Written:
    """Write an edition's files, record them in the manifest, and say so.

    formats: those asked for; every format the edition had is rewritten too, unless `keep`, the
    edition's current record, whose files stay beside the ones written (then only formats are written).
    """
    profile = content.audiences[page.audience]
    old = manifest.editions.get(page.audience)
    wanted = formats if keep is not None else plan(formats, old, unchanged=False).write
    written, assets = write_edition(page, result.pdf if result else None, wanted, content)
    written.update(write_archival(written.get("pdf"), result.archival if result else None))
    inputs, digests, _ = sources
    kept = [f for f in keep.files if build_dir / f.path not in (*written.values(), *assets)] if keep else []
    pages: dict[Path | str, int] = {written[k]: result.pages for k in ("pdf", "archival") if k in written} \
        if result else {}
    entry = make_edition(build_dir, page.audience, inputs, [*written.values(), *assets, *kept], pages=pages,
                         settings=build_settings(), title=profile.title, digests=digests)
    _remove_replaced(build_dir, old, entry)
    manifest.editions[page.audience] = entry
    printed = entry.file("pdf")
    return Written(page.audience, written.get("pdf"), written.get("html"), printed.pages or 0 if printed else 0,
                   profile.page_budget, entry.files, written.get("docx"), written.get("archival"))


def write_edition(page: Page, pdf: bytes | None, formats: tuple[str, ...] = DEFAULT_FORMATS,
                  content: Content | None = None) -> tuple[dict[str, Path], list[Path]]:
    """Write an edition's files in the formats asked, each atomically; return them by format, and the HTML's assets.

    The Word file is converted first, so a failure writes nothing; then the assets, HTML, Word file and PDF.
    """
    docx = None
    if "docx" in formats and content is not None:
        from brief.output.docx import write_docx

        docx = write_docx(page, content)
    written: dict[str, Path] = {}
    assets = []
    for name, source in (page.assets.items() if "html" in formats else ()):
        target = page.out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        if not (target.is_file() and target.read_bytes() == data):
            write_bytes_atomic(target, data)
        assets.append(target)
    page.out_dir.mkdir(parents=True, exist_ok=True)
    if "html" in formats:
        written["html"] = page.out_dir / f"{page.slug}.html"
        write_text_atomic(written["html"], page.html)
    if docx is not None:
        written["docx"] = page.out_dir / f"{page.slug}.docx"
        write_bytes_atomic(written["docx"], docx)
    if pdf is not None and "pdf" in formats:
        written["pdf"] = page.out_dir / f"{page.slug}.pdf"
        write_bytes_atomic(written["pdf"], pdf)
    return written, assets


def _remove_replaced(build_dir: Path, old: EditionRecord | None, new: EditionRecord) -> None:
    """Delete an edition's previous PDF, HTML and Word files when it now has other names (the title changed)."""
    if old is None:
        return
    keep = {f.path for f in new.files}
    for f in old.files:
        if f.path.endswith((".pdf", ".html", ".docx")) and f.path not in keep:
            (build_dir / f.path).unlink(missing_ok=True)


def skipped(entry: EditionRecord, build_dir: Path) -> Skipped:
    """Return the event for an edition left as it was."""
    pdf, html, docx = (entry.file(kind) for kind in ("pdf", "html", "docx"))
    return Skipped(entry.audience, build_dir / pdf.path if pdf else None, build_dir / html.path if html else None,
                   pdf.pages or 0 if pdf else 0, entry.files, build_dir / docx.path if docx else None)
