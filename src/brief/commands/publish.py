"""`brief publish` for the command line: print each step, or a JSON summary, and return the exit code."""
from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from brief.commands import JSON_FORMAT_VERSION, Output, warning_dict
from brief.errors import NOTHING_TO_DO, BriefError
from brief.publish.publishers import Clock, PublishEvent, Step
from brief.publish.run import PublishRequest, Summary, publish, utcnow


def run_publish(
    pack: Path | str,
    *,
    send: bool = False,
    dry_run: bool = False,
    ignore_embargo: bool = False,
    sign: bool = False,
    wait: float = 0,
    quiet: bool = False,
    as_json: bool = False,
    exit_unchanged: bool = False,
    now: Clock | datetime | None = None,
    env: Mapping[str, str] | None = None,
    publisher_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """Run `brief publish`, print what happens, and return the exit code."""
    clock: Clock = (lambda: now) if isinstance(now, datetime) else (now or utcnow)
    request = PublishRequest(send=send, dry_run=dry_run, ignore_embargo=ignore_embargo, sign=sign, wait=wait, now=clock,
                             env=env, publisher_options=publisher_options or {})
    summary = Summary()
    out = Output()  # a full or closed stdout must not stop sending half-way
    try:
        for event in publish(pack, request, summary):
            summary.note(event)
            echo(event, out, quiet=quiet, as_json=as_json)
    except BriefError as e:
        summary.status, summary.error, summary.exit_code = "error", e.format_message(), e.exit_code
        e.show()
    if summary.exit_code == NOTHING_TO_DO and not exit_unchanged:
        summary.exit_code = 0  # nothing new is success: `brief build && brief publish` composes
    if as_json:
        document = {"format_version": JSON_FORMAT_VERSION, **summary.__dict__,
                    "warnings": [warning_dict(w) for w in summary.warnings]}
        out.echo(json.dumps(document, indent=2, default=str))
    out.check()
    return summary.exit_code


def echo(event: PublishEvent, out: Output, *, quiet: bool, as_json: bool) -> None:
    """Print one publishing event for a person (errors and warnings on stderr)."""
    if event.kind in (Step.FAILED, Step.UNCERTAIN):
        out.echo(f"{'error' if event.kind == Step.FAILED else 'warning'}: {event.message}", err=True)
    elif quiet:
        return
    elif event.is_warning:
        out.echo(f"warning: {event.message}", err=True)
    elif not as_json:
        out.echo(event.message, file=sys.stdout)
