"""Turn an error into what the preview page shows: the CLI's text, and each problem with its line of source."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from brief.content.yamlload import MAX_FILE_BYTES
from brief.errors import BriefError, ContentError, Problem
from brief.templating import builtin_templates, contained

_BUILT_IN = "built-in templates/"
_MAX_LINE = 300


@dataclass(frozen=True)
class Placed:
    """One problem: where, what, and the line it is on (as the author wrote it)."""

    place: str  # file:line:col
    message: str  # field: message
    line_no: int | None
    col: int | None
    line: str | None


@dataclass(frozen=True)
class Report:
    """Why the preview cannot show an edition."""

    text: str  # exactly what the command line prints
    problems: tuple[Placed, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the report for the page's JSON state."""
        return {"text": self.text, "problems": [asdict(p) for p in self.problems]}


def describe(error: BriefError, root: Path) -> Report:
    """Return what the page shows for an error: its CLI text, and its problems placed in their files."""
    problems = error.problems if isinstance(error, ContentError) else []
    return Report(error.format_message(), tuple(_placed(p, root) for p in problems))


def unexpected(error: Exception) -> Report:
    """Return the report for an error brief did not foresee (a bug), so the preview keeps running."""
    return Report(f"unexpected {type(error).__name__}: {error}. This is a bug in brief, not in your pack: "
                  "please report it; the preview goes on and tries again at the next save")


def _placed(problem: Problem, root: Path) -> Placed:
    place = str(problem).split("\n", 1)[0]
    message = f"{problem.where}: {problem.message}" if problem.where else problem.message
    head = place[: len(place) - len(message)].rstrip(": ")
    line = problem.snippet.rstrip("\n") if problem.snippet else _source_line(root, problem.file, problem.line)
    return Placed(head, message, problem.line, problem.col, line)


def _source_line(root: Path, file: str, number: int | None) -> str | None:
    """Return line `number` of a pack file (or a built-in template), or None when there is none to show."""
    if not number or number < 1:
        return None
    if file.startswith(_BUILT_IN):
        base = builtin_templates("editions")
        path = contained(base / file.removeprefix(_BUILT_IN), [base])
    else:
        path = contained(Path(root) / file, [Path(root)])
    if path is None or path.stat().st_size > MAX_FILE_BYTES:  # the loader refused it before any line was read
        return None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines[number - 1][:_MAX_LINE] if number <= len(lines) else None
