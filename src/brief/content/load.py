"""Load a pack's content: parse, validate, cross-check, and report every problem at once."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from brief.content import model as m
from brief.content.recipients import Recipient, load_recipients
from brief.content.vocabulary import KINDS, Vocabulary, VocabularyFile
from brief.content.yamlload import Document, dotted, file_problem
from brief.content.yamlload import load as load_yaml
from brief.errors import ContentError, Problem, UsageError


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
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary.of(None))
    warnings: list[Problem] = field(default_factory=list)
    recipients: tuple[Recipient, ...] = ()  # content/recipients.csv or .yaml: who gets a personalised copy
    recipient_notes: list[m.RecipientNote] = field(default_factory=list)  # what covers say, by group


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
    files: dict[str, Path] = {}
    models = _load_files(root, docs, files, problems)
    audiences = _load_audiences(root, docs, files, problems)
    recipients = _load_recipients(root, audiences, files, problems)

    if problems:
        raise ContentError(problems)

    def items(name: str, attr: str) -> list:
        return list(getattr(models[name], attr)) if name in models else []

    content = Content(
        root=root,
        pack=models["pack.yaml"],
        sources={s.id: _titled(root, s) for s in models["sources.yaml"].sources},
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
        vocabulary=_vocabulary(models.get("vocabulary.yaml"), docs.get("content/vocabulary.yaml")),
        recipients=recipients,
        recipient_notes=items("recipient_notes.yaml", "notes"),
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


def _load_files(root: Path, docs: dict[str, Document], files: dict[str, Path],
                problems: list[Problem]) -> dict[str, Any]:
    """Load and validate each file of m.FILES present; return {file name: model}."""
    models: dict[str, Any] = {}
    for name, cls, required in (*m.FILES, ("vocabulary.yaml", VocabularyFile, False)):
        path = root / "content" / name
        display = f"content/{name}"
        if not os.path.lexists(path):  # a dangling symlink is there, and is reported as one
            if required:
                problems.append(Problem(display, None, None, "",
                                        f"required file is missing; create {display} (see docs/content.md)"))
            continue
        files[display] = path
        doc, found = load_yaml(path, display, root)
        problems += found
        if doc is not None:
            docs[display] = doc
            models[name] = _validate(cls, doc, problems)
    return models


def _load_recipients(root: Path, audiences: dict[str, m.Audience], files: dict[str, Path],
                     problems: list[Problem]) -> tuple[Recipient, ...]:
    """Load content/recipients.csv or .yaml, adding its problems to the others."""
    try:
        recipients = load_recipients(root, audiences)
    except ContentError as e:
        problems += e.problems
        return ()
    if recipients:
        files[recipients[0].file] = root / recipients[0].file
    return recipients


def _titled(root: Path, source: m.Source) -> m.Source:
    """Return the source with its full title read from the line of its copy that `title_line` names.

    Without a readable copy (a pack copied without it) the source keeps its `title:`, if it has one.
    """
    if source.title_line is None or source.file is None or file_problem(root / source.file, root) is not None:
        return source
    try:
        lines = (root / source.file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return source
    line = lines[source.title_line - 1] if source.title_line <= len(lines) else ""
    title = " ".join(line.lstrip("#").split())
    return source.model_copy(update={"title": title or None})


def _vocabulary(file: VocabularyFile | None, doc: Document | None) -> Vocabulary:
    """Return the pack's vocabulary, each declared list placed at its line for messages."""
    places = {}
    if doc is not None:
        for kind in KINDS:
            line = doc.key_marks.get((kind,), (None, None))[0]
            places[kind] = f"content/vocabulary.yaml:{line}" if line else "content/vocabulary.yaml"
    return Vocabulary.of(file, places)


def _load_audiences(root: Path, docs: dict[str, Document], files: dict[str, Path],
                    problems: list[Problem]) -> dict[str, m.Audience]:
    """Load and validate each content/audiences/*.yaml; return {name: profile}."""
    audiences: dict[str, m.Audience] = {}
    audience_dir = root / "content" / "audiences"
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
        doc, found = load_yaml(path, display, root)
        problems += found
        if doc is None:
            continue
        docs[display] = doc
        profile = _validate(m.Audience, doc, problems)
        if profile is None:
            continue
        if profile.name != path.stem:
            problems.append(doc.problem(("name",), f"'{profile.name}' does not match the file name; "
                                        f"rename one so both say '{path.stem}'"))
        audiences[profile.name] = profile
    return audiences


def _validate(cls, doc: Document, problems: list[Problem]):
    try:
        return cls.model_validate(doc.data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            problems.append(_problem(doc, err))
        return None


_ID_PATTERN = "^[a-z0-9][a-z0-9-]*$"


def _problem(doc: Document, err: ErrorDetails) -> Problem:
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "[")))
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "missing":
        return doc.problem(loc[:-1], f"required field '{loc[-1]}' is missing; add it", where=dotted(loc))
    if kind == "extra_forbidden":
        return doc.problem(loc, f"unknown field '{m.visible(str(loc[-1]))}'; remove it or fix its spelling "
                           "(see docs/content.md)", key=True)
    return doc.problem(loc, _message(kind, value, ctx, err["msg"]))


def _message(kind: str, value: Any, ctx: dict, default: str) -> str:
    if value is None and kind.endswith("_type"):
        return "empty value; write a value, or remove the key if it is optional"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{m.shown(value)} is not one of {', '.join(choices)}"
    if kind == "string_pattern_mismatch":
        return _pattern_message(value, ctx.get("pattern", ""))
    if kind in _MESSAGES:
        return _MESSAGES[kind](value)
    if kind.startswith("datetime"):
        return f"{m.shown(value)} is not a date-time; write e.g. 2025-01-06T09:00:00-05:00"
    if kind == "too_short" and isinstance(value, (list, tuple)):
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "value_error":
        return default.removeprefix("Value error, ")
    return default[0].lower() + default[1:] if default else kind


def _pattern_message(value: Any, pattern: str) -> str:
    if pattern == _ID_PATTERN:
        return f"{m.shown(value)} is not a valid id; use lower-case letters, digits and hyphens"
    if "@" in pattern:
        return f"{m.shown(value)} is not an email address"
    if "https?" in pattern:
        return f"{m.shown(value)} is not an http(s) URL"
    return f"{m.shown(value)} has the wrong form (expected {pattern})"


def _whole(value: Any) -> str:
    return f"{m.shown(value)} is not a whole number"


def _number(value: Any) -> str:
    return f"{m.shown(value)} is not a number"


def _mapping(value: Any) -> str:
    return f"expected a mapping (key: value), got {_kind_of(value)}"


def _list(value: Any) -> str:
    return f"expected a list, got {_kind_of(value)}"


# Messages that depend on the value only, by pydantic error type.
_MESSAGES: dict[str, Callable[[Any], str]] = {
    "string_too_short": lambda value: "must not be empty",
    "string_type": lambda value: f"expected text, got {_kind_of(value)}",
    "list_type": _list, "tuple_type": _list,
    "model_type": _mapping, "dict_type": _mapping, "model_attributes_type": _mapping,
    "int_parsing": _whole, "int_type": _whole, "int_from_float": _whole,
    "float_parsing": _number, "float_type": _number, "decimal_parsing": _number, "decimal_type": _number,
    "finite_number": lambda value: f"must be a finite number, not {m.shown(value)}; write the value in digits",
    "timezone_aware": lambda value: f"{m.shown(value)} needs a time zone, e.g. 2025-01-06T09:00:00-05:00",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return m.shown(value)
