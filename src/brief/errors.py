"""Errors that end a brief command, each with its documented exit code."""
from __future__ import annotations

from dataclasses import dataclass

import click

# Exit codes, documented in the README: 0 built (or done), 3 nothing to do.
BUILT = 0
NOTHING_TO_DO = 3


class BriefError(click.ClickException):
    """Base of every error brief reports without a traceback."""

    exit_code = 1


class UsageError(BriefError):
    """The command line asks for something that does not exist."""

    exit_code = 2


class ContentError(BriefError):
    """The pack's content or templates are invalid; nothing was written."""

    exit_code = 4

    def __init__(self, problems: list[Problem], summary: str | None = None):
        self.problems = problems
        n = len(problems)
        head = summary or f"{n} problem{'s' if n != 1 else ''} found; nothing was built"
        super().__init__("\n".join([*(str(p) for p in problems), head]))

    def show(self, file=None) -> None:
        # One problem a line, as compilers print them; no "Error:" prefix to parse around.
        click.echo(self.message, err=True, file=file)


class WarningsAsErrors(ContentError):
    """--strict: the pack has warnings, and the user asked for them to fail the run."""

    def __init__(self, warnings: list[Problem]):
        n = len(warnings)
        super().__init__(warnings, f"{n} warning{'s' if n != 1 else ''}, and --strict treats warnings as errors")


class BuildError(BriefError):
    """Rendering an edition failed (WeasyPrint error, font fallback, over budget)."""

    exit_code = 5


class LockedError(BriefError):
    """Another brief run holds the build lock."""

    exit_code = 6


class SendError(BriefError):
    """Distribution failed: a message could not be delivered."""

    exit_code = 7


class NotVerified(BriefError):
    """`brief verify`: the PDF is altered, unsigned, or its signer is not trusted."""

    exit_code = 8


class Interrupted(BriefError):
    """A signal stopped the run; the last good build stays. Exit 128 + the signal's number."""

    signal_name = "a signal"

    def __init__(self) -> None:
        super().__init__(f"stopped by {self.signal_name}; nothing half-written was kept and the last good "
                         "build stays")


class InterruptedByUser(Interrupted):
    """Ctrl-C."""

    signal_name = "Ctrl-C (SIGINT)"
    exit_code = 130


class InterruptedByScheduler(Interrupted):
    """SIGTERM, as systemd and cron timeouts send."""

    signal_name = "SIGTERM"
    exit_code = 143


class Terminated(BaseException):
    """Raised in the main process by the SIGTERM handler, to unwind as Ctrl-C does."""


class UnexpectedError(BriefError):
    """Something brief did not foresee: one line, and a request to report it, never a traceback."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with its place."""

    file: str
    line: int | None
    col: int | None
    where: str
    message: str
    snippet: str | None = None

    def as_dict(self, severity: str = "error") -> dict[str, str | int | None]:
        """Return the problem for --json: {file, line, column, field, message, severity}."""
        return {"file": self.file, "line": self.line, "column": self.col, "field": self.where or None,
                "message": self.message, "severity": severity}

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.col is not None:
                place += f":{self.col}"
        text = f"{place}: {self.where + ': ' if self.where else ''}{self.message}"
        if self.snippet:
            text += f"\n    {self.snippet.strip()}"
        return text
