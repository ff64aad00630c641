"""Select and order a pack's content for one audience, numbering citations as they appear."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from markupsafe import Markup

from brief import model as m
from brief.compare import Comparison, Row, compare
from brief.crosscheck import resolved_provisions
from brief.load import Content
from brief.svg import Marker, comparison_svg, spans_of, timeline_svg

# Headings for sections whose profile gives no title.
DEFAULT_TITLES = {
    "bottom_line": "Bottom line", "assessments": "Key judgements", "changes": "What changed",
    "scope": "What the agreement covers now", "provisions": "Provisions by area", "stakeholders": "Who stands where",
    "timeline": "Timeline", "figures": "Key figures", "recommendations": "Recommendations",
    "questions": "Questions and answers", "glossary": "Glossary", "contacts": "Contacts", "sources": "Sources",
}
# Areas a "summary" of changes always shows row by row: the ones readers weigh for security.
SECURITY_AREAS = ("exclusions", "intellectual property", "data", "security", "researcher safety")


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


@dataclass(frozen=True)
class SourceEntry:
    """A cited source in the edition's numbered list, with every locator cited."""

    number: int
    source: m.Source
    locators: tuple[str, ...]


@dataclass(frozen=True)
class FigureGroup:
    """Figures measuring one quantity; conflicting when their values differ."""

    quantity: str
    entries: tuple[Entry, ...]
    chart: Markup | None = None  # drawn only where the figures disagree

    @property
    def conflicting(self) -> bool:
        return len({(e.item.value, e.item.qualifier) for e in self.entries}) > 1


@dataclass(frozen=True)
class ChangeRow:
    """A compared provision with the citations of both sides."""

    row: Row
    from_refs: tuple[Ref, ...]
    to_refs: tuple[Ref, ...]


@dataclass(frozen=True)
class Changes:
    """What a changes section shows: the versions, a summary line and rows by area."""

    mode: str
    from_label: str
    to_label: str
    summary: str
    areas: tuple[tuple[str, tuple[ChangeRow, ...]], ...]
    unchanged: int


@dataclass(frozen=True)
class Section:
    """One section of an edition: its heading and what it shows."""

    kind: str
    title: str
    intro: str | None = None
    entries: tuple = ()
    data: Any = None  # kind-specific: Changes, the scope's version, the timeline SVG


@dataclass(frozen=True)
class Edition:
    """Everything a template needs for one audience, in reading order."""

    audience: m.Audience
    pack: m.Pack
    slug: str
    bottom_line: Entry | None
    contact: m.Contact | None
    sections: tuple[Section, ...]
    sources: tuple[SourceEntry, ...] = field(default=())


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
        return tuple(SourceEntry(n, self._sources[sid], tuple(self._locators[sid]))
                     for sid, n in self._numbers.items())


def slugify(text: str) -> str:
    """Return text as lower-case ASCII words joined by hyphens."""
    words = re.sub(r"[^\w]+", " ", text)  # dashes and punctuation separate words: US–China -> us-china
    ascii_ = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def edition_slug(content: Content, audience: str) -> str:
    """Return an edition's file stem, e.g. 'us-china-sta-congress'.

    pack.yaml's short_title when set ("US–China STA" gives "us-china-sta"); otherwise long
    titles shorten to the words before the phrase a parenthesised abbreviation in the title
    or topic stands for, then the abbreviation.
    """
    if content.pack.short_title:
        return f"{slugify(content.pack.short_title)}-{audience}"
    # Only pack.yaml may name the files: it is an input of every edition, so a rename rebuilds.
    words = re.sub(r"^(the|a|an)\s+", "", content.pack.title, flags=re.I).split()
    texts = [content.pack.title, content.pack.topic]
    abbr = next((mt.group(1) for t in texts for mt in [re.search(r"\(([A-Z]{2,8})\)", t)] if mt), None)
    if abbr:
        lead = next((i for i, w in enumerate(words) if w.startswith(abbr[0])), None)
        if lead is not None:
            words = words[:lead] + [abbr]
    return f"{slugify(' '.join(words))}-{audience}"


def tailor(content: Content, audience: m.Audience) -> Edition:
    """Return the edition of content for one audience profile."""
    cite = Citer(content.sources)
    kinds = [s.kind for s in audience.sections]
    bottom_line = None
    sections = []
    for spec in audience.sections:
        entries, data = (), None
        if spec.kind == "bottom_line":
            bottom_line = Entry(audience.bottom_line, cite(audience.bottom_line.sources))
        elif spec.kind != "sources":  # the sources list is complete only once every section has cited
            entries, data = _SELECT[spec.kind](content, audience, spec, cite)
            if not entries and data is None:
                continue  # nothing for this reader: no empty heading
        sections.append(Section(spec.kind, spec.title or DEFAULT_TITLES[spec.kind], spec.intro, tuple(entries), data))
    if not cite.entries():
        sections = [x for x in sections if x.kind != "sources"]  # nothing was cited: no empty list
    elif "sources" not in kinds:
        # Numbered references must resolve: an edition that cites always lists its sources.
        sections.append(Section("sources", DEFAULT_TITLES["sources"]))
    contact = next((c for c in content.pack.contacts if c.id == audience.contact), None)
    return Edition(audience, content.pack, edition_slug(content, audience.name), bottom_line, contact,
                   tuple(sections), cite.entries())


def _for(audience: m.Audience, items: Iterable) -> list:
    return [x for x in items if m.AUDIENCE_ALL in x.audiences or audience.name in x.audiences]


