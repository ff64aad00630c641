"""Check every vocabulary word a pack uses (areas, kinds, statuses, effects, date kinds) against its vocabulary."""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from brief.content.vocabulary import BUILT_IN, ROLES_FOR
from brief.content.yamlload import Document
from brief.errors import Problem

if TYPE_CHECKING:
    from brief.content.load import Content

Use = tuple[str, tuple, str]  # (vocabulary kind, path in the file, the word as written)


def vocabulary_problems(c: Content, docs: dict[str, Document]) -> list[Problem]:
    """Return a placed problem for each word the vocabulary does not declare, and for each declared twice."""
    problems = _declared_twice(docs.get("content/vocabulary.yaml")) + _roles(c, docs.get("content/vocabulary.yaml"))
    for file, uses in _uses(c):
        doc = docs.get(file)
        for kind, path, word in uses:
            why = c.vocabulary.unknown(kind, word)
            if why and doc is not None:
                problems.append(doc.problem(path, why, key=kind == "date_kinds"))
    return problems


def _roles(c: Content, doc: Document | None) -> list[Problem]:
    """A role means something only for some kinds of word (a status is current, a date starts a term)."""
    if doc is None:
        return []
    problems = []
    for kind, words in c.vocabulary.words.items():
        allowed = ROLES_FOR.get(kind, ())
        for i, word in enumerate(words):
            if word.role is not None and word.role not in allowed and c.vocabulary.declared[kind] != BUILT_IN:
                where = ", ".join(allowed) if allowed else "none: leave it out"
                problems.append(doc.problem((kind, i, "role"), f"role '{word.role}' means nothing for {kind}; "
                                            f"roles there: {where}"))
    return problems


def _declared_twice(doc: Document | None) -> list[Problem]:
    if doc is None or not isinstance(doc.data, dict):
        return []
    problems = []
    for kind, items in doc.data.items():
        seen: dict[str, int] = {}
        for i, item in enumerate(items if isinstance(items, list) else []):
            key = item.get("key") if isinstance(item, dict) else item
            if not isinstance(key, str):
                continue
            key = key.strip()
            if key in seen:
                first = doc.place((kind, seen[key]))[0]
                problems.append(doc.problem((kind, i), f"'{key}' is declared twice in '{kind}' (first at line "
                                            f"{first}); declare each once"))
            seen.setdefault(key, i)
    return problems


def _uses(c: Content) -> Iterator[tuple[str, list[Use]]]:
    """Yield, file by file, every vocabulary word the content uses with its place."""
    if c.versions is not None:
        yield "content/versions.yaml", list(_version_words(c))
    yield "content/timeline.yaml", [("event_kinds", ("events", i, "kind"), e.kind) for i, e in enumerate(c.events)]
    yield "content/stakeholders.yaml", [("stakeholder_kinds", ("stakeholders", i, "kind"), s.kind)
                                        for i, s in enumerate(c.stakeholders)]
    for name, profile in c.audiences.items():
        yield f"content/audiences/{name}.yaml", [("areas", ("sections", i, "areas", j), area)
                                                 for i, section in enumerate(profile.sections)
                                                 for j, area in enumerate(section.areas)]


def _version_words(c: Content) -> Iterator[Use]:
    assert c.versions is not None
    for i, v in enumerate(c.versions.versions):
        path = ("versions", i)
        yield "version_kinds", path + ("kind",), v.kind
        yield "version_statuses", path + ("status",), v.status
        for field in ("signed", "effective", "expires"):
            if getattr(v, field) is not None:
                yield "date_kinds", path + (field,), field
        for kind in v.dates:
            yield "date_kinds", path + ("dates", kind), kind
        for j, area in enumerate(v.not_stated):
            yield "areas", path + ("not_stated", j), area
        for j, p in enumerate(v.provisions):
            yield "areas", path + ("provisions", j, "area"), p.area
            if p.effect is not None:
                yield "effects", path + ("provisions", j, "effect"), p.effect
