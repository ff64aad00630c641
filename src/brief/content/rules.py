"""Check references between a pack's files: ids, citations, audiences, dates.

Each concern is one rule: a function of the loaded pack that returns what it found (errors and
warnings). crosscheck runs them all, in the order of _RULES, which is the order problems print.
"""
from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from brief.content import model as m
from brief.content.lineage import resolved_provisions
from brief.content.quotes import quote_problems
from brief.content.words import vocabulary_problems
from brief.content.yamlload import Document, file_problem, too_large
from brief.errors import Problem

if TYPE_CHECKING:
    from brief.content.load import Content

# (file, top-level key, attribute on Content) for each list of sourced items.
_LISTS = (
    ("content/assessments.yaml", "assessments", "assessments"),
    ("content/stakeholders.yaml", "stakeholders", "stakeholders"),
    ("content/timeline.yaml", "events", "events"),
    ("content/figures.yaml", "figures", "figures"),
    ("content/recommendations.yaml", "recommendations", "recommendations"),
    ("content/questions.yaml", "questions", "questions"),
    ("content/glossary.yaml", "terms", "terms"),
    ("content/recipient_notes.yaml", "notes", "recipient_notes"),
)


@dataclass
class Found:
    """What a rule found: errors stop the build, warnings are printed by `brief check`."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def __iadd__(self, other: Found) -> Found:
        self.errors += other.errors
        self.warnings += other.warnings
        return self


@dataclass(frozen=True)
class _Pack:
    """What every rule looks at: the pack, its files as loaded, and sources.yaml's list as written."""

    c: Content
    docs: dict[str, Document]
    source_list: list[m.Source]

    @property
    def audiences(self) -> set[str]:
        return set(self.c.audiences)


def crosscheck(c: Content, docs: dict[str, Document],
               source_list: list[m.Source]) -> tuple[list[Problem], list[Problem]]:
    """Return (problems, warnings) found across the pack's files."""
    pack, found = _Pack(c, docs, source_list), Found()
    for rule in _RULES:
        found += rule(pack)
    return found.errors, found.warnings


# ---- helpers shared by rules ---------------------------------------------------

def _cites(c: Content, doc: Document, path: tuple, cites: list[m.Citation], what: str) -> Found:
    found = Found()
    if not cites:
        found.warnings.append(doc.problem(path, f"{what} cites no source"))
    for j, cite in enumerate(cites):
        if cite.source not in c.sources:
            found.errors.append(doc.problem(path + ("sources", j), f"cites unknown source '{cite.source}'; "
                                            f"add it to content/sources.yaml or fix the id"))
    return found


def _unique(doc: Document, base: tuple, ids: list[str], kind: str) -> list[Problem]:
    errors: list[Problem] = []
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            first = doc.place(base + (seen[ident], "id"))[0]
            errors.append(doc.problem(base + (i, "id"), f"duplicate {kind} id '{ident}' (first used at line {first}); "
                                      "ids must be unique"))
        else:
            seen[ident] = i
    return errors


def _cut(text: str) -> str:
    """Return text cut to m.SHOWN_WIDTH characters, for a message that names a value."""
    return text if len(text) <= m.SHOWN_WIDTH else text[: m.SHOWN_WIDTH - 1] + "\u2026"


def _unknown_audience(tag: str, audiences: set[str]) -> str:
    return f"unknown audience '{_cut(tag)}'; known audiences: {', '.join(sorted(audiences | {m.AUDIENCE_ALL}))}"


def _fig(f: m.Figure) -> str:
    value = f"{f.value:g}"
    q = "" if f.qualifier == "exactly" else f.qualifier + " "
    return f"{q}{value}{' ' + f.unit if f.unit else ''}"


