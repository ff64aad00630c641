"""A pack's vocabulary: the areas, kinds, statuses, effects and dated milestones its content may use.

Declared once, here for the built-in defaults (generic: what most agreements need) and
in an optional ``content/vocabulary.yaml`` for a pack's own words. A key a pack declares
replaces the built-in list for that kind; the list order is the display order.

    areas:
      - limits
      - {key: verification, label: Verification and inspection}
    date_kinds:
      - {key: entry into force, role: start}
      - {key: applies from, role: milestone}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from brief.content.model import Line, Strict

# What each kind of word is called in messages, and which field uses it.
KINDS: dict[str, str] = {
    "areas": "area",
    "version_kinds": "version kind",
    "version_statuses": "version status",
    "event_kinds": "event kind",
    "effects": "effect",
    "stakeholder_kinds": "stakeholder kind",
    "date_kinds": "date kind",
}

# Roles give a word its meaning for the tool: which status is current, which date starts a term.
Role = Literal["current", "pending", "ended", "start", "end", "milestone", "break"]
ROLES_FOR = {
    "version_statuses": ("current", "pending", "ended"),
    "date_kinds": ("start", "end", "milestone"),
    "event_kinds": ("break",),  # an event that interrupts the timeline (lapse, expiry): a hollow marker
}

BUILT_IN = "the built-in vocabulary"

Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60,
                                       pattern=r"^[a-z0-9][a-z0-9 '’-]*$")]


class Word(Strict):
    key: Key  # what the content writes: lower case, spaces allowed ("entry into force")
    label: Line | None = None  # what editions print; default: the key with a capital letter
    role: Role | None = None

    @property
    def title(self) -> str:
        return self.label or (self.key[:1].upper() + self.key[1:])


def _word(value: object) -> object:
    return {"key": value} if isinstance(value, str) else value


Words = list[Annotated[Word, BeforeValidator(_word)]]


class VocabularyFile(Strict):
    areas: Words | None = Field(default=None, min_length=1)
    version_kinds: Words | None = Field(default=None, min_length=1)
    version_statuses: Words | None = Field(default=None, min_length=1)
    event_kinds: Words | None = Field(default=None, min_length=1)
    effects: Words | None = Field(default=None, min_length=1)
    stakeholder_kinds: Words | None = Field(default=None, min_length=1)
    date_kinds: Words | None = Field(default=None, min_length=1)


def _words(*items: str | tuple[str, str]) -> tuple[Word, ...]:
    return tuple(Word(key=i) if isinstance(i, str) else Word(key=i[0], role=i[1]) for i in items)


BUILTIN: dict[str, tuple[Word, ...]] = {
    "areas": _words("scope", "exclusions", "obligations", "rights", "institutions", "dispute resolution",
                    "term", "withdrawal"),
    "version_kinds": _words("original", "amendment", "extension", "renewal", "suspension", "termination"),
    "version_statuses": _words(("in force", "current"), ("pending", "pending"), ("expired", "ended"),
                               ("superseded", "ended"), ("lapsed", "ended"), ("suspended", "ended"),
                               ("terminated", "ended")),
    "event_kinds": _words("signing", "entry into force", "amendment", "extension", "renewal",
                          ("suspension", "break"), ("lapse", "break"), ("expiry", "break"), "political", "other"),
    "effects": _words("narrows", "broadens", "strengthens", "weakens", "clarifies", "extends", "renews", "adds"),
    "stakeholder_kinds": _words("executive", "legislature", "foreign government", "international organisation",
                                "regulator", "court", "university", "research community", "think tank", "media",
                                "industry", "civil society", "diaspora"),
    "date_kinds": _words(("signed", "milestone"), ("effective", "start"), ("expires", "end")),
}


@dataclass(frozen=True)
class Vocabulary:
    """The words a pack may use, kind by kind, in display order, and where each list was declared."""

    words: dict[str, tuple[Word, ...]]
    declared: dict[str, str]  # kind -> "content/vocabulary.yaml:LINE" or "the built-in vocabulary"

    @classmethod
    def of(cls, file: VocabularyFile | None, places: dict[str, str] | None = None) -> Vocabulary:
        """Return the pack's vocabulary: its declared lists, the built-in ones for the rest."""
        words, declared = dict(BUILTIN), dict.fromkeys(BUILTIN, BUILT_IN)
        for kind in KINDS:
            mine = getattr(file, kind, None) if file is not None else None
            if mine:
                words[kind] = tuple(mine)
                declared[kind] = (places or {}).get(kind, "content/vocabulary.yaml")
        return cls(words, declared)

    def keys(self, kind: str) -> tuple[str, ...]:
        return tuple(w.key for w in self.words[kind])

    def label(self, kind: str, key: str) -> str:
        """Return how editions print a word ("Limits on deployed forces"); an unknown key as written."""
        word = next((w for w in self.words[kind] if w.key == key), None)
        return word.title if word else key[:1].upper() + key[1:]

    def effect_words(self) -> dict[str, str]:
        """Return how each effect reads in a summary of changes: its label, in lower case."""
        return {w.key: w.title[:1].lower() + w.title[1:] for w in self.words["effects"]}

    def role(self, kind: str, key: str) -> str | None:
        """Return what a word means to the tool (its role), or None."""
        return next((w.role for w in self.words[kind] if w.key == key), None)

    def with_role(self, kind: str, role: str) -> tuple[str, ...]:
        return tuple(w.key for w in self.words[kind] if w.role == role)

    def order(self, kind: str, keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
        """Return keys in the vocabulary's display order (unknown ones last, as given)."""
        known = self.keys(kind)
        return [k for k in known if k in keys] + [k for k in keys if k not in known]

    def unknown(self, kind: str, key: str) -> str | None:
        """Return the message for a word the vocabulary does not declare, or None when it does."""
        if key in self.keys(kind):
            return None
        return (f"'{key}' is not one of this pack's {kind.replace('_', ' ')}: {', '.join(self.keys(kind))} "
                f"(declared in {self.declared[kind]}); use one of them, or add it to '{kind}' in "
                "content/vocabulary.yaml")
