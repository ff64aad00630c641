"""What changed in a pack's content between two snapshots, item by item.

Items are matched by id (provisions by version and key, glossary terms by the
term). Short fields are reported as "old → new" (an assessment's confidence, a
figure's value or date); long ones (texts, sources, disputes) as "changed", with
both values kept for the JSON form. The pack's own edition and date are not
changes: every edition has new ones.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from brief.content.model import AUDIENCE_ALL


@dataclass(frozen=True)
class Kind:
    """One list of items: where it is in a snapshot, what an item is called, which fields count."""

    name: str  # the list in the snapshot ("figures")
    noun: str  # "figure"
    title: tuple[str, ...]  # fields that name an item, first one set wins
    short: tuple[str, ...] = ()  # reported as "old → new"
    long: tuple[str, ...] = ()  # reported as "changed"
    key: str = "id"


KINDS: tuple[Kind, ...] = (
    Kind("assessments", "assessment", ("headline",), ("confidence", "basis", "priority"),
         ("headline", "body", "dispute", "audiences", "sources")),
    Kind("figures", "figure", ("label",), ("value", "qualifier", "unit", "as_of", "relation", "quantity"),
         ("label", "audiences", "sources")),
    Kind("stakeholders", "stakeholder", ("name",), ("stance", "kind", "country", "priority"),
         ("name", "position", "interests", "quote", "audiences", "sources")),
    Kind("events", "timeline event", ("title",), ("date", "kind"), ("title", "description", "audiences", "sources")),
    Kind("versions", "version", ("label",), ("status", "kind", "signed", "effective", "expires"),
         ("label", "dates", "summary", "inherits", "not_stated", "drops", "sources")),
    Kind("provisions", "provision", ("key",), ("area", "form", "effect"), ("text", "dispute", "replaces", "sources"),
         key="uid"),
    Kind("recommendations", "recommendation", ("text",), ("audience", "basis", "priority"),
         ("text", "rationale", "sources")),
    Kind("questions", "question", ("question",), ("basis",), ("question", "answer", "audiences", "sources")),
    Kind("terms", "glossary term", ("term",), (), ("definition", "sources"), key="term"),
    Kind("sources", "source", ("title", "description"), ("date", "kind", "author", "publisher", "url"),
         ("title", "description", "undated", "file")),
)
BY_NAME = {k.name: k for k in KINDS}
_WORDS = {"as_of": "as of", "body": "text", "not_stated": "areas not stated", "undated": "why undated"}
TITLE_WIDTH = 70


@dataclass(frozen=True)
class FieldChange:
    """One field of an item that differs."""

    field: str
    old: Any
    new: Any
    long: bool = False

    def text(self) -> str:
        """Say the change: 'confidence moderate → high', or 'text changed' for a long field."""
        label = _WORDS.get(self.field, self.field.replace("_", " "))
        if self.long:
            return f"{label} changed"
        return f"{label} {_value(self.old)} → {_value(self.new)}"


@dataclass(frozen=True)
class ItemChange:
    """An item added, removed or changed."""

    kind: str  # a Kind's name
    change: str  # "added", "removed", "changed"
    id: str
    title: str
    fields: tuple[FieldChange, ...] = ()
    audiences: tuple[str, ...] = (AUDIENCE_ALL,)
    sources: tuple[dict[str, Any], ...] = ()  # the citations of the item as it is now (or was, if removed)

    @property
    def noun(self) -> str:
        return BY_NAME[self.kind].noun

    def sentence(self) -> str:
        """Say the change in one sentence, e.g. 'Figure “Ships covered”: value 1200 → 1300.'"""
        name = f"{self.noun[:1].upper()}{self.noun[1:]} “{self.title}”"
        if self.change == "added":
            return f"New {self.noun}: “{self.title}”."
        if self.change == "removed":
            return f"Removed {self.noun}: “{self.title}”."
        return f"{name}: {'; '.join(f.text() for f in self.fields)}."

    def shown_to(self, audience: str) -> bool:
        """True when the item (as it was or is) is meant for the audience."""
        return AUDIENCE_ALL in self.audiences or audience in self.audiences


@dataclass(frozen=True)
class ContentChanges:
    """Every item that differs between two snapshots, in the order of KINDS, then as the files list them."""

    items: tuple[ItemChange, ...]

    def for_audience(self, audience: str) -> ContentChanges:
        return ContentChanges(tuple(i for i in self.items if i.shown_to(audience)))

    def counts(self) -> dict[str, int]:
        found = Counter(i.change for i in self.items)
        return {c: found.get(c, 0) for c in ("added", "removed", "changed")}

    def summary(self) -> str:
        """Say how much changed: 'no changes', or '2 changes (1 assessment changed, 1 figure changed)'."""
        if not self.items:
            return "no changes"
        groups = Counter((i.kind, i.change) for i in self.items)
        parts = [f"{n} {BY_NAME[k].noun}{'s' if n != 1 else ''} {c}" for (k, c), n in groups.items()]
        n = len(self.items)
        return f"{n} change{'s' if n != 1 else ''} ({', '.join(parts)})"


def content_changes(old: dict[str, Any], new: dict[str, Any]) -> ContentChanges:
    """Return the item-by-item changes from snapshot `old` to snapshot `new` (their "content" parts)."""
    found: list[ItemChange] = []
    for kind in KINDS:
        before, after = _items(old, kind), _items(new, kind)
        for key, item in after.items():
            if key not in before:
                found.append(_change(kind, "added", key, item))
            else:
                fields = tuple(_fields(kind, before[key], item))
                if fields:
                    found.append(_change(kind, "changed", key, item, fields, before[key]))
        found += [_change(kind, "removed", key, item) for key, item in before.items() if key not in after]
    return ContentChanges(tuple(found))


def _items(snapshot: dict[str, Any], kind: Kind) -> dict[str, dict[str, Any]]:
    """Return a list of the snapshot as {key: item}; provisions are taken out of their versions."""
    if kind.name == "provisions":
        return {f"{v.get('id')}/{p.get('key')}": {**p, "version": v.get("label") or v.get("id")}
                for v in _list(snapshot, "versions") for p in v.get("provisions") or [] if isinstance(p, dict)}
    return {str(x.get(kind.key)): x for x in _list(snapshot, kind.name)}


def _list(snapshot: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found = snapshot.get(name)
    return [x for x in found if isinstance(x, dict)] if isinstance(found, list) else []


def _fields(kind: Kind, old: dict[str, Any], new: dict[str, Any]) -> Iterator[FieldChange]:
    for name in kind.short:
        if old.get(name) != new.get(name):
            yield FieldChange(name, old.get(name), new.get(name))
    for name in kind.long:
        if old.get(name) != new.get(name):
            yield FieldChange(name, old.get(name), new.get(name), long=True)


def _change(kind: Kind, change: str, key: str, item: dict[str, Any], fields: tuple[FieldChange, ...] = (),
            before: dict[str, Any] | None = None) -> ItemChange:
    audiences = {*_audiences(item), *_audiences(before or {})}
    sources = tuple(c for c in item.get("sources") or [] if isinstance(c, dict))
    return ItemChange(kind.name, change, key, _title(kind, item), fields, tuple(sorted(audiences)), sources)


def _audiences(item: dict[str, Any]) -> list[str]:
    if "audiences" in item:
        return [str(a) for a in item.get("audiences") or []]
    if "audience" in item:  # a recommendation names one audience
        return [str(item["audience"])]
    return [AUDIENCE_ALL] if item else []


def _title(kind: Kind, item: dict[str, Any]) -> str:
    text = next((str(item[f]) for f in kind.title if item.get(f)), str(item.get(kind.key, "")))
    if kind.name == "provisions":
        text = f"{item.get('version')}, {item.get('area')}: {item.get('key')}"
    text = " ".join(text.split())
    if len(text) <= TITLE_WIDTH:
        return text
    return text[:TITLE_WIDTH].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _value(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
