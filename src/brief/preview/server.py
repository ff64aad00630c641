"""The preview's HTTP server on 127.0.0.1: its pages, server-sent events, and files of the pack only.

URLs:  /  the editions       /view/NAME  HTML and PDF side by side       /_/events  server-sent events
       /pack/build/NAME/     the edition's HTML as `brief build` would write it to build/NAME/ (from memory)
       /pack/PATH            a file inside the pack, so an edition's relative links resolve as in build/
       /_/pdf/NAME.pdf  /_/panel/NAME  /_/state.json  /_/preview.css  /_/view.js  /_/live.js
"""
from __future__ import annotations

import contextlib
import errno
import json
import mimetypes
import re
import secrets
import shutil
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from brief.edition.render import template_dirs
from brief.errors import UsageError
from brief.preview import pages
from brief.preview.session import EditionState, PreviewSession
from brief.templating import contained

HOST = "127.0.0.1"
DEFAULT_PORTS = range(8765, 8775)  # a stable address across restarts when free; else any free port
KEEPALIVE_S = 15  # a comment line this often keeps proxies and browsers from dropping the event stream

_NAME = r"([a-z0-9][a-z0-9-]*)"  # an audience name, as profiles may spell it
_NAMED = {kind: re.compile(pattern) for kind, pattern in (
    ("view", rf"/view/{_NAME}/?"), ("panel", rf"/_/panel/{_NAME}"), ("pdf", rf"/_/pdf/{_NAME}\.pdf"))}


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its session; each page and event stream gets a daemon thread."""

    daemon_threads = True

    def __init__(self, port: int, session: PreviewSession):
        super().__init__((HOST, port), Handler)
        self.session = session
        self.stopping = threading.Event()

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        return int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Drop connection errors (a closed tab, a stop mid-request); report others in one line, not a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            print(f"brief preview: unexpected {type(error).__name__}: {error}", file=sys.stderr)

    def stop_streams(self) -> None:
        """End the event streams so their threads finish."""
        self.stopping.set()
        self.session.wake()


def bind(session: PreviewSession, port: int | None) -> PreviewServer:
    """Listen on 127.0.0.1: on `port`, or (None) the first free default port; raise UsageError if it is taken."""
    if port is not None:
        try:
            return PreviewServer(port, session)
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                why = "in use (another preview?)" if e.errno == errno.EADDRINUSE else "not allowed for this user"
                raise UsageError(f"port {port} on {HOST} is {why}; choose another with --port, or leave "
                                 "--port out to take a free one") from None
            raise
    for candidate in [*DEFAULT_PORTS, 0]:
        try:
            return PreviewServer(candidate, session)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
    raise AssertionError("port 0 is always free")  # the kernel picks one


class Handler(BaseHTTPRequestHandler):
    """Answer one request: a preview page, the event stream, or a file of the pack; 404 for anything else."""

    server: PreviewServer
    server_version = "brief-preview"

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the terminal shows the address and errors, not every request."""

    def _answer(self) -> None:
        try:
            if not self._host_allowed():
                # Another site's page that resolves its own name to 127.0.0.1 must not read the pack.
                self._text(HTTPStatus.FORBIDDEN, "the preview answers only to 127.0.0.1 and localhost")
                return
            self._route(urlsplit(self.path).path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload, a closed tab)
        except Exception as e:  # a bug: one line in the terminal and the page, and the preview goes on
            message = f"unexpected {type(e).__name__}: {e}. This is a bug in brief: please report it"
            print(f"brief preview: {message}", file=sys.stderr)
            with contextlib.suppress(OSError):
                self._text(HTTPStatus.INTERNAL_SERVER_ERROR, message)

    def _host_allowed(self) -> bool:
        host = self.headers.get("Host")
        return host is None or host in {f"{HOST}:{self.server.port}", f"localhost:{self.server.port}"}

    @property
    def session(self) -> PreviewSession:
        return self.server.session

    def _route(self, path: str) -> None:
        if path == "/":
            self._page("index.html.j2", key=self.session.snapshot()["version"])
        elif path == "/_/events":
            self._events()
        elif path == "/_/state.json":
            self._send(HTTPStatus.OK, json.dumps(self.session.snapshot()).encode(), "application/json")
        elif path.startswith("/_/") and (static := pages.static_file(path[3:])) is not None:
            self._send(HTTPStatus.OK, static, pages.STATIC[path[3:]])
        elif path.startswith("/pack/"):
            self._pack(path.removeprefix("/pack/"))
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self._named(path)

    def _named(self, path: str) -> None:
        """Answer the URLs that name an edition: its view, its status panel, its PDF."""
        kind, name = next(((k, m[1]) for k, rx in _NAMED.items() if (m := rx.fullmatch(path))), ("", ""))
        state = self.session.view(name) if kind else None
        if state is None:
            self._not_found()
        elif kind == "view":
            self._page("view.html.j2", edition=state.name, name=state.name)
        elif kind == "panel":
            snapshot = self.session.snapshot()
            html = pages.render("panel.html.j2", state=snapshot, ed=snapshot["editions"][state.name])
            self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8")
        elif state.pdf is None:
            self._text(HTTPStatus.NOT_FOUND, f"the PDF of {state.name} is not printed yet (or --no-pdf)")
        else:
            slug = state.page.slug if state.page else state.name
            self._send(HTTPStatus.OK, state.pdf, "application/pdf",
                       {"Content-Disposition": f'inline; filename="{slug}.pdf"'})

    # ---- the pack's files, as build/ would hold them ---------------------------------------

    def _pack(self, rest: str) -> None:
        parts = [unquote(p) for p in rest.split("/")]
        index = parts[-1] == ""
        if index:
            parts.pop()
        # Decoded before checking, so %2e%2e and %2f cannot smuggle a '..' or a '/' past the check.
        if not parts or any(p in ("", ".", "..") or p.startswith(".") or set(p) & {"/", "\\", "\0"} for p in parts):
            self._not_found()
        elif parts[0] == "build":
            self._build(parts[1:], index)
        else:
            self._file(contained(self.session.root.joinpath(*parts), [self.session.root]))

    def _build(self, parts: list[str], index: bool) -> None:
        state = self.session.view(parts[0]) if parts else None
        if state is None:
            self._not_found()
        elif len(parts) == 1 and not index:
            self._redirect(f"/pack/build/{state.name}/")
        elif len(parts) == 1 or (len(parts) == 2 and state.page and parts[1] == f"{state.page.slug}.html"):
            self._edition_page(state)
        elif state.page is not None:
            asset = state.page.assets.get("/".join(parts[1:]))
            self._file(contained(asset, template_dirs(self.session.root)) if asset else None)
        else:
            self._not_found()

    def _edition_page(self, state: EditionState) -> None:
        broken = self.session.error is not None or state.error is not None
        if broken or state.page is None:
            self._page("error.html.j2", edition=state.name, audience=state.name, key=state.stamp)
            return
        nonce = secrets.token_urlsafe(16)
        html = pages.inject(state.page.html, pages.live_script(nonce, state.stamp, state.name))
        self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8",
                   {"Content-Security-Policy": pages.csp(nonce)})

    def _file(self, path: Path | None) -> None:
        try:
            f = open(path, "rb") if path is not None else None  # noqa: SIM115 (closed below)
        except OSError:  # removed or made unreadable since it was checked
            f = None
        if f is None:
            self._not_found()
            return
        with f:
            size = f.seek(0, 2)
            f.seek(0)
            self._head(HTTPStatus.OK, mimetypes.guess_type(f.name)[0] or "application/octet-stream", size)
            if self.command != "HEAD":
                shutil.copyfileobj(f, self.wfile)

    # ---- events ------------------------------------------------------------------------

    def _events(self) -> None:
        """Stream the state as server-sent events: now, then after every change, until the server stops."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(b"retry: 1000\n\n")  # after a restart of the preview, reconnect within a second
        seen = -1
        while not self.server.stopping.is_set():
            version = self.session.wait(seen, timeout=KEEPALIVE_S)
            if self.server.stopping.is_set():
                return
            if version == seen:
                self.wfile.write(b": keep-alive\n\n")
            else:
                seen = version
                self.wfile.write(f"id: {version}\ndata: {json.dumps(self.session.snapshot())}\n\n".encode())
            self.wfile.flush()

    # ---- responses ---------------------------------------------------------------------

    def _page(self, template: str, key: int = 0, audience: str = "", edition: str = "", **context: Any) -> None:
        """Render one of the preview's pages from one snapshot (with `edition`, its state as `ed`)."""
        nonce = secrets.token_urlsafe(16)
        snapshot = self.session.snapshot()
        if edition:
            context["ed"] = snapshot["editions"][edition]
        html = pages.render(template, state=snapshot, nonce=nonce, key=key, audience=audience, **context)
        self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8",
                   {"Content-Security-Policy": pages.csp(nonce)})

    def _not_found(self) -> None:
        self._text(HTTPStatus.NOT_FOUND, "not found: the preview serves its own pages, the editions and files "
                                         "inside the pack only")

    def _text(self, status: HTTPStatus, text: str) -> None:
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self._head(status, kind, len(body), headers)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _head(self, status: HTTPStatus, kind: str, size: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", "no-store")  # every save changes what a URL returns
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
