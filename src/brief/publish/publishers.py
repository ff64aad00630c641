"""What publishers share: the progress events they yield, their base class, and the registry by name.

As Lektor's publishers: each is chosen by name, made with one signature
(``factory(context, options)``) and yields progress instead of printing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.publish.release import Release

Clock = Callable[[], datetime]


class Step(StrEnum):
    """What a publishing event reports."""

    WRITE = "write"
    SIGN = "sign"
    CLEAN = "clean"
    SKIP = "skip"
    HELD = "held"
    SEND = "send"
    SENT = "sent"
    RETRY = "retry"
    UNCERTAIN = "uncertain"
    FAILED = "failed"
    WARNING = "warning"


_WARNINGS = (Step.WARNING, Step.UNCERTAIN, Step.FAILED, Step.RETRY)


@dataclass(frozen=True)
class PublishEvent:
    """One step of publishing; the command line decides how to show it."""

    kind: Step
    message: str
    data: dict[str, Any] = field(default_factory=dict)  # what --json reports of it (path, email, file, ...)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Step(self.kind))  # a misspelt kind fails here, not in a report

    @property
    def is_warning(self) -> bool:
        return self.kind in _WARNINGS


@dataclass(frozen=True)
class PublishContext:
    """What every publisher is given: the pack, where the build and the release are, the environment, a clock."""

    content: Content
    build_dir: Path
    release_dir: Path
    env: Mapping[str, str] | None
    now: Clock


class Publisher:
    """Base of the ways a release leaves the machine. It never prints; it raises a BriefError to stop."""

    name = "publisher"

    def check(self, release: Release) -> None:
        """Refuse early (before anything is written or sent) when the publisher cannot run."""

    def preflight(self, release: Release) -> Iterator[PublishEvent]:
        """Yield notes about what the publisher will leave out, before anything is written."""
        yield from ()

    def publish(self, release: Release, dry_run: bool = False) -> Iterator[PublishEvent]:  # pragma: no cover
        """Send the release on its way, yielding progress."""
        raise NotImplementedError


PublisherFactory = Callable[[PublishContext, Mapping[str, Any]], Publisher]


def _email(context: PublishContext, options: Mapping[str, Any]) -> Publisher:
    from brief.publish.mail import EmailPublisher

    return EmailPublisher.from_context(context, **options)


PUBLISHERS: dict[str, PublisherFactory] = {"email": _email}
