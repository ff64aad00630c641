"""Check references between a pack's files: ids, citations, audiences, dates."""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from brief.content import model as m
from brief.errors import Problem
from brief.content.lineage import resolved_provisions
from brief.content.yamlload import Document

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
)


def crosscheck(c: "Content", docs: dict[str, Document], source_list: list[m.Source]) -> tuple[list[Problem], list[Problem]]:
    """Return (problems, warnings) found across the pack's files."""
    errors: list[Problem] = []
    warns: list[Problem] = []
    audiences = set(c.audiences)
    known_audiences = audiences | {m.AUDIENCE_ALL}

    def cite_check(doc: Document, path: tuple, cites, what: str) -> None:
        if not cites:
            warns.append(doc.problem(path, f"{what} cites no source"))
        for j, cite in enumerate(cites):
            if cite.source not in c.sources:
                errors.append(doc.problem(path + ("sources", j), f"cites unknown source '{cite.source}'; "
                                          f"add it to content/sources.yaml or fix the id"))

    def unique(doc: Document, base: tuple, ids: list[str], kind: str) -> None:
        seen: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in seen:
                first = doc.place(base + (seen[ident], "id"))[0]
                errors.append(doc.problem(base + (i, "id"), f"duplicate {kind} id '{ident}' (first used at line {first}); ids must be unique"))
            else:
                seen[ident] = i

    # sources.yaml
    sdoc = docs["content/sources.yaml"]
    unique(sdoc, ("sources",), [s.id for s in source_list], "source")
    for i, s in enumerate(source_list):
        if s.date is None and s.undated is None:
            errors.append(sdoc.problem(("sources", i), "needs a date, or 'undated:' with a note saying why it has none", where=f"sources[{i}]"))
        if s.date is not None and s.undated is not None:
            errors.append(sdoc.problem(("sources", i, "undated"), "has both a date and 'undated:'; keep one"))
        if s.date is not None and s.date.start > c.pack.as_of:
            warns.append(sdoc.problem(("sources", i, "date"), f"dated {s.date.iso()}, after the pack's as_of "
                                      f"({c.pack.as_of.isoformat()}); raise as_of in pack.yaml if the pack is newer"))
        if s.file is not None:
            target = (c.root / s.file).resolve()
            if not target.is_relative_to(c.root.resolve()) or not target.is_file():
                errors.append(sdoc.problem(("sources", i, "file"), f"'{s.file}' is not a file inside the pack"))

    # Lists of sourced items with audience tags.
    for display, key, attr in _LISTS:
        if display not in docs:
            continue
        doc, items = docs[display], getattr(c, attr)
        if items and hasattr(items[0], "id"):
            unique(doc, (key,), [x.id for x in items], key.rstrip("s"))
        for i, item in enumerate(items):
            cite_check(doc, (key, i), item.sources, f"{key}[{i}]")
            for j, tag in enumerate(getattr(item, "audiences", [])):
                if tag not in known_audiences:
                    errors.append(doc.problem((key, i, "audiences", j), _unknown_audience(tag, audiences)))
            if isinstance(item, m.Recommendation) and item.audience not in audiences:
                errors.append(doc.problem((key, i, "audience"), _unknown_audience(item.audience, audiences)))
            if isinstance(item, m.Stakeholder) and item.quote and item.quote.source.source not in c.sources:
                errors.append(doc.problem((key, i, "quote", "source"), f"cites unknown source '{item.quote.source.source}'"))

    # Figures measuring the same quantity must agree, or the brief must show both.
    by_quantity: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(c.figures):
        by_quantity[f.quantity].append(i)
    for quantity, idx in by_quantity.items():
        values = {(c.figures[i].value, c.figures[i].qualifier) for i in idx}
        if len(values) > 1:
            shown = "; ".join(f"{_fig(c.figures[i])} ({', '.join(x.source for x in c.figures[i].sources)})" for i in idx)
            warns.append(docs["content/figures.yaml"].problem(("figures", idx[0]),
                         f"conflicting figures for '{quantity}': {shown}; editions show them all, labelled"))

    if c.versions is not None:
        _check_versions(c, docs["content/versions.yaml"], errors, warns, cite_check)

    # Audience profiles.
    contact_ids = {x.id for x in c.pack.contacts}
    version_ids = [v.id for v in c.versions.versions] if c.versions else []
    for name, profile in c.audiences.items():
        doc = docs[f"content/audiences/{name}.yaml"]
        if name in m.RESERVED_AUDIENCES:
            errors.append(doc.problem(("name",), f"'{name}' is reserved (build/{name}/ holds published releases); "
                                      "choose another name and rename the file to match"))
        if profile.contact and profile.contact not in contact_ids:
            errors.append(doc.problem(("contact",), f"unknown contact '{profile.contact}'; pack.yaml lists: {', '.join(sorted(contact_ids)) or 'none'}"))
        for j, vid in enumerate(profile.compare or ()):
            if vid not in version_ids:
                errors.append(doc.problem(("compare", j), f"unknown version '{vid}'; known: {', '.join(version_ids) or 'none'}"))
        if profile.bottom_line:
            cite_check(doc, ("bottom_line",), profile.bottom_line.sources, "bottom_line")

    if c.distribution is not None:
        ddoc = docs["content/distribution.yaml"]
        for name in c.distribution.lists:
            if name not in audiences:
                errors.append(ddoc.problem(("lists", name), _unknown_audience(name, audiences), key=True))
    return errors, warns


