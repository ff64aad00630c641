"""`brief check` for the command line: counts by kind, then each warning with its place."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from brief.content import model as m
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
    disputes = list(_disputes(c))
    if disputes:
        lines.append(f"{len(disputes)} dispute{'s' if len(disputes) != 1 else ''} between sources (editions show each "
                     "beside its item):")
        lines += [f"  {what}: {who}" for what, who in disputes]
    if c.warnings:
        lines.append(f"{len(c.warnings)} warning{'s' if len(c.warnings) != 1 else ''}:")
        lines += [f"warning: {w}" for w in c.warnings]
    lines.append("ok: content is valid")
    return "\n".join(lines)


def _disputes(c: Content) -> Iterator[tuple[str, str]]:
    """Yield (the disputed item, the sources that disagree) for every dispute in the pack."""
    for a in c.assessments:
        if a.dispute is not None:
            yield f"assessment '{a.id}'", _who(a.dispute)
    for v in c.versions.versions if c.versions else []:
        for p in v.provisions:
            if p.dispute is not None:
                yield f"provision '{p.key}' of '{v.id}'", _who(p.dispute)


def _who(dispute: m.Dispute) -> str:
    about = f"{dispute.about} " if dispute.about else ""
    return about + "(" + " vs ".join(claim.source.source for claim in dispute.claims) + ")"
