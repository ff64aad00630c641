"""Print the preview's PDFs in the background, in a child process that is replaced every few dozen prints.

A child of its own (not a fork of the server, whose threads may hold locks) keeps WeasyPrint's
import and memory out of the server, lets the HTML re-render on the other core while a PDF prints,
and can be replaced: a long-lived WeasyPrint process grows with every document it lays out.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from brief.errors import BriefError
from brief.output.printing import Printed, print_one

if TYPE_CHECKING:
    from brief.edition.render import Page

Done = Callable[[str, int, "Printed | str"], None]  # (audience, rendered, the PDF or why it failed)

RECYCLE_AFTER = 40  # prints per child: WeasyPrint grew from 64 to 154 MiB over 200 documents here


class PrinterProcess:
    """A child process that prints one page at a time; started on first use, replaced when worn or dead."""

    def __init__(self, recycle_after: int = RECYCLE_AFTER):
        self._recycle_after = recycle_after
        self._child: subprocess.Popen[bytes] | None = None
        self._jobs = 0
        self._ended = False

    def start(self) -> None:
        """Start the child now, so it imports WeasyPrint while the first HTML renders."""
        if self._ended:
            return
        if self._child is None or self._child.poll() is not None or self._jobs >= self._recycle_after:
            self.close()
            self._child = subprocess.Popen([sys.executable, "-m", "brief.preview.printer", str(os.getpid())],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self._jobs = 0

    def print(self, page: Page) -> Printed | str:
        """Print a page; return the PDF, or why it could not be printed."""
        self.start()
        child = self._child
        if child is None or child.stdin is None or child.stdout is None:
            return f"{page.audience}: the preview is stopping; no PDF printed"
        try:
            pickle.dump(page, child.stdin)
            child.stdin.flush()
            result = pickle.load(child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as e:
            self.close()
            return f"{page.audience}: the PDF printer stopped ({type(e).__name__}); it restarts at the next save"
        self._jobs += 1
        return result

    def end(self) -> None:
        """End the child for good, now (a PDF half-printed is of no use to anyone): no other starts after this."""
        self._ended = True
        self.close(wait=0)

    def close(self, wait: float = 2) -> None:
        """End the child: it exits when its input closes; one still busy after `wait` seconds is killed."""
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(OSError):
            if child.stdin is not None:
                child.stdin.close()
        try:
            child.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


class PdfQueue:
    """Print the latest HTML of each edition in the background, one at a time; older pending ones are dropped."""

    def __init__(self, done: Done, printer: PrinterProcess | None = None):
        self._done = done
        self._printer = printer or PrinterProcess()
        self._pending: dict[str, tuple[int, Page]] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="brief-preview-printer", daemon=True)

    def start(self) -> None:
        """Start the child process and the thread that feeds it."""
        self._printer.start()
        self._thread.start()

    def submit(self, audience: str, rendered: int, page: Page) -> None:
        """Queue a page for printing, replacing any older one of the same edition still waiting."""
        with self._wake:
            self._pending[audience] = (rendered, page)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._stopping)
                if self._stopping:
                    return
                audience = next(iter(self._pending))
                rendered, page = self._pending.pop(audience)
            self._done(audience, rendered, self._printer.print(page))

    def close(self) -> None:
        """Stop printing and end the child process."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._printer.end()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def serve(source: IO[bytes], results: IO[bytes]) -> None:
    """Print each page read from source until it closes, writing each result to results (the child's loop)."""
    while True:
        try:
            page = pickle.load(source)
        except EOFError:
            return
        result: Printed | str
        try:
            result = print_one(page)
        except BriefError as e:
            result = e.format_message()
        except Exception as e:  # a crash prints as a failed PDF in the page, never a traceback
            result = f"{page.audience}: printing the PDF failed: {type(e).__name__}: {e}"
        pickle.dump(result, results)
        results.flush()


def main() -> None:
    """Run as the child: die with the parent, keep stdout for results only, then print pages."""
    from brief.output.printing import _start_worker  # the build's workers' setup: same signals, same death

    parent = int(sys.argv[1])
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the results
    _start_worker(parent)
    serve(sys.stdin.buffer, results)


if __name__ == "__main__":
    main()
