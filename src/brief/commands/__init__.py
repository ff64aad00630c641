"""The command-line side of each command: printing, JSON summaries and exit codes; the logic lives below."""
from __future__ import annotations

from typing import Any

import click

from brief import JSON_FORMAT_VERSION
from brief.errors import Problem

__all__ = ["JSON_FORMAT_VERSION", "Output", "warning_dict"]


def warning_dict(warning: Problem | str) -> dict[str, Any]:
    """Return a warning in the one structure every --json output uses."""
    if isinstance(warning, Problem):
        return warning.as_dict("warning")
    return {"file": None, "line": None, "column": None, "field": None, "message": warning, "severity": "warning"}


class Output:
    """Print for a person; if standard output fails (closed, disk full), keep working and say so at the end."""

    def __init__(self) -> None:
        self.failure: OSError | None = None

    def echo(self, message: Any = None, **kwargs: Any) -> None:
        """Print like click.echo, remembering the first failure instead of stopping the work."""
        if self.failure is not None and not kwargs.get("err"):
            return
        try:
            click.echo(message, **kwargs)
        except OSError as e:
            self.failure = self.failure or e

    def check(self) -> None:
        """Raise the remembered failure, once the work is done, so the command exits non-zero."""
        if self.failure is not None:
            raise self.failure
