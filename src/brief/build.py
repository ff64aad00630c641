"""Build editions: load, tailor, render HTML, print PDFs in parallel, check budgets, write files."""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import multiprocessing
import os
import re
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator, Union

import click

from brief.atomic import cleanup_leftovers, write_bytes_atomic, write_text_atomic
from brief.errors import BUILT, NOTHING_TO_DO, BriefError, BuildError, UsageError
from brief.lock import build_lock
from brief.manifest import (Input, Manifest, OutputFile, edition_inputs, edition_unchanged, input_digests,
                            make_edition, outputs_intact, read_manifest, source_hash, write_manifest)

if TYPE_CHECKING:  # imported lazily at run time: `brief --help` stays fast
    from brief.load import Content
    from brief.render import Page

PDF_VARIANT = "pdf/ua-1"  # never pdf/x-*: those embed a random id and break byte-identical builds


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


Event = Union[Written, Skipped, Warned]


def build(pack: Path, audiences: tuple[str, ...] = (), all_: bool = False, allow_overflow: bool = False,
          force: bool = False, wait: float = 0, workers: int | None = None) -> Iterator[Event]:
    """Build the chosen editions of the pack, yielding an event as each is written or skipped."""
    if not audiences and not all_:
        raise UsageError("name an edition with --audience NAME (repeatable), or build them all with --all")
    root = Path(pack).resolve()
    if not (root / "content").is_dir():
        _load(root)  # raises the "not a pack" error before anything is created
    build_dir = root / "build"
    with build_lock(build_dir, wait=wait, display="build/.brief.lock"):
        for leftover in cleanup_leftovers(build_dir, recursive=True):
            yield Warned(f"removed {leftover.relative_to(root)}, left by an interrupted run")
        manifest, problems = read_manifest(build_dir)
        for problem in problems:
            yield Warned(f"{problem}; rebuilding what it cannot vouch for")
        unchanged = None if force else unchanged_editions(root, manifest, audiences, all_)
        if unchanged is not None:
            # Every input is byte-identical to the last good build (which validated it):
            # skip without parsing the pack or importing WeasyPrint.
            for record in unchanged:
                yield _skipped(record, build_dir)
            return
        content = _load(root)
        for w in content.warnings:
            yield Warned(str(w))
        names = choose_editions(sorted(content.audiences), audiences, all_)
        # Hash every edition's inputs before anything renders, so an edit made mid-render is seen next run.
        sources = {name: edition_sources(content, name) for name in names}
        todo = []
        for name in names:
            record = manifest.editions.get(name)
            # The hash just taken covers inputs, templates and code: compare it, do not re-read the files.
            if (not force and record and record.source_hash == sources[name][2]
                    and outputs_intact(record, build_dir)):
                yield _skipped(record, build_dir)
            else:
                todo.append(name)
        # Audiences removed from the pack leave the manifest; their old files stay for the reader.
        manifest.editions = {k: v for k, v in manifest.editions.items() if k in content.audiences}
        try:
            yield from _render(content, todo, sources, manifest, build_dir, allow_overflow, workers)
        except BaseException:
            # Record the editions that were written before the failure, but report the failure itself.
            with contextlib.suppress(BriefError):
                write_manifest(build_dir, manifest)
            raise
        write_manifest(build_dir, manifest)  # last, and only for what was written


def _load(root: Path) -> "Content":
    from brief.load import load_pack  # pydantic and the models: only when the pack must be read

    return load_pack(root)


def unchanged_editions(root: Path, manifest: Manifest, audiences: tuple[str, ...], all_: bool) -> list | None:
    """Return the manifest records of the asked editions if none of their inputs changed, else None."""
    from brief.render import template_files

    known = sorted(p.stem for p in (root / "content" / "audiences").glob("*.yaml"))
    names = known if all_ else list(dict.fromkeys(audiences))
    templates = template_files(root)
    records = [manifest.editions.get(name) for name in names if name in known]
    if len(records) != len(names) or None in records:
        return None
    if all(edition_unchanged(r, root, templates, build_settings(), root / "build") for r in records):
        return records
    return None


