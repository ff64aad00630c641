"""`brief check` for the command line: counts by kind, then each warning with its place."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from brief.commands import JSON_FORMAT_VERSION, Output
from brief.content import model as m
from brief.content.load import Content
from brief.edition.checks import load_pack
from brief.errors import BriefError, ContentError, WarningsAsErrors


def run_check(pack: Path, strict: bool = False, as_json: bool = False) -> int:
    """Validate the pack, print its summary (or JSON), and return the exit code."""
    out = Output()
    try:
        content = load_pack(pack)
        if strict and content.warnings:
            raise WarningsAsErrors(content.warnings)
    except BriefError as e:
        if as_json:
            out.echo(json.dumps(failed(e), indent=2, ensure_ascii=False))
        raise
    out.echo(json.dumps(as_dict(content), indent=2, ensure_ascii=False) if as_json else summary(content))
    out.check()
    return 0


def failed(e: BriefError) -> dict[str, Any]:
    """Return the --json document of a check that found problems."""
    problems = e.problems if isinstance(e, ContentError) else []
    strict = isinstance(e, WarningsAsErrors)  # the warnings failed the check; they stay marked as warnings
    return {"format_version": JSON_FORMAT_VERSION, "status": "invalid", "exit_code": e.exit_code,
            "problems": [] if strict else [p.as_dict() for p in problems],
            "warnings": [p.as_dict("warning") for p in problems] if strict else [],
            "error": None if problems else e.format_message()}


def as_dict(c: Content) -> dict[str, Any]:
    """Return the --json document of a valid pack: counts, audiences, disputes and warnings."""
    return {"format_version": JSON_FORMAT_VERSION, "status": "valid", "exit_code": 0,
            "title": c.pack.title, "edition": c.pack.edition, "as_of": c.pack.as_of.isoformat(),
            "counts": dict(_counts(c)), "audiences": sorted(c.audiences),
            "disputes": [{"item": what, "sources": who} for what, who in _disputes(c)],
            "problems": [], "warnings": [w.as_dict("warning") for w in c.warnings]}


def _counts(c: Content) -> list[tuple[str, int]]:
    return [
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
        ("recipients", len(c.recipients)),
    ]


def summary(c: Content) -> str:
    """Return the counts by kind, then each warning with its place."""
    counts = _counts(c)
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
