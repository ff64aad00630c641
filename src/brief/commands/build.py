"""`brief build` for the command line: print each edition as it is written, or a JSON summary."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from brief.commands import Output
from brief.errors import BUILT, NOTHING_TO_DO, BriefError
from brief.output.build import BuildEvent, BuildRequest, Skipped, Warned, Written, build


def run_build(pack: Path, request: BuildRequest, quiet: bool = False, as_json: bool = False) -> int:
    """Run a build, print what happens, and return the exit code."""
    events: list[BuildEvent] = []
    out = Output()  # a full or closed stdout must not stop the build half-way
    try:
        for event in build(pack, request):
            events.append(event)
            if not (quiet or as_json):
                echo(event, out)
    except BriefError as e:
        if as_json:  # machines get their summary on stdout even when the build fails
            out.echo(json.dumps({**build_summary(events, e.exit_code), "error": e.format_message()}, indent=2))
        raise
    built = [e for e in events if isinstance(e, Written)]
    code = BUILT if built else NOTHING_TO_DO
    if as_json:
        out.echo(json.dumps(build_summary(events, code), indent=2))
    elif not quiet and not built:
        out.echo("nothing to do: every edition is up to date (--force rebuilds)")
    out.check()
    return code


def echo(event: BuildEvent, out: Output) -> None:
    """Print one build event for a person."""
    if isinstance(event, Warned):
        out.echo(f"warning: {event.message}", err=True)
        return
    pages = f"{event.pages} page{'s' if event.pages != 1 else ''}"
    if isinstance(event, Skipped):
        out.echo(f"{shown(event.pdf)}  unchanged, skipped ({pages})")
    else:
        out.echo(f"{shown(event.pdf)}  {pages} (budget {event.budget})")
        out.echo(f"{shown(event.html)}")


def build_summary(events: list[BuildEvent], code: int) -> dict[str, Any]:
    """Return the --json summary: each edition with its files, pages, sha256 and whether it was built."""
    editions = []
    for e in events:
        if isinstance(e, (Written, Skipped)):
            editions.append({
                "audience": e.audience,
                "status": "built" if isinstance(e, Written) else "skipped",
                "pages": e.pages,
                "files": [{"path": f"build/{f.path}", "sha256": f.sha256, "bytes": f.bytes, "pages": f.pages}
                          for f in e.files if f.path.endswith((".pdf", ".html"))],
            })
    return {"exit_code": code, "editions": editions,
            "warnings": [e.message for e in events if isinstance(e, Warned)]}


def shown(path: Path) -> str:
    """Name a path relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