def edition_sources(content: "Content", name: str) -> tuple[list[Input], dict[str, str | None], str]:
    """Return an edition's inputs, their digests and its source hash."""
    from brief.render import template_files

    inputs = edition_inputs(content.root, content.audiences[name], templates=template_files(content.root))
    digests = input_digests(inputs)
    return inputs, digests, source_hash(digests, settings=build_settings())


@lru_cache(maxsize=1)
def build_settings() -> dict[str, str]:
    """Return what an edition depends on besides its files: brief's own code, WeasyPrint's version, the variant."""
    code = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        code.update(path.name.encode() + b"\0" + path.read_bytes())
    return {"brief_code": code.hexdigest(), "weasyprint": _weasyprint_version(), "pdf_variant": PDF_VARIANT}


def _weasyprint_version() -> str:
    # Read from its __init__ without importing it (the import is what a no-op run avoids).
    spec = importlib.util.find_spec("weasyprint")
    text = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    found = re.search(r"""^VERSION = __version__ = ['"]([^'"]+)""", text, re.M)
    return found.group(1) if found else "unknown"


def _render(content, names, sources, manifest, build_dir, allow_overflow, workers) -> Iterator[Event]:
    """Render the named editions, write each one that passes, and record it in the manifest."""
    if not names:
        return
    from brief.render import environment, render_html
    from brief.tailor import tailor

    # Start the printers before tailoring: they import WeasyPrint while this process renders HTML.
    with printers(min(workers or os.cpu_count() or 1, len(names))) as pool:
        editions = [tailor(content, content.audiences[name]) for name in names]
        env = environment(content.root)
        pages = [render_html(content, edition, env) for edition in editions]
        printed, failures = print_pdfs(pool, pages)

    for page in pages:
        if page.audience not in printed:
            continue
        result = printed[page.audience]
        profile = content.audiences[page.audience]
        for message in result.warnings:
            yield Warned(message)
        if result.pages > profile.page_budget:
            over = f"{page.audience}: {result.pages} pages, budget {profile.page_budget}"
            if not allow_overflow:
                failures.append(f"{over}; shorten the content or raise page_budget (nothing written for it)")
                continue
            yield Warned(f"{over}; written anyway (--allow-overflow)")
        pdf, html, assets = write_edition(page, result.pdf)
        inputs, digests, _ = sources[page.audience]
        record = make_edition(build_dir, page.audience, inputs, [pdf, html, *assets], pages={pdf: result.pages},
                              settings=build_settings(), title=profile.title, digests=digests)
        _remove_replaced(build_dir, manifest.editions.get(page.audience), record)
        manifest.editions[page.audience] = record
        yield Written(page.audience, pdf, html, result.pages, profile.page_budget, record.files)
    if failures:
        raise BuildError("\n".join(failures))


def _remove_replaced(build_dir: Path, old, new) -> None:
    """Delete an edition's previous PDF and HTML when it now has other names (the title changed)."""
    if old is None:
        return
    keep = {f.path for f in new.files}
    for f in old.files:
        if f.path.endswith((".pdf", ".html")) and f.path not in keep:
            (build_dir / f.path).unlink(missing_ok=True)


def _skipped(record, build_dir: Path) -> Skipped:
    pdf = next(f for f in record.files if f.path.endswith(".pdf"))
    html = next(f for f in record.files if f.path.endswith(".html"))
    return Skipped(record.audience, build_dir / pdf.path, build_dir / html.path, pdf.pages or 0, record.files)


