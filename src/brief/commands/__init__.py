"""The command-line side of each command: printing, JSON summaries and exit codes; the logic lives below."""
from __future__ import annotations

from typing import Any

import click


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
