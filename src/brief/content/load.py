"""Load a pack's content: parse, validate, cross-check, and report every problem at once."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import ValidationError

from brief.content import model as m
from brief.errors import ContentError, Problem, UsageError
from brief.content.yamlload import Document, dotted, load as load_yaml


@dataclass(frozen=True)
class Content:
    """A validated pack: every file's model, plus where each file came from."""

    root: Path
    pack: m.Pack
    sources: dict[str, m.Source]
    assessments: list[m.Assessment]
    stakeholders: list[m.Stakeholder]
    versions: m.VersionsFile | None
    events: list[m.TimelineEvent]
    figures: list[m.Figure]
    recommendations: list[m.Recommendation]
    questions: list[m.Question]
    terms: list[m.Term]
    audiences: dict[str, m.Audience]
    distribution: m.DistributionFile | None
    files: dict[str, Path]  # display name ("content/pack.yaml") -> path
    warnings: list[Problem] = field(default_factory=list)

    def source_order(self) -> list[str]:
        """Return source ids in the order sources.yaml lists them."""
        return list(self.sources)


Rule = Callable[["Content", dict[str, Document]], tuple[list[Problem], list[Problem]]]


def load_pack(root: Path, rules: Sequence[Rule] = ()) -> Content:
    """Load and validate the pack at root, then apply the cross-file rules and any others given.

    Raise ContentError listing every problem.
    """
    root = Path(root)
    content_dir = root / "content"
    if not content_dir.is_dir():
        what = "no content/ directory here" if root.is_dir() else "no such directory"
        raise UsageError(f"{root}: {what}; run brief in a pack directory or pass -C PACK_DIR")
    problems: list[Problem] = []
    docs: dict[str, Document] = {}
    models: dict[str, Any] = {}
    files: dict[str, Path] = {}

    for name, cls, required in m.FILES:
        path = content_dir / name
        display = f"content/{name}"
        if not path.exists():
            if required:
                problems.append(Problem(display, None, None, "", f"required file is missing; create {display} (see docs/content.md)"))
            continue
        files[display] = path
        doc, found = load_yaml(path, display)
        problems += found
        if doc is not None:
            docs[display] = doc
            models[name] = _validate(cls, doc, problems)

    audiences: dict[str, m.Audience] = {}
    audience_dir = content_dir / "audiences"
    audience_paths = sorted(audience_dir.glob("*.yaml")) if audience_dir.is_dir() else []
    for stray in sorted(audience_dir.glob("*.yml")) if audience_dir.is_dir() else []:
        problems.append(Problem(f"content/audiences/{stray.name}", None, None, "",
                                f"profiles end in .yaml; rename it to {stray.stem}.yaml or it is not read"))
    if not audience_paths:
        problems.append(Problem("content/audiences/", None, None, "",
                                "no audience profiles; add one, e.g. content/audiences/congress.yaml"))
    for path in audience_paths:
        display = f"content/audiences/{path.name}"
        files[display] = path
        doc, found = load_yaml(path, display)
        problems += found
        if doc is None:
            continue
        docs[display] = doc
        profile = _validate(m.Audience, doc, problems)
        if profile is None:
            continue
        if profile.name != path.stem:
            problems.append(doc.problem(("name",), f"'{profile.name}' does not match the file name; rename one so both say '{path.stem}'"))
        audiences[profile.name] = profile

    if problems:
        raise ContentError(problems)

    def items(name: str, attr: str) -> list:
        return list(getattr(models[name], attr)) if name in models else []

    content = Content(
        root=root,
        pack=models["pack.yaml"],
        sources={s.id: s for s in models["sources.yaml"].sources},
        assessments=items("assessments.yaml", "assessments"),
        stakeholders=items("stakeholders.yaml", "stakeholders"),
        versions=models.get("versions.yaml"),
        events=items("timeline.yaml", "events"),
        figures=items("figures.yaml", "figures"),
        recommendations=items("recommendations.yaml", "recommendations"),
        questions=items("questions.yaml", "questions"),
        terms=items("glossary.yaml", "terms"),
        audiences=audiences,
        distribution=models.get("distribution.yaml"),
        files=files,
    )
    from brief.content.rules import crosscheck  # kept apart: the rules are many and grow

    problems, warnings = crosscheck(content, docs, models["sources.yaml"].sources)
    for rule in rules:
        more, also = rule(content, docs)
        problems, warnings = problems + more, warnings + also
    if problems:
        raise ContentError(problems)
    content.warnings.extend(warnings)
    return content


def _validate(cls, doc: Document, problems: list[Problem]):
    try:
        return cls.model_validate(doc.data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            problems.append(_problem(doc, err))
        return None


_ID_PATTERN = "^[a-z0-9][a-z0-9-]*$"


def _problem(doc: Document, err: dict) -> Problem:
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "[")))
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "missing":
        return doc.problem(loc[:-1], f"required field '{loc[-1]}' is missing; add it", where=dotted(loc))
    if kind == "extra_forbidden":
        return doc.problem(loc, f"unknown field '{loc[-1]}'; remove it or fix its spelling (see docs/content.md)", key=True)
    return doc.problem(loc, _message(kind, value, ctx, err["msg"]))


def _message(kind: str, value: Any, ctx: dict, default: str) -> str:
    if value is None and kind.endswith("_type"):
        return "empty value; write a value, or remove the key if it is optional"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{value!r} is not one of {', '.join(choices)}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern == _ID_PATTERN:
            return f"{value!r} is not a valid id; use lower-case letters, digits and hyphens"
        if "@" in pattern:
            return f"{value!r} is not an email address"
        if "https?" in pattern:
            return f"{value!r} is not an http(s) URL"
        return f"{value!r} has the wrong form (expected {pattern})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_type":
        return f"expected text, got {_kind_of(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_kind_of(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (key: value), got {_kind_of(value)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{value!r} is not a whole number"
    if kind in ("float_parsing", "float_type"):
        return f"{value!r} is not a number"
    if kind in ("timezone_aware",):
        return f"{value!r} needs a time zone, e.g. 2025-01-06T09:00:00-05:00"
    if kind.startswith("datetime"):
        return f"{value!r} is not a date-time; write e.g. 2025-01-06T09:00:00-05:00"
    if kind == "too_short" and isinstance(value, (list, tuple)):
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "value_error":
        return default.removeprefix("Value error, ")
    return default[0].lower() + default[1:] if default else kind


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r}"
