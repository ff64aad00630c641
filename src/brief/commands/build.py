"""`brief build` for the command line: print each edition as it is written, or a JSON summary."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from brief.commands import JSON_FORMAT_VERSION, Output, warning_dict
from brief.commands.progress import ProgressView
from brief.errors import BUILT, NOTHING_TO_DO, BriefError
from brief.output.build import BuildEvent, BuildRequest, Progress, Skipped, Warned, Written, build
from brief.output.recipients import Personalised


def run_build(pack: Path, request: BuildRequest, quiet: bool = False, as_json: bool = False,
              exit_unchanged: bool = False) -> int:
    """Run a build, print what happens, and return the exit code (0 also when nothing changed, unless asked)."""
    events: list[BuildEvent] = []
    out = Output()  # a full or closed stdout must not stop the build half-way
    with ProgressView(enabled=not (quiet or as_json) and sys.stderr.isatty(), log=not (quiet or as_json),
                      out=out) as progress:
        try:
            for event in build(pack, request):
                if isinstance(event, Progress):
                    progress.update(event)
                    continue
                events.append(event)
                if not (quiet or as_json):
                    echo(event, out)  # as soon as it happens; a live bar keeps itself below the lines
        except BriefError as e:
            if as_json:  # machines get their summary on stdout even when the build fails
                out.echo(json.dumps({**build_summary(events, e.exit_code), "status": "error",
                                     "error": e.format_message()}, indent=2))
            raise
    built = any(isinstance(e, Written) or (isinstance(e, Personalised) and e.built) for e in events)
    code = BUILT if built or not exit_unchanged else NOTHING_TO_DO
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
    if isinstance(event, Progress):
        return  # shown by ProgressView
    if isinstance(event, Personalised):
        out.echo(f"{shown(event.folder)}/  {personalised(event)}")
        return
    pages = f"{event.pages} page{'s' if event.pages != 1 else ''}"
    if isinstance(event, Skipped):
        first = event.pdf or event.docx or event.html  # an edition built without PDF (--format) has no pages
        if first is not None:
            out.echo(f"{shown(first)}  unchanged, skipped" + (f" ({pages})" if event.pdf else ""))
    else:
        if event.pdf is not None:
            out.echo(f"{shown(event.pdf)}  {pages} (budget {event.budget})")
        for path in (event.html, event.docx):  # the Word file only when asked (--format docx)
            if path is not None:
                out.echo(shown(path))
        if event.archival is not None:
            out.echo(f"{shown(event.archival)}  archival copy (PDF/A-3u, content files attached)")


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
                          for f in e.files if f.path.endswith((".pdf", ".html", ".docx"))],
            })
    recipients = [{"audience": e.audience, "built": e.built, "skipped": e.skipped, "removed": e.removed,
                   "files": [{"id": f.id, "path": f"build/{f.path}", "sha256": f.sha256, "bytes": f.bytes,
                              "pages": f.pages} for f in e.files]}
                  for e in events if isinstance(e, Personalised)]
    built = any(e["status"] == "built" for e in editions) or any(r["built"] for r in recipients)
    return {"format_version": JSON_FORMAT_VERSION, "status": "built" if built else "unchanged",
            "exit_code": code, "editions": editions, **({"recipients": recipients} if recipients else {}),
            "warnings": [warning_dict(e.problem or e.message) for e in events if isinstance(e, Warned)]}


def personalised(event: Personalised) -> str:
    """Say how many personalised PDFs were printed, kept and removed."""
    parts = [f"{event.built} personalised PDF{'s' if event.built != 1 else ''} built"]
    parts += [f"{event.skipped} unchanged"] if event.skipped else []
    parts += [f"{event.removed} removed (no longer listed)"] if event.removed else []
    return ", ".join(parts)


def shown(path: Path) -> str:
    """Name a path relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
