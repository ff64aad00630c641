"""Show long work: a progress bar on a terminal, a line now and then in logs, nothing with --quiet."""
from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from brief.commands import Output
from brief.output.build import Progress

LONG = 25  # items: below this, the per-item lines say enough and a log gets no progress lines


class ProgressView:
    """Turn Progress events into a transient bar (terminal) or occasional log lines on stderr."""

    def __init__(self, *, enabled: bool, log: bool, out: Output) -> None:
        self.enabled, self.log, self.out = enabled, log, out
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressView:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, event: Progress) -> None:
        """Advance the bar for the event's kind of work, or print a line when a log should hear of it."""
        if self.enabled and event.total > 1:
            self._bar_task(event)
        elif self.log and not self.enabled and event.total >= LONG and _worth_a_line(event):
            self.out.echo(f"{event.what}: {event.done}/{event.total}", err=True)

    def _bar_task(self, event: Progress) -> None:
        if self.bar is None:
            # Imported only on a terminal: rich costs ~50 ms that unattended runs need not pay.
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=console, transient=True)
            self.bar.start()
        if event.what not in self.tasks:
            self.tasks[event.what] = self.bar.add_task(event.what, total=event.total)
        self.bar.update(self.tasks[event.what], completed=event.done, total=event.total)


def _worth_a_line(event: Progress) -> bool:
    step = max(LONG, event.total // 10)
    return event.done == event.total or (event.done > 0 and event.done % step == 0)