def choose_editions(known: list[str], audiences: tuple[str, ...], all_: bool) -> list[str]:
    """Return the audience names to build, in the order asked (all of them, sorted, for --all)."""
    if all_:
        return known
    unknown = [a for a in audiences if a not in known]
    if unknown:
        raise UsageError(f"unknown audience{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"known audiences: {', '.join(known)}")
    return list(dict.fromkeys(audiences))


@contextmanager
def printers(n: int) -> Iterator[ProcessPoolExecutor]:
    """Yield a pool of n PDF workers that import WeasyPrint before the first job arrives."""
    # Fork: workers start in milliseconds and do not re-run the caller's __main__. Fork rules
    # out max_tasks_per_child, but the pool lives for one build: its workers never grow old.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max(n, 1), mp_context=context, initializer=_import_weasyprint)
    try:
        pool.submit(int)  # fork the workers now: they import WeasyPrint while this process renders HTML
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _import_weasyprint() -> None:
    import brief.pdf  # noqa: F401  (the import is the point: it takes most of a second)


@dataclass(frozen=True)
class Printed:
    """An edition printed by a worker."""

    pdf: bytes
    pages: int
    warnings: tuple[str, ...]


def print_one(page: "Page") -> Printed:
    """Print one page in a worker (imported there, so this process never loads WeasyPrint)."""
    from brief.pdf import render_pdf

    result = render_pdf(page)
    return Printed(result.pdf, result.pages, result.warnings)


def print_pdfs(pool: ProcessPoolExecutor, pages: list["Page"]) -> tuple[dict[str, Printed], list[str]]:
    """Print every page in the pool, longest first; return results by audience and error messages."""
    futures: list[tuple[str, Future]] = [
        (page.audience, pool.submit(print_one, page)) for page in sorted(pages, key=lambda p: -len(p.html))
    ]
    results, failures = {}, []
    for audience, future in futures:
        try:
            results[audience] = future.result()
        except BuildError as e:
            failures.append(e.message)
        except Exception as e:  # a crash in a worker is a failed edition, never a traceback
            failures.append(f"{audience}: printing the PDF failed: {type(e).__name__}: {e}")
    return results, failures


def write_edition(page: "Page", pdf: bytes) -> tuple[Path, Path, list[Path]]:
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


def run_build(pack: Path, audiences: tuple[str, ...] = (), all_: bool = False, allow_overflow: bool = False,
              force: bool = False, wait: float = 0, quiet: bool = False, as_json: bool = False) -> int:
    """Run a build for the command line: print each file with its page count; return the exit code."""
    events: list[Event] = []
    try:
        for event in build(pack, audiences, all_, allow_overflow, force=force, wait=wait):
            events.append(event)
            if not (quiet or as_json):
                _echo(event)
    except BriefError as e:
        if as_json:  # machines get their summary on stdout even when the build fails
            click.echo(json.dumps({**build_summary(events, e.exit_code), "error": e.format_message()}, indent=2))
        raise
    built = [e for e in events if isinstance(e, Written)]
    code = BUILT if built else NOTHING_TO_DO
    if as_json:
        click.echo(json.dumps(build_summary(events, code), indent=2))
    elif not quiet and not built:
        click.echo("nothing to do: every edition is up to date (--force rebuilds)")
    return code


def _echo(event: Event) -> None:
    """Print one build event for a person."""
    if isinstance(event, Warned):
        click.echo(f"warning: {event.message}", err=True)
        return
    pages = f"{event.pages} page{'s' if event.pages != 1 else ''}"
    if isinstance(event, Skipped):
        click.echo(f"{_shown(event.pdf)}  unchanged, skipped ({pages})")
    else:
        click.echo(f"{_shown(event.pdf)}  {pages} (budget {event.budget})")
        click.echo(f"{_shown(event.html)}")


def build_summary(events: list[Event], code: int) -> dict:
    """Return the --json summary: each edition with its files, pages, sha256 and whether it was built."""
    editions = []
    for e in events:
        if isinstance(e, (Written, Skipped)):
            editions.append({
                "audience": e.audience,
                "status": "built" if isinstance(e, Written) else "skipped",
                "pages": e.pages,
                "files": [{"path": f"build/{f.path}", "sha256": f.sha256, "bytes": f.bytes, "pages": f.pages}
                          for f in e.files if f.path.endswith((".pdf", ".html"))],
            })
    return {"exit_code": code, "editions": editions,
            "warnings": [e.message for e in events if isinstance(e, Warned)]}


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