def _and(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


# ---- sources.yaml --------------------------------------------------------------

def _source_rules(p: _Pack) -> Found:
    """Unique ids; a date or a note saying why there is none; dates not after the pack; local copies."""
    doc, c = p.docs["content/sources.yaml"], p.c
    found = Found(errors=_unique(doc, ("sources",), [s.id for s in p.source_list], "source"))
    for i, s in enumerate(p.source_list):
        if s.date is None and s.undated is None:
            found.errors.append(doc.problem(("sources", i), "needs a date, or 'undated:' with a note saying why it "
                                            "has none", where=f"sources[{i}]"))
        if s.date is not None and s.undated is not None:
            found.errors.append(doc.problem(("sources", i, "undated"), "has both a date and 'undated:'; keep one"))
        if s.date is not None and s.date.start > c.pack.as_of:
            found.warnings.append(doc.problem(("sources", i, "date"), f"dated {s.date.iso()}, after the pack's as_of "
                                              f"({c.pack.as_of.isoformat()}); raise as_of in pack.yaml if the pack "
                                              "is newer"))
        if s.file is not None:
            found += _source_file(c, doc, i, s.file)
    return found


def _source_file(c: Content, doc: Document, i: int, file: str) -> Found:
    """A local copy must be a regular file inside the pack (symlinks resolved), of at most MAX_FILE_BYTES.

    A copy that is simply not there (a pack shared without its copies) is a warning: the editions
    build, but quotations attributed to the source go unchecked.
    """
    path = c.root / file
    why = file_problem(path, c.root)
    if why is None:
        return Found()
    if not os.path.lexists(path):
        return Found(warnings=[doc.problem(("sources", i, "file"), f"'{_cut(file)}' is not in the pack, so "
                                           "quotations attributed to this source are not checked; add the copy")])
    if path.resolve().is_relative_to(c.root.resolve()) and os.path.isfile(path):  # there, but too large
        why = too_large(os.path.getsize(path), "keep a smaller copy, or give only the source's url:")
        return Found(errors=[doc.problem(("sources", i, "file"), f"'{_cut(file)}' {why}")])
    return Found(errors=[doc.problem(("sources", i, "file"), f"'{_cut(file)}' is not a file inside the pack")])


def _uncited_sources(p: _Pack) -> Found:
    """A source nothing cites is probably left over, or a citation is missing: warn."""
    cited = _cited(p.c)
    doc = p.docs["content/sources.yaml"]
    return Found(warnings=[doc.problem(("sources", i), f"source '{s.id}' is cited nowhere; cite it or remove it",
                                       where=f"sources[{i}]")
                           for i, s in enumerate(p.source_list) if s.id not in cited])


def _cited(c: Content) -> set[str]:
    """Return the id of every source any citation in the pack names (quotes and bottom lines included)."""
    cited: set[str] = set()
    todo: list[Any] = [c.assessments, c.stakeholders, c.versions, c.events, c.figures, c.recommendations,
                       c.questions, c.terms, list(c.audiences.values()), c.recipient_notes]
    while todo:
        item = todo.pop()
        if isinstance(item, m.Citation):
            cited.add(item.source)
        elif isinstance(item, BaseModel):
            todo.extend(getattr(item, name) for name in type(item).model_fields)
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return cited


# ---- lists of sourced items ----------------------------------------------------

def _item_rules(p: _Pack) -> Found:
    """In each list of sourced items: unique ids, known sources, known audiences."""
    found = Found()
    for display, key, attr in _LISTS:
        if display not in p.docs:
            continue
        doc, items = p.docs[display], getattr(p.c, attr)
        if items and hasattr(items[0], "id"):
            found.errors += _unique(doc, (key,), [x.id for x in items], key.rstrip("s"))
        for i, item in enumerate(items):
            found += _item(p, doc, (key, i), item)
    return found


def _item(p: _Pack, doc: Document, path: tuple, item: m.Sourced) -> Found:
    found = _cites(p.c, doc, path, item.sources, f"{path[0]}[{path[1]}]")
    audiences = p.audiences
    for j, tag in enumerate(getattr(item, "audiences", [])):
        if tag not in audiences | {m.AUDIENCE_ALL}:
            found.errors.append(doc.problem(path + ("audiences", j), _unknown_audience(tag, audiences)))
    if isinstance(item, m.Recommendation) and item.audience not in audiences:
        found.errors.append(doc.problem(path + ("audience",), _unknown_audience(item.audience, audiences)))
    if isinstance(item, m.Stakeholder) and item.quote and item.quote.source.source not in p.c.sources:
        found.errors.append(doc.problem(path + ("quote", "source"),
                                        f"cites unknown source '{item.quote.source.source}'"))
    return found


def _dispute_rules(p: _Pack) -> Found:
    """Each claim of a dispute, and each stated drop, cites a known source."""
    found = Found()
    places: list[tuple[str, tuple, Any]] = [("content/assessments.yaml", ("assessments", i), x)
                                            for i, x in enumerate(p.c.assessments)]
    if p.c.versions is not None:
        for i, v in enumerate(p.c.versions.versions):
            places += [("content/versions.yaml", ("versions", i, "provisions", j), x)
                       for j, x in enumerate(v.provisions)]
            for j, drop in enumerate(v.drops):
                found += _cites(p.c, p.docs["content/versions.yaml"], ("versions", i, "drops", j), drop.sources,
                                f"versions[{i}].drops[{j}]")
    for file, path, item in places:
        if item.dispute is None:
            continue
        for k, claim in enumerate(item.dispute.claims):
            found += _cites(p.c, p.docs[file], path + ("dispute", "claims", k), [claim.source],
                            f"{'.'.join(map(str, path))} dispute")
    return found


def _source_titles(p: _Pack) -> Found:
    """A source has its title, or (untitled) a description of what it is; never both, never neither."""
    doc, found = p.docs["content/sources.yaml"], Found()
    for i, s in enumerate(p.source_list):
        if s.title_line is not None:
            found.errors += _title_line(p, doc, i, s)
            continue
        if s.title is None and s.description is None:
            found.errors.append(doc.problem(("sources", i), "needs a title, or for an untitled source a "
                                            "'description:' saying what it is (it is not printed as a title)",
                                            where=f"sources[{i}]"))
        elif s.title is not None and s.description is not None:
            found.errors.append(doc.problem(("sources", i, "description"), "has both a title and a description; "
                                            "keep the title if the source has one"))
    return found


def _locale_rules(p: _Pack) -> Found:
    """A pack's locale is one babel knows: numbers and dates are written from its data."""
    locale = p.c.pack.locale
    if locale is None:
        return Found()
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return Found(errors=[p.docs["content/pack.yaml"].problem(("locale",), f"unknown locale '{locale}'; write a "
                                                                 "language and territory such as en_GB or de_DE")])
    return Found()


def _quote_rules(p: _Pack) -> Found:
    """Quotations and paragraph locators match the local copies of their sources."""
    return Found(errors=quote_problems(p.c, p.docs))


def _title_line(p: _Pack, doc: Document, i: int, s: m.Source) -> list[Problem]:
    """title_line reads the full title from the source's copy; `title:` is what prints without the copy."""
    where = ("sources", i, "title_line")
    if s.file is None:
        return [doc.problem(where, "title_line takes the title from the source's copy: give its 'file:'")]
    if not os.path.lexists(p.c.root / s.file):  # a pack copied without its copies: _source_file warns
        return [] if s.title else [doc.problem(where, f"{s.file} is not in the pack; add it, or give a 'title:' "
                                                      "to print without it")]
    if p.c.sources[s.id].title is None:
        return [doc.problem(where, f"line {s.title_line} of {s.file} holds no title; give the number of the line "
                            "that does")]
    return []


def _figure_conflicts(p: _Pack) -> Found:
    """Figures measuring the same quantity must agree, or the brief must show both: warn."""
    figures = p.c.figures
    by_quantity: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(figures):
        by_quantity[f.quantity].append(i)
    found = Found()
    for quantity, idx in by_quantity.items():
        relation = m.figure_relation([figures[i] for i in idx])
        if relation == "series":
            found.errors += [p.docs["content/figures.yaml"].problem(("figures", i), f"'{figures[i].id}' is part of "
                             f"the series '{quantity}' but has no as_of; give each figure of a series its date")
                             for i in idx if figures[i].as_of is None]
        if relation == "conflict":
            shown = "; ".join(f"{_fig(figures[i])} ({', '.join(x.source for x in figures[i].sources)})" for i in idx)
            message = f"conflicting figures for '{quantity}': {shown}; editions show them all, labelled"
            found.warnings.append(p.docs["content/figures.yaml"].problem(("figures", idx[0]), message))
    return found


# ---- versions.yaml -------------------------------------------------------------

def _version_rules(p: _Pack) -> Found:
    """Unique ids, known parents, dates in order, and provisions that trace back to the version before."""
    if p.c.versions is None:
        return Found()
    doc, versions = p.docs["content/versions.yaml"], p.c.versions.versions
    found, seen = Found(), dict[str, int]()
    for i, v in enumerate(versions):
        if v.id in seen:
            found.errors.append(doc.problem(("versions", i, "id"),
                                            f"duplicate version id '{v.id}'; ids must be unique"))
        seen.setdefault(v.id, i)
        found += _version(p.c, doc, versions, i)
    dated = [(v.first_date(), i) for i, v in enumerate(versions)]
    for (d1, _), (d2, i2) in zip(dated, dated[1:], strict=False):
        if d1 and d2 and d2.start < d1.start:
            found.warnings.append(doc.problem(("versions", i2), f"version '{versions[i2].id}' is dated before the one "
                                              "listed above it; list versions oldest first"))
    return found


def _version(c: Content, doc: Document, versions: list[m.Version], i: int) -> Found:
    v, path, ids = versions[i], ("versions", i), [x.id for x in versions]
    found = _cites(c, doc, path, v.sources, f"versions[{i}]")
    if v.inherits is not None and v.inherits not in ids[:i]:
        found.errors.append(doc.problem(path + ("inherits",), f"inherits unknown or later version '{v.inherits}'; "
                                        f"name one listed above it: {', '.join(ids[:i]) or 'none'}"))
    found.errors += _dates_in_order(c, doc, path, v)
    prev = versions[i - 1] if i else None
    prev_keys = {x.key for x in resolved_provisions(versions, prev)} if prev else set()
    found += _provisions(c, doc, i, v, prev, prev_keys)
    found.errors += _replace_cycles(doc, i, v, prev_keys)
    return found


def _dates_in_order(c: Content, doc: Document, path: tuple, v: m.Version) -> list[Problem]:
    """A term cannot end (a date kind with role 'end') before any other milestone of the version."""
    ends = set(c.vocabulary.with_role("date_kinds", "end"))
    dates = v.milestones()
    problems = []
    for end_kind, end in ((k, d) for k, d in dates if k in ends):
        before = next(((k, d) for k, d in dates if k not in ends and d.start > end.start), None)
        if before is not None:
            where = path + ((end_kind,) if end_kind in ("signed", "effective", "expires") else ("dates", end_kind))
            problems.append(doc.problem(where, f"{end_kind} ({end.iso()}) is before {before[0]} ({before[1].iso()})"))
    return problems


def _provisions(c: Content, doc: Document, i: int, v: m.Version, prev: m.Version | None, prev_keys: set[str]) -> Found:
    found, keys = Found(), dict[str, int]()
    for j, pr in enumerate(v.provisions):
        ppath = ("versions", i, "provisions", j)
        if pr.key in keys:
            found.errors.append(doc.problem(ppath + ("key",), f"duplicate provision key '{pr.key}' in version '{v.id}' "
                                            f"(first at provisions[{keys[pr.key]}]); keys must be unique within a "
                                            "version"))
        keys.setdefault(pr.key, j)
        found += _cites(c, doc, ppath, pr.sources, f"{v.id} provision '{pr.key}'")
        for k, old in enumerate(pr.replaces):
            if old not in prev_keys:
                found.errors.append(doc.problem(ppath + ("replaces", k), f"replaces '{old}', which is not a provision "
                                                f"of the previous version{' ' + repr(prev.id) if prev else ''}; "
                                                f"known: {', '.join(sorted(prev_keys)) or 'none'}"))
    found.errors += _drop_problems(doc, i, v, prev, prev_keys)
    return found


def _drop_problems(doc: Document, i: int, v: m.Version, prev: m.Version | None, prev_keys: set[str]) -> list[Problem]:
    """A stated drop names a provision of the version before, which this version no longer has."""
    own = {p.key for p in v.provisions}
    problems = []
    for j, drop in enumerate(v.drops):
        path = ("versions", i, "drops", j, "key")
        if drop.key not in prev_keys:
            problems.append(doc.problem(path, f"drops '{drop.key}', which is not a provision of the previous version"
                                        f"{' ' + repr(prev.id) if prev else ''}; known: "
                                        f"{', '.join(sorted(prev_keys)) or 'none'}"))
        elif drop.key in own:
            problems.append(doc.problem(path, f"drops '{drop.key}' but still lists it among its provisions; "
                                        "keep one"))
    return problems


def _replace_cycles(doc: Document, i: int, v: m.Version, prev_keys: set[str]) -> list[Problem]:
    """Provisions of one version that replace one another (a swap, or a longer cycle) are an error.

    A provision whose key the previous version had continues it, and 'replaces' adds more old
    provisions to it: if 'a' replaces 'x' and 'x' replaces 'a', each row merges both old texts.
    """
    first: dict[str, int] = {}
    for j, pr in enumerate(v.provisions):
        first.setdefault(pr.key, j)
    # j -> provisions (indexes) whose old text it takes over, besides its own key's.
    edges = {j: {first[k] for k in pr.replaces if k in first and k in prev_keys and k != pr.key}
             for j, pr in enumerate(v.provisions) if first[pr.key] == j}
    reach = {j: _reachable(j, edges) for j in edges}
    problems: list[Problem] = []
    done: set[int] = set()
    for j in sorted(edges):
        cycle = sorted(k for k in reach[j] if j in reach[k])  # holds j when j is on a cycle
        if len(cycle) < 2 or j in done:
            continue
        done.update(cycle)
        problems.append(_cycle_problem(doc, i, v, cycle, edges))
    return problems


def _reachable(start: int, edges: dict[int, set[int]]) -> set[int]:
    seen: set[int] = set()
    todo = list(edges[start])
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges.get(n, ()))
    return seen


