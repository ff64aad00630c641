"""Choose and order what each section kind shows for one audience (the selectors the registry names)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from markupsafe import Markup

from brief.compare.engine import Comparison, Row, compare
from brief.content import model as m
from brief.content.lineage import current_version, resolved_provisions, terms
from brief.content.load import Content
from brief.edition.charts import comparison_svg
from brief.edition.timeline import Marker, Span, spread, timeline_svg
from brief.edition.views import ChangeRow, Changes, Citer, Entry, FigureGroup, Scope, entry
from brief.edition.wording import Wording

Selected = tuple[list, Any]  # (entries, kind-specific data)



def _for(audience: m.Audience, items: Iterable) -> list:
    return [x for x in items if m.AUDIENCE_ALL in x.audiences or audience.name in x.audiences]


def _ranked(items: list, spec: m.Section) -> list:
    if spec.max_priority is not None:
        items = [x for x in items if x.priority <= spec.max_priority]
    items = sorted(items, key=lambda x: x.priority)  # stable: file order within a priority
    return items[: spec.max] if spec.max else items


def assessments(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the assessments section's content."""
    return [entry(x, cite) for x in _ranked(_for(a, c.assessments), spec)], None


def stakeholders(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the stakeholders section's content."""
    out = []
    for x in _ranked(_for(a, c.stakeholders), spec):
        refs = cite(x.sources)
        out.append(Entry(x, refs, cite([x.quote.source]) if x.quote else ()))
    return out, None


def recommendations(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the recommendations section's content."""
    mine = [x for x in c.recommendations if x.audience == a.name]
    return [entry(x, cite) for x in _ranked(mine, spec)], None


def questions(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the questions section's content."""
    items = _for(a, c.questions)[: spec.max]
    return [entry(x, cite) for x in items], None


def glossary(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the glossary section's content."""
    items = sorted(c.terms, key=lambda t: t.term.casefold())[: spec.max]
    return [entry(x, cite) for x in items], None


def figures(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the figures section's content."""
    groups: dict[str, list[m.Figure]] = {}
    for f in _for(a, c.figures):
        groups.setdefault(f.quantity, []).append(f)
    chosen = list(groups.items())[: spec.max]
    wording = Wording.of(c.pack)
    out = []
    for quantity, figures in chosen:
        if m.figure_relation(figures) == "series":
            figures = sorted(figures, key=lambda f: f.as_of.start if f.as_of else date.min)  # oldest first
        group = FigureGroup(quantity, tuple(Entry(f, cite(f.sources)) for f in figures))
        if group.conflicting:
            # Seeing the two numbers side by side, each with who gives it, is the point of the chart.
            bars = [(wording.figure(f, with_unit=False), f.value, _who(c, f)) for f in figures]
            chart = comparison_svg(f"fig-{quantity}", f"{figures[0].label}: the sources disagree", bars)
            group = FigureGroup(quantity, group.entries, chart)
        out.append(group)
    return out, None


def _who(c: Content, f: m.Figure) -> str:
    """Name who gives a figure briefly: the author's name, else the publisher, else 'unsigned source'."""
    names = []
    for cite in f.sources:
        s = c.sources[cite.source]
        name = (s.author or "").split(" (")[0] or s.publisher or "unsigned source"
        names.append(f"{name}{f', {s.date.year}' if s.date else ''}")
    return "; ".join(names)


def contacts(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the contacts section's content."""
    # The profile's own contact first: it is the person this audience should call.
    ordered = sorted(c.pack.contacts, key=lambda x: x.id != a.contact)
    return [Entry(x) for x in ordered[: spec.max]], None




def _versions(c: Content) -> m.VersionsFile:
    # The profile checks refuse a section that needs versions in a pack without them.
    assert c.versions is not None, "a versions section in a pack without versions.yaml"
    return c.versions


def _provisions_by_area(c: Content, cite: Citer, areas: Iterable[str]) -> tuple[list, m.Version]:
    versions = _versions(c)
    version = current_version(versions, c.vocabulary.with_role("version_statuses", "current"))
    provisions = resolved_provisions(list(versions.versions), version)
    groups = []
    for area in c.vocabulary.order("areas", set(areas)):
        entries = tuple(entry(p, cite) for p in provisions if p.area == area)
        if entries:
            groups.append((area, entries))
    return groups, version


def scope(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select what the version in force covers: the profile's areas, else the vocabulary's first two."""
    areas = c.vocabulary.order("areas", set(spec.areas)) if spec.areas else list(c.vocabulary.keys("areas")[:2])
    groups, version = _provisions_by_area(c, cite, areas)
    return [], Scope(version, tuple(areas), dict(groups))


def provisions(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the provisions section's content (none, when the chosen areas have no provisions)."""
    groups, version = _provisions_by_area(c, cite, spec.areas or c.vocabulary.keys("areas"))
    return (groups, version) if groups else ([], None)


def changes(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the changes section's content."""
    from_id, to_id = a.compare or (None, None)
    comparison: Comparison = compare(_versions(c), from_id, to_id, c.vocabulary.keys("areas"),
                                     c.vocabulary.effect_words())
    mode = spec.mode or "table"
    areas = list(spec.areas)
    disputed = {p.key: p for p in resolved_provisions(list(_versions(c).versions), comparison.to_version)
                if p.dispute is not None}
    shown = []
    for area, rows in comparison.by_area(areas):
        keep = [r for r in rows if r.change != "unchanged"]
        if keep:
            shown.append((area, tuple(_change_row(r, cite, mode == "table", disputed.get(r.to_key or ""))
                                      for r in keep)))
    unchanged = sum(1 for _, rows in comparison.by_area(areas) for r in rows if r.change == "unchanged")
    # The summary counts exactly the rows shown; what the profile's areas leave out is said, not hidden.
    left_out = sum(1 for r in comparison.rows if r.change != "unchanged" and areas and r.area not in areas)
    data = Changes(mode, comparison.from_version.label, comparison.to_version.label,
                   comparison.summary(areas), tuple(shown), unchanged, left_out)
    return [], data


def _change_row(r: Row, cite: Citer, from_first: bool, disputed: m.Provision | None) -> ChangeRow:
    # Number in reading order: a table shows FROM before TO; a list says what is new first.
    if from_first:
        from_refs = cite(r.from_sources)
        to_refs = cite(r.to_sources)
    else:
        to_refs = cite(r.to_sources)
        from_refs = cite(r.from_sources)
    dispute = Entry(disputed, dispute_refs=tuple(cite([x.source]) for x in disputed.dispute.claims)) \
        if disputed is not None and disputed.dispute is not None else None
    return ChangeRow(r, from_refs, to_refs, dispute)


def timeline(c: Content, a: m.Audience, spec: m.Section, cite: Citer) -> Selected:
    """Select the timeline section's content."""
    events = sorted(_for(a, c.events), key=lambda e: e.date.start)
    if spec.max:
        events = spread(events, spec.max, key=lambda e: e.date)  # the whole history, not only the latest
    spans = _spans(c)
    if not events and not spans:
        return [], None  # nothing dated for this reader: no empty axis
    entries = [Entry(e, cite(e.sources)) for e in events]
    markers = [Marker(i, e.date, e.title, e.kind) for i, e in enumerate(events, 1)]
    subject = c.versions.name if c.versions else c.pack.title
    hollow = frozenset(c.vocabulary.with_role("event_kinds", "break"))
    svg: Markup = timeline_svg(subject, markers, spans, c.pack.as_of, hollow=hollow)
    return entries, svg


def _spans(c: Content) -> list[Span]:
    """Return each dated version's term as a bar, shaded by what its status means (current, pending, ended)."""
    if c.versions is None:
        return []
    v = c.vocabulary
    found = terms(list(c.versions.versions), v.with_role("date_kinds", "start"), v.with_role("date_kinds", "end"),
                  c.pack.as_of)
    return [Span(version.label, start, end, version.status, v.role("version_statuses", version.status) or "ended")
            for version, start, end in found]
