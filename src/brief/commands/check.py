"""`brief check` for the command line: counts by kind, then each warning with its place."""
from __future__ import annotations

from pathlib import Path

from brief.content.load import Content
from brief.edition.checks import load_pack


def run_check(pack: Path) -> str:
    """Validate the pack and return its summary (ContentError when it is invalid)."""
    return summary(load_pack(pack))


def summary(c: Content) -> str:
    """Return the counts by kind, then each warning with its place."""
    counts = [
        ("sources", len(c.sources)),
        ("assessments", len(c.assessments)),
        ("stakeholders", len(c.stakeholders)),
        ("versions", len(c.versions.versions) if c.versions else 0),
        ("provisions", sum(len(v.provisions) for v in c.versions.versions) if c.versions else 0),
        ("timeline events", len(c.events)),
        ("figures", len(c.figures)),
        ("recommendations", len(c.recommendations)),
        ("questions", len(c.questions)),
        ("glossary terms", len(c.terms)),
        ("audiences", len(c.audiences)),
    ]
    width = max(len(k) for k, _ in counts)
    lines = [f"{c.pack.title} — edition {c.pack.edition}, as of {c.pack.as_of.isoformat()}"]
    lines += [f"  {k:<{width}}  {v}" for k, v in counts if v]
    lines.append(f"  audiences: {', '.join(sorted(c.audiences))}")
    if c.warnings:
        lines.append(f"{len(c.warnings)} warning{'s' if len(c.warnings) != 1 else ''}:")
        lines += [f"warning: {w}" for w in c.warnings]
    lines.append("ok: content is valid")
    return "\n".join(lines)
