"""What templates see: an edition, its sections and entries, and the numbered citations."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from brief.compare.engine import Row
from brief.content import model as m


@dataclass(frozen=True)
class Ref:
    """One numbered citation of a source, as it appears in the text."""

    number: int
    locator: str | None = None


@dataclass(frozen=True)
class Entry:
    """An item of content with its numbered citations (and its quote's, for stakeholders)."""

    item: Any
    refs: tuple[Ref, ...] = ()
    quote_refs: tuple[Ref, ...] = ()
    dispute_refs: tuple[tuple[Ref, ...], ...] = ()  # one per claim of the item's dispute, if it has one

    @property
    def claims(self) -> list[tuple[Any, tuple[Ref, ...]]]:
        """Return the item's disputed claims, each with its numbered citations."""
        dispute = getattr(self.item, "dispute", None)
        return list(zip(dispute.claims, self.dispute_refs, strict=True)) if dispute else []


def entry(item: Any, cite: Citer) -> Entry:
    """Return an item with its citations numbered: its sources first, then its dispute's claims."""
    refs = cite(item.sources)
    dispute = getattr(item, "dispute", None)
    claims = tuple(cite([claim.source]) for claim in dispute.claims) if dispute else ()
    return Entry(item, refs, dispute_refs=claims)


@dataclass(frozen=True)
class SourceEntry:
    """A cited source in the edition's numbered list, with every locator cited."""

    number: int
    source: m.Source
    locators: tuple[str, ...]


@dataclass(frozen=True)
class FigureGroup:
    """Figures measuring one quantity: a single value, a series over time, or sources in conflict."""

    quantity: str
    entries: tuple[Entry, ...]
    chart: Markup | None = None  # drawn only where the figures disagree

    @property
    def relation(self) -> str:
        return m.figure_relation([e.item for e in self.entries])

    @property
    def conflicting(self) -> bool:
        return self.relation == "conflict"


@dataclass(frozen=True)
class ChangeRow:
    """A compared provision with the citations of both sides."""

    row: Row
    from_refs: tuple[Ref, ...]
    to_refs: tuple[Ref, ...]
    disputed: Entry | None = None  # the TO provision, when sources disagree about it: its claims are shown

    @property
    def claims(self) -> list[tuple[Any, tuple[Ref, ...]]]:
        return self.disputed.claims if self.disputed else []


@dataclass(frozen=True)
class Changes:
    """What a changes section shows: the versions, a summary line and rows by area."""

    mode: str
    from_label: str
    to_label: str
    summary: str
    areas: tuple[tuple[str, tuple[ChangeRow, ...]], ...]
    unchanged: int
    left_out: int = 0  # changed provisions in areas the profile does not show

    @property
    def redlined(self) -> bool:
        """True when some row is a word-level redline (two quoted texts), so the key is needed."""
        return any(cr.row.redline for _, rows in self.areas for cr in rows)


@dataclass(frozen=True)
class Scope:
    """What a scope section shows: the version in force and its provisions in the chosen areas."""

    version: m.Version
    areas: tuple[str, ...]
    groups: dict[str, tuple[Entry, ...]]


@dataclass(frozen=True)
class TailoredSection:
    """One section of an edition: its heading and what it shows."""

    kind: str
    title: str
    template: str
    intro: str | None = None
    entries: tuple = ()
    data: Any = None  # kind-specific: Changes, the scope's version, the timeline SVG
    wide: bool = False  # runs the full width of a multi-column layout
    number: int = 0  # its place in the edition, from 1: ids and headings use it


@dataclass(frozen=True)
class Run:
    """Consecutive sections that flow together: in columns, or one wide section across them."""

    wide: bool
    sections: tuple[TailoredSection, ...]


@dataclass(frozen=True)
class Edition:
    """Everything a template needs for one audience, in reading order."""

    audience: m.Audience
    pack: m.Pack
    slug: str
    bottom_line: Entry | None
    contact: m.Contact | None
    sections: tuple[TailoredSection, ...]
    sources: tuple[SourceEntry, ...] = field(default=())

    @property
    def runs(self) -> tuple[Run, ...]:
        """Group the sections for layout: each wide one alone, the others in runs that share columns.

        A wide section is never placed inside a multi-column box (CSS column-span), which
        WeasyPrint can lay out wrongly across a page break: rows dropped, or a crash.
        """
        runs: list[Run] = []
        for section in self.sections:
            if runs and not section.wide and not runs[-1].wide:
                runs[-1] = Run(False, (*runs[-1].sections, section))
            else:
                runs.append(Run(section.wide, (section,)))
        return tuple(runs)


class Citer:
    """Number sources in order of first citation, collecting locators."""

    def __init__(self, sources: dict[str, m.Source]):
        self._sources = sources
        self._numbers: dict[str, int] = {}
        self._locators: dict[str, list[str]] = defaultdict(list)

    def __call__(self, cites: Iterable[m.Citation]) -> tuple[Ref, ...]:
        refs: list[Ref] = []
        for c in cites:
            n = self._numbers.setdefault(c.source, len(self._numbers) + 1)
            if c.locator and c.locator not in self._locators[c.source]:
                self._locators[c.source].append(c.locator)
            if all(r.number != n for r in refs):
                refs.append(Ref(n, c.locator))
        return tuple(sorted(refs, key=lambda r: r.number))  # [1, 3], not [3, 1]

    def entries(self) -> tuple[SourceEntry, ...]:
        return tuple(SourceEntry(n, self._sources[sid], merge_locators(self._locators[sid]))
                     for sid, n in self._numbers.items())


_PARAS = re.compile(r"^paras?\.\s*(\d+(?:\s*[–-]\s*\d+)?(?:\s*,\s*\d+(?:\s*[–-]\s*\d+)?)*)$")


def merge_locators(locators: list[str]) -> tuple[str, ...]:
    """Return each locator once: paragraph numbers merged and sorted ("paras. 1–3, 7"), the others in order."""
    numbers: set[int] = set()
    others: list[str] = []
    for locator in locators:
        found = _PARAS.match(locator.strip())
        if found is None:
            others += [locator] if locator not in others else []
            continue
        for part in found.group(1).split(","):
            lo, _, hi = part.replace("-", "–").partition("–")
            numbers.update(range(int(lo), int(hi or lo) + 1))
    return ((_paragraphs(numbers),) if numbers else ()) + tuple(others)


def _paragraphs(numbers: set[int]) -> str:
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
    return f"{'paras' if len(numbers) > 1 else 'para'}. {text}"