def _ranked(items: list, spec: m.Section) -> list:
    if spec.max_priority is not None:
        items = [x for x in items if x.priority <= spec.max_priority]
    items = sorted(items, key=lambda x: x.priority)  # stable: file order within a priority
    return items[: spec.max] if spec.max else items


def _assessments(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    return [Entry(x, cite(x.sources)) for x in _ranked(_for(a, c.assessments), spec)], None


def _stakeholders(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    out = []
    for x in _ranked(_for(a, c.stakeholders), spec):
        refs = cite(x.sources)
        out.append(Entry(x, refs, cite([x.quote.source]) if x.quote else ()))
    return out, None


def _recommendations(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    mine = [x for x in c.recommendations if x.audience == a.name]
    return [Entry(x, cite(x.sources)) for x in _ranked(mine, spec)], None


def _questions(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    items = _for(a, c.questions)[: spec.max]
    return [Entry(x, cite(x.sources)) for x in items], None


def _glossary(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    items = sorted(c.terms, key=lambda t: t.term.casefold())[: spec.max]
    return [Entry(x, cite(x.sources)) for x in items], None


def _figures(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    groups: dict[str, list[m.Figure]] = {}
    for f in _for(a, c.figures):
        groups.setdefault(f.quantity, []).append(f)
    chosen = list(groups.items())[: spec.max]
    out = []
    for quantity, figures in chosen:
        group = FigureGroup(quantity, tuple(Entry(f, cite(f.sources)) for f in figures))
        if group.conflicting:
            # Seeing the two numbers side by side, each with who gives it, is the point of the chart.
            bars = [(_worded(f), f.value, _who(c, f)) for f in figures]
            chart = comparison_svg(f"fig-{quantity}", f"{figures[0].label}: the sources disagree", bars)
            group = FigureGroup(quantity, group.entries, chart)
        out.append(group)
    return out, None


def _worded(f: m.Figure) -> str:
    return ("" if f.qualifier == "exactly" else f.qualifier + " ") + f"{f.value:,g}"


def _who(c: Content, f: m.Figure) -> str:
    """Name who gives a figure briefly: the author's name, else the publisher, else 'unsigned source'."""
    names = []
    for cite in f.sources:
        s = c.sources[cite.source]
        name = (s.author or "").split(" (")[0] or s.publisher or "unsigned source"
        names.append(f"{name}{f', {s.date.year}' if s.date else ''}")
    return "; ".join(names)


def _contacts(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    # The profile's own contact first: it is the person this audience should call.
    ordered = sorted(c.pack.contacts, key=lambda x: x.id != a.contact)
    return [Entry(x) for x in ordered[: spec.max]], None


def current_version(versions: m.VersionsFile) -> m.Version:
    """Return the version in force now (the last listed one in force, else the last listed)."""
    in_force = [v for v in versions.versions if v.status == "in force"]
    return (in_force or list(versions.versions))[-1]


def _provisions_by_area(c: Content, cite: Citer, areas: Iterable[str]):
    version = current_version(c.versions)
    provisions = resolved_provisions(list(c.versions.versions), version)
    wanted = [x for x in m.AREAS if x in set(areas)]
    groups = []
    for area in wanted:
        entries = tuple(Entry(p, cite(p.sources)) for p in provisions if p.area == area)
        if entries:
            groups.append((area, entries))
    return groups, version


def _scope(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    return _provisions_by_area(c, cite, ("scope", "exclusions"))


def _provisions(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    return _provisions_by_area(c, cite, spec.areas or m.AREAS)


def _changes(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    from_id, to_id = a.compare or (None, None)
    comparison: Comparison = compare(c.versions, from_id, to_id)
    mode = spec.mode or "table"
    areas = list(spec.areas)
    shown = []
    for area, rows in comparison.by_area(areas):
        keep = [r for r in rows if r.change != "unchanged"]
        if mode == "summary":
            keep = [r for r in keep if r.area in SECURITY_AREAS]
        if keep:
            shown.append((area, tuple(_change_row(r, cite, from_first=mode == "table") for r in keep)))
    unchanged = sum(1 for _, rows in comparison.by_area(areas) for r in rows if r.change == "unchanged")
    data = Changes(mode, comparison.from_version.label, comparison.to_version.label,
                   comparison.summary(areas), tuple(shown), unchanged)
    return [], data


def _change_row(r: Row, cite: Citer, from_first: bool) -> ChangeRow:
    # Number in reading order: a table shows FROM before TO; a list says what is new first.
    if from_first:
        from_refs = cite(r.from_sources)
        return ChangeRow(r, from_refs, cite(r.to_sources))
    to_refs = cite(r.to_sources)
    return ChangeRow(r, cite(r.from_sources), to_refs)


def _timeline(c: Content, a: m.Audience, spec: m.Section, cite: Citer):
    events = sorted(_for(a, c.events), key=lambda e: e.date.start)
    if spec.max:
        events = events[-spec.max:]  # the most recent matter most to a reader today
    entries = [Entry(e, cite(e.sources)) for e in events]
    markers = [Marker(i, e.date, e.title, e.kind) for i, e in enumerate(events, 1)]
    versions = list(c.versions.versions) if c.versions else []
    agreement = c.versions.agreement if c.versions else c.pack.title
    svg: Markup = timeline_svg(agreement, markers, spans_of(versions, c.pack.as_of), c.pack.as_of)
    return entries, svg


_SELECT = {
    "assessments": _assessments, "changes": _changes, "scope": _scope, "provisions": _provisions,
    "stakeholders": _stakeholders, "timeline": _timeline, "figures": _figures,
    "recommendations": _recommendations, "questions": _questions, "glossary": _glossary, "contacts": _contacts,
}