def _check_versions(c, doc: Document, errors, warns, cite_check) -> None:
    versions = c.versions.versions
    ids = [v.id for v in versions]
    seen: dict[str, int] = {}
    for i, v in enumerate(versions):
        path = ("versions", i)
        if v.id in seen:
            errors.append(doc.problem(path + ("id",), f"duplicate version id '{v.id}'; ids must be unique"))
        seen.setdefault(v.id, i)
        cite_check(doc, path, v.sources, f"versions[{i}]")
        if v.inherits is not None and v.inherits not in ids[:i]:
            errors.append(doc.problem(path + ("inherits",), f"inherits unknown or later version '{v.inherits}'; "
                                      f"name one listed above it: {', '.join(ids[:i]) or 'none'}"))
        for a, b in (("signed", "expires"), ("effective", "expires")):
            da, db = getattr(v, a), getattr(v, b)
            if da and db and db.start < da.start:
                errors.append(doc.problem(path + (b,), f"{b} ({db.iso()}) is before {a} ({da.iso()})"))
        keys: dict[str, int] = {}
        prev = versions[i - 1] if i else None
        prev_keys = {p.key for p in resolved_provisions(versions, prev)} if prev else set()
        for j, p in enumerate(v.provisions):
            ppath = path + ("provisions", j)
            if p.key in keys:
                errors.append(doc.problem(ppath + ("key",), f"duplicate provision key '{p.key}' in version '{v.id}' "
                                          f"(first at provisions[{keys[p.key]}]); keys must be unique within a version"))
            keys.setdefault(p.key, j)
            cite_check(doc, ppath, p.sources, f"{v.id} provision '{p.key}'")
            for k, old in enumerate(p.replaces):
                if old not in prev_keys:
                    errors.append(doc.problem(ppath + ("replaces", k), f"replaces '{old}', which is not a provision of the "
                                              f"previous version{' ' + repr(prev.id) if prev else ''}; known: {', '.join(sorted(prev_keys)) or 'none'}"))
    dated = [(v.effective or v.signed, i) for i, v in enumerate(versions)]
    for (d1, _), (d2, i2) in zip(dated, dated[1:]):
        if d1 and d2 and d2.start < d1.start:
            warns.append(doc.problem(("versions", i2), f"version '{versions[i2].id}' is dated before the one listed above it; "
                                     "list versions oldest first"))




def _unknown_audience(tag: str, audiences: set[str]) -> str:
    return f"unknown audience '{tag}'; known audiences: {', '.join(sorted(audiences | {m.AUDIENCE_ALL}))}"


def _fig(f: m.Figure) -> str:
    value = f"{f.value:g}"
    q = "" if f.qualifier == "exactly" else f.qualifier + " "
    return f"{q}{value}{' ' + f.unit if f.unit else ''}"