def _cycle_problem(doc: Document, i: int, v: m.Version, cycle: list[int], edges: dict[int, set[int]]) -> Problem:
    keys = [v.provisions[j].key for j in cycle]
    steps = "; ".join(f"'{keys[n]}' replaces {_and([v.provisions[k].key for k in sorted(edges[j] & set(cycle))])}"
                      for n, j in enumerate(cycle))
    head = v.provisions[cycle[0]]
    k = next(n for n, old in enumerate(head.replaces) if old in keys and old != head.key)
    return doc.problem(("versions", i, "provisions", cycle[0], "replaces", k),
                       f"provisions {_and(keys)} of version '{v.id}' replace one another ({steps}), so each row "
                       "would merge their old texts; a provision that keeps its key needs no 'replaces': "
                       "remove the wrong one")


# ---- audience profiles and distribution lists ----------------------------------

def _profile_rules(p: _Pack) -> Found:
    """Names brief keeps for itself, known contacts and versions, a sourced bottom line."""
    c, found = p.c, Found()
    contact_ids = {x.id for x in c.pack.contacts}
    version_ids = [v.id for v in c.versions.versions] if c.versions else []
    for name, profile in c.audiences.items():
        doc = p.docs[f"content/audiences/{name}.yaml"]
        if name in m.RESERVED_AUDIENCES:
            found.errors.append(doc.problem(("name",), f"'{name}' is reserved ({m.RESERVED_AUDIENCES[name]}); "
                                            "choose another name and rename the file to match"))
        if profile.contact and profile.contact not in contact_ids:
            found.errors.append(doc.problem(("contact",), f"unknown contact '{profile.contact}'; pack.yaml lists: "
                                            f"{', '.join(sorted(contact_ids)) or 'none'}"))
        for j, vid in enumerate(profile.compare or ()):
            if vid not in version_ids:
                found.errors.append(doc.problem(("compare", j), f"unknown version '{vid}'; known: "
                                                f"{', '.join(version_ids) or 'none'}"))
        if profile.bottom_line:
            found += _cites(c, doc, ("bottom_line",), profile.bottom_line.sources, "bottom_line")
    return found


def _distribution_rules(p: _Pack) -> Found:
    """Each distribution list is for a known audience."""
    if p.c.distribution is None:
        return Found()
    doc, audiences = p.docs["content/distribution.yaml"], p.audiences
    return Found(errors=[doc.problem(("lists", name), _unknown_audience(name, audiences), key=True)
                         for name in p.c.distribution.lists if name not in audiences])


def _vocabulary_rules(p: _Pack) -> Found:
    """Every area, kind, status, effect and date kind is one the pack's vocabulary declares, once."""
    return Found(errors=vocabulary_problems(p.c, p.docs))


_RULES: tuple[Callable[[_Pack], Found], ...] = (
    _vocabulary_rules, _source_rules, _source_titles, _item_rules, _dispute_rules, _figure_conflicts,
    _version_rules, _profile_rules, _distribution_rules, _uncited_sources, _quote_rules, _locale_rules,
)
