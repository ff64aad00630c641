"""Watch the pack's content, templates and source copies (and the built-in templates); re-render after a save."""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from brief.templating import builtin_templates

# Editors save in bursts (a temp file, a rename, a backup): wait this long for quiet before rendering...
QUIET_MS = 80
# ...but never longer than this after the first change.
AT_MOST_MS = 600
# How often to look for a templates/ or sources/ folder made (or removed) since the watch began.
RECHECK_MS = 1000


def watched_folders(root: Path) -> list[Path]:
    """Return the folders editions are made from: the pack's content/, templates/, sources/, the built-in templates."""
    # Not the pack folder itself: it may hold a virtualenv or a git checkout, thousands of folders to watch.
    found = [Path(root) / part for part in ("content", "templates", "sources")]
    return [p for p in found if p.is_dir()] + [builtin_templates("editions")]


class Watcher:
    """A thread that calls on_change after each burst of saves, until stopped."""

    def __init__(self, root: Path, on_change: Callable[[], None]):
        self.root = root
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="brief-preview-watch", daemon=True)

    @property
    def folders(self) -> list[Path]:
        """Return the folders watched now."""
        return watched_folders(self.root)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch(self.folders)
            except Exception as e:  # e.g. content/ removed mid-watch: say so, look again shortly
                print(f"brief preview: watching stopped ({type(e).__name__}: {e}); retrying", file=sys.stderr)
                self._stop.wait(1)

    def _watch(self, folders: list[Path]) -> None:
        """Watch folders until stopped, or until the set of folders to watch changes (then render with it)."""
        import watchfiles

        for changes in watchfiles.watch(*folders, stop_event=self._stop, step=QUIET_MS, debounce=AT_MOST_MS,
                                        rust_timeout=RECHECK_MS, yield_on_timeout=True, raise_interrupt=False):
            moved = self.folders != folders
            if changes or moved:
                self._changed()
            if moved:
                return

    def _changed(self) -> None:
        try:
            self._on_change()
        except Exception as e:  # the session shows render errors itself; this is a bug: say so, keep watching
            print(f"brief preview: re-rendering failed: {type(e).__name__}: {e}", file=sys.stderr)

    def stop(self) -> None:
        """Stop watching (within a few tenths of a second)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
