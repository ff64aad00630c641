"""Print editions to PDF in a pool of worker processes that die with their parent."""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brief.errors import BuildError

if TYPE_CHECKING:
    from brief.edition.render import Page

_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


@dataclass(frozen=True)
class Printed:
    """An edition printed by a worker."""

    pdf: bytes
    pages: int
    warnings: tuple[str, ...]
    missing: tuple[str, ...] = ()  # headings and table rows of the HTML that the PDF lacks
    archival: bytes | None = None  # the PDF/A-3 copy, for a job that asked for one (brief.output.archival)


@contextmanager
def printers(n: int) -> Iterator[ProcessPoolExecutor]:
    """Yield a pool of n PDF workers that import WeasyPrint before the first job arrives."""
    # Fork: workers start in milliseconds and do not re-run the caller's __main__. Fork rules
    # out max_tasks_per_child, but the pool lives for one build: its workers never grow old.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max(n, 1), mp_context=context, initializer=_start_worker, initargs=(os.getpid(),))
    try:
        pool.submit(int)  # fork the workers now: they import WeasyPrint while this process renders HTML
        yield pool
    except BaseException:
        # Ctrl-C, SIGTERM or a failure: do not wait for pages nobody will write.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(parent: int) -> None:
    """Tie the worker's life to its parent's, then import WeasyPrint."""
    _die_with_parent(parent)
    # Ctrl-C reaches the whole process group: the parent stops the build and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import brief.output.pdf  # noqa: F401  (the import is the point: it takes most of a second)


def _die_with_parent(parent: int) -> None:
    # A scheduler that kills only the main process (SIGTERM or SIGKILL) must not leave ~90 MB
    # workers behind: the kernel sends SIGKILL to this worker when its parent dies.
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def print_one(page: Page) -> Printed:
    """Print one page in a worker (imported there, so the main process never loads WeasyPrint)."""
    from brief.output.pdf import render_pdf

    result = render_pdf(page)
    return Printed(result.pdf, result.pages, result.warnings, result.missing, result.archival)


def print_each(pool: ProcessPoolExecutor, pages: list[Page]) -> Iterator[tuple[Page, Printed | str]]:
    """Print every page in the pool, longest first; yield each with its result (or why it failed) as it is done."""
    futures: dict[Future, Page] = {
        pool.submit(print_one, page): page for page in sorted(pages, key=lambda p: -len(p.html))
    }
    for future in as_completed(futures):
        page = futures[future]
        try:
            yield page, future.result()
        except BuildError as e:
            yield page, e.message
        except Exception as e:  # a crash in a worker is a failed edition, never a traceback
            yield page, f"{page.audience}: printing the PDF failed: {type(e).__name__}: {e}"
