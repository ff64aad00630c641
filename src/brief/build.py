"""Build editions: load, tailor, render HTML, print PDFs in parallel, check budgets, write files."""
from __future__ import annotations

import multiprocessing
import os
import shutil
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Union

import click

from brief.errors import BuildError, UsageError

if TYPE_CHECKING:  # imported lazily at run time: `brief --help` stays fast
    from brief.render import Page


@dataclass(frozen=True)
class Written:
    """An edition's files are on disk."""

    audience: str
    pdf: Path
    html: Path
    pages: int
    budget: int


@dataclass(frozen=True)
class Warned:
    """Something the reader should know that did not stop the build."""

    message: str


Event = Union[Written, Warned]


def build(pack: Path, audiences: tuple[str, ...] = (), all_: bool = False, allow_overflow: bool = False,
          workers: int | None = None) -> Iterator[Event]:
    """Build the chosen editions of the pack, yielding an event as each is written."""
    from brief.load import load_pack
    from brief.render import environment, render_html
    from brief.tailor import tailor

    if not audiences and not all_:
        raise UsageError("name an edition with --audience NAME (repeatable), or build them all with --all")
    content = load_pack(Path(pack))
    for w in content.warnings:
        yield Warned(str(w))
    names = choose_editions(sorted(content.audiences), audiences, all_)
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
        budget = content.audiences[page.audience].page_budget
        for message in result.warnings:
            yield Warned(message)
        if result.pages > budget:
            over = f"{page.audience}: {result.pages} pages, budget {budget}"
            if not allow_overflow:
                failures.append(f"{over}; shorten the content or raise page_budget (nothing written for it)")
                continue
            yield Warned(f"{over}; written anyway (--allow-overflow)")
        pdf, html = write_edition(page, result.pdf)
        yield Written(page.audience, pdf, html, result.pages, budget)
    if failures:
        raise BuildError("\n".join(failures))


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
    return results, failures


def write_edition(page: "Page", pdf: bytes) -> tuple[Path, Path]:
    """Write an edition's PDF, HTML and the assets the HTML links to; return the PDF and HTML paths."""
    page.out_dir.mkdir(parents=True, exist_ok=True)
    for name, source in page.assets.items():
        target = page.out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    html = page.out_dir / f"{page.slug}.html"
    html.write_text(page.html, encoding="utf-8")
    pdf_path = page.out_dir / f"{page.slug}.pdf"
    pdf_path.write_bytes(pdf)
    return pdf_path, html


def run_build(pack: Path, audiences: tuple[str, ...] = (), all_: bool = False, allow_overflow: bool = False,
              quiet: bool = False) -> int:
    """Run a build for the command line: print each file with its page count; return the exit code."""
    for event in build(pack, audiences, all_, allow_overflow):
        if isinstance(event, Warned):
            if not quiet:
                click.echo(f"warning: {event.message}", err=True)
        elif not quiet:
            click.echo(f"{_shown(event.pdf)}  {event.pages} page{'s' if event.pages != 1 else ''} (budget {event.budget})")
            click.echo(f"{_shown(event.html)}")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
