"""What the preview shows: each edition's latest HTML, PDF and errors, re-rendered in memory on every save."""
from __future__ import annotations

import difflib
import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.errors import BriefError, UsageError
from brief.preview.report import Report, describe, unexpected

if TYPE_CHECKING:  # pydantic, Jinja and babel load with the first render, not with `brief --help`
    from brief.content.load import Content
    from brief.edition.render import Page
    from brief.output.printing import Printed

Submit = Callable[[str, int, "Page"], None]  # (audience, rendered, page): print it in the background


@dataclass
class EditionState:
    """One edition as the preview last saw it."""

    name: str
    title: str
    budget: int | None = None
    page: Page | None = None  # the last HTML that rendered; kept while the content is broken
    error: Report | None = None  # why the current content does not render this edition
    face: str = ""  # what its page shows now (a digest of the HTML or the error); a change reloads the page
    stamp: int = 0  # the session version at which `face` last changed
    rendered: int = 0  # the session version that rendered `page`
    pdf: bytes | None = None
    pages: int | None = None
    printed: int = 0  # `rendered` of the page the PDF was printed from
    pdf_error: str | None = None
    pdf_notes: tuple[str, ...] = ()  # WeasyPrint warnings, and what the PDF lost of the HTML

    @property
    def printing(self) -> bool:
        """Whether a newer HTML than the PDF's is being printed."""
        return self.page is not None and self.printed < self.rendered

    def as_dict(self, printing_on: bool) -> dict[str, Any]:
        """Return the edition's state for the page's JSON."""
        over = self.pages is not None and self.budget is not None and self.pages > self.budget
        return {"title": self.title, "budget": self.budget, "pages": self.pages, "over": over,
                "stamp": self.stamp, "rendered": self.rendered, "printed": self.printed,
                "printing": printing_on and self.printing, "pdf": self.pdf is not None, "pdf_error": self.pdf_error,
                "pdf_notes": list(self.pdf_notes), "error": self.error.as_dict() if self.error else None,
                "slug": self.page.slug if self.page else None}


def profile_names(root: Path) -> list[str]:
    """Return the audience names the pack's profile files give, without parsing them (works while broken)."""
    return sorted(p.stem for p in (Path(root) / "content" / "audiences").glob("*.yaml"))


def check_audiences(root: Path, chosen: Iterable[str]) -> None:
    """Raise UsageError for an audience name that no profile file has."""
    known = profile_names(root)
    unknown = [a for a in chosen if a not in known]
    if unknown:
        hints = [f"'{a}' (did you mean '{close[0]}'?)" if (close := difflib.get_close_matches(a, known, 1))
                 else f"'{a}'" for a in unknown]
        raise UsageError(f"unknown audience{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
                         f"known audiences: {', '.join(known) or 'none (content/audiences/ has no profile)'}")


