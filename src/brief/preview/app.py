"""A running preview: the session, the background printer, the watcher and the server, started and stopped together."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from brief.preview.printer import PdfQueue
from brief.preview.server import HOST, PreviewServer, bind
from brief.preview.session import PreviewSession
from brief.preview.watch import Watcher

if TYPE_CHECKING:
    from brief.edition.render import Page


class Preview:
    """Serve a pack's editions on 127.0.0.1, re-rendered on every save; nothing is written to the pack."""

    def __init__(self, root: Path, audiences: Iterable[str] = (), port: int | None = None, pdf: bool = True):
        self._queue: PdfQueue | None = None
        self.session = PreviewSession(root, audiences, submit=self._print if pdf else None)
        self.server: PreviewServer = bind(self.session, port)  # before anything starts: a taken port fails fast
        self.watcher = Watcher(self.session.root, self.session.refresh)
        self._thread: threading.Thread | None = None
        if pdf:
            self._queue = PdfQueue(self.session.printed)

    @property
    def url(self) -> str:
        """Return the address of the index page."""
        return f"http://{HOST}:{self.server.port}/"

    def start(self) -> Preview:
        """Start the PDF printer, render what was asked for, and watch the pack (the server is not yet serving)."""
        if self._queue is not None:
            self._queue.start()  # WeasyPrint imports in the child while the first HTML renders here
        self.watcher.start()  # before the first render: a save during it is not missed
        self.session.refresh()
        return self

    def serve_forever(self) -> None:
        """Answer requests until Ctrl-C (KeyboardInterrupt) or close() from another thread."""
        self.server.serve_forever(poll_interval=0.2)

    def serve_in_background(self) -> Preview:
        """Answer requests in a daemon thread (for tests and benchmarks)."""
        self._thread = threading.Thread(target=self.serve_forever, name="brief-preview-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop watching, printing and serving; end the event streams and the printer process."""
        self.watcher.stop()
        self.server.stop_streams()
        if self._thread is not None:
            self.server.shutdown()  # only from another thread than serve_forever's
            self._thread.join(timeout=5)
        self.server.server_close()
        if self._queue is not None:
            self._queue.close()

    def _print(self, audience: str, rendered: int, page: Page) -> None:
        if self._queue is not None:
            self._queue.submit(audience, rendered, page)

    def __enter__(self) -> Preview:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