class PreviewSession:
    """The editions of one pack, rendered in memory (nothing is written to build/), with a version to wait on."""

    def __init__(self, root: Path, audiences: Iterable[str] = (), submit: Submit | None = None):
        self.root = Path(root).resolve()
        if not (self.root / "content").is_dir():
            what = "no content/ directory here" if self.root.is_dir() else "no such directory"
            raise UsageError(f"{root}: {what}; run brief in a pack directory or pass -C PACK_DIR")
        self.chosen = tuple(dict.fromkeys(audiences))
        check_audiences(self.root, self.chosen)
        self.version = 0
        self.title = ""
        self.error: Report | None = None  # the pack does not load: every edition shows this
        self.warnings: tuple[str, ...] = ()
        self.editions: dict[str, EditionState] = {}
        self._viewed = set(self.chosen)  # re-rendered on every save; others wait until a page asks for them
        self._submit = submit
        self._render_lock = threading.Lock()  # one render at a time
        self._changed = threading.Condition()  # guards the state above; notified on every new version
        self._sync_names()

    # ---- rendering --------------------------------------------------------------

    def refresh(self) -> None:
        """Load the pack again and re-render the editions pages have asked for; tell the waiting pages."""
        with self._render_lock:
            try:
                content = self._load()
            except BriefError as e:
                self._commit_error(describe(e, self.root))
                return
            except Exception as e:  # a bug must not end the preview: show it, try again at the next save
                self._commit_error(unexpected(e))
                return
            self._commit(content, self._render(content, sorted(self._viewed & set(content.audiences))))

    def view(self, name: str) -> EditionState | None:
        """Return an edition's state, rendering it first if no page has asked for it yet; None if unknown."""
        with self._changed:
            if name not in self.editions:
                return None
            first = name not in self._viewed
            self._viewed.add(name)
        if first:
            self.refresh()
        return self.editions.get(name)

    def _load(self) -> Content:
        from brief.edition.checks import load_pack

        return load_pack(self.root)

    def _render(self, content: Content, names: list[str]) -> dict[str, Page | Report]:
        from brief.edition.render import environment, render_html
        from brief.edition.tailor import tailor

        env = None
        results: dict[str, Page | Report] = {}
        for name in names:
            try:
                env = env or environment(content)
                results[name] = render_html(content, tailor(content, content.audiences[name]), env)
            except BriefError as e:
                results[name] = describe(e, self.root)
            except Exception as e:  # a pack's template can do anything: keep serving
                results[name] = unexpected(e)
        return results

    # ---- state changes (all under self._changed) --------------------------------------

    def _commit_error(self, report: Report) -> None:
        with self._changed:
            self._sync_names()
            self.version += 1
            self.error = report
            for state in self.editions.values():
                self._show(state, "error:" + report.text)
            self._changed.notify_all()

    def _commit(self, content: Content, results: dict[str, Page | Report]) -> None:
        to_print = []
        with self._changed:
            self._sync_names()
            self.version += 1
            self.error = None
            self.title = content.pack.title
            self.warnings = tuple(str(w) for w in content.warnings)
            for name, state in self.editions.items():
                profile = content.audiences.get(name)
                if profile is not None:
                    state.title, state.budget = profile.title, profile.page_budget
                result = results.get(name)
                if isinstance(result, Report):
                    state.error = result
                    self._show(state, "error:" + result.text)
                elif result is not None:
                    state.error = None
                    self._show(state, "html:" + hashlib.sha256(result.html.encode()).hexdigest())
                    if state.page is None or state.page.html != result.html:
                        state.page, state.rendered = result, self.version
                        to_print.append((name, state.rendered, result))
            self._changed.notify_all()
        for job in to_print:
            if self._submit is not None:
                self._submit(*job)

    def _show(self, state: EditionState, face: str) -> None:
        """Set what an edition's page shows; a change moves its stamp (its pages then reload)."""
        if face != state.face:
            state.face, state.stamp = face, self.version

    def printed(self, name: str, rendered: int, result: Printed | str) -> None:
        """Record a PDF printed in the background (or why it failed) for the HTML of version `rendered`."""
        with self._changed:
            state = self.editions.get(name)
            if state is None or rendered < state.printed:
                return
            self.version += 1
            state.printed = rendered
            if isinstance(result, str):
                state.pdf_error = result
            else:
                state.pdf, state.pages, state.pdf_error = result.pdf, result.pages, None
                lost = (f"the PDF lacks what the HTML has: {'; '.join(result.missing)}",) if result.missing else ()
                state.pdf_notes = tuple(result.warnings) + lost
            self._changed.notify_all()

    def _sync_names(self) -> None:
        """Follow profiles added to or removed from content/audiences/."""
        names = [n for n in profile_names(self.root) if not self.chosen or n in self.chosen]
        self.editions = {n: self.editions.get(n) or EditionState(n, n) for n in names}

    # ---- reading ------------------------------------------------------------------

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until the version differs from `seen` (or timeout); return the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version

    def wake(self) -> None:
        """Wake every waiting page (the server is stopping)."""
        with self._changed:
            self._changed.notify_all()

    def snapshot(self) -> dict[str, Any]:
        """Return the whole state as the pages' JSON."""
        with self._changed:
            return {"version": self.version, "title": self.title, "pdf": self._submit is not None,
                    "error": self.error.as_dict() if self.error else None, "warnings": list(self.warnings),
                    "editions": {n: s.as_dict(self._submit is not None) for n, s in self.editions.items()}}
