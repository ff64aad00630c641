"""Personalised covers: the one page each recipient gets before the shared edition.

A profile opts in with `cover:` (a template, the recipient fields it shows, the field that picks
each recipient's note in content/recipient_notes.yaml). Covers are rendered here, to HTML, in the
main process; a template error stops the build before anything is written.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from brief.content import model as m
from brief.content.load import Content
from brief.content.recipients import KNOWN, Recipient
from brief.content.yamlload import Document
from brief.edition.render import assets, check_html, environment, layouts, problem_in_template
from brief.edition.views import Citer, Ref, SourceEntry
from brief.errors import ContentError, Problem

COVERS = "covers"  # templates/covers/NAME.html.j2, the pack's first, then the built-in ones
STYLESHEET = "cover.css"  # the stylesheet every cover prints with (a pack may override it)
NOTES = "content/recipient_notes.yaml"


@dataclass(frozen=True)
class Note:
    """What a cover says to a recipient's group, with its numbered sources."""

    title: str | None
    text: str
    refs: tuple[Ref, ...]
    sources: tuple[SourceEntry, ...]


@dataclass(frozen=True)
class Shown:
    """One recipient field as the cover shows it."""

    field: str
    label: str
    value: str


def cover_templates(root: Path) -> dict[str, list[str]]:
    """Return the cover names on offer: {"built-in": [...], "pack": [...]}."""
    return layouts(root, COVERS)


def cover_file(profile: m.Audience) -> str:
    """Return the template file of a profile's cover."""
    return f"{COVERS}/{profile.cover.template if profile.cover else 'standard'}.html.j2"


def check_covers(c: Content, docs: dict[str, Document]) -> tuple[list[Problem], list[Problem]]:
    """Every cover names a template that exists and fields recipients have; notes are unique and used."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    offered = cover_templates(c.root)
    columns = set(KNOWN) | {name for r in c.recipients for name in r.fields}
    for name, profile in c.audiences.items():
        if profile.cover is None:
            continue
        doc = docs[f"content/audiences/{name}.yaml"]
        errors += _template_problems(doc, profile.cover, offered)
        errors += _field_problems(doc, profile.cover, columns)
        if profile.cover.notes_by and NOTES not in docs:
            errors.append(doc.problem(("cover", "notes_by"), f"notes_by needs {NOTES}, which this pack lacks; "
                                      "add it (a note per group, with its sources) or remove notes_by"))
        warnings += _unmatched(c, docs, name, profile.cover)
    if NOTES in docs:
        errors += _repeated_keys(docs[NOTES], c.recipient_notes)
    return errors, warnings


def _template_problems(doc: Document, cover: m.Cover, offered: dict[str, list[str]]) -> list[Problem]:
    if cover.template in offered["built-in"] + offered["pack"]:
        return []
    mine = ", ".join(offered["pack"]) or f"none (add templates/{COVERS}/NAME.html.j2 to make one)"
    return [doc.problem(("cover", "template"), f"unknown cover '{cover.template}'; built-in covers: "
                        f"{', '.join(offered['built-in'])}; this pack's: {mine}")]


def _field_problems(doc: Document, cover: m.Cover, columns: set[str]) -> list[Problem]:
    known = ", ".join([*KNOWN, *sorted(columns - set(KNOWN))])
    found = [doc.problem(("cover", "fields", i), f"unknown recipient field '{f}'; recipients have: {known}")
             for i, f in enumerate(cover.fields) if f not in columns]
    found += [doc.problem(("cover", "labels", f), f"a label for '{f}', which the cover does not show; "
                          "add it to fields or remove the label", key=True)
              for f in cover.labels if f not in cover.fields]
    if cover.notes_by and cover.notes_by not in columns:
        found.append(doc.problem(("cover", "notes_by"), f"unknown recipient field '{cover.notes_by}'; "
                                 f"recipients have: {known}"))
    return found


def _repeated_keys(doc: Document, notes: list[m.RecipientNote]) -> list[Problem]:
    first: dict[str, int] = {}
    found = []
    for i, note in enumerate(notes):
        if note.key in first:
            line = doc.place(("notes", first[note.key]))[0]
            found.append(doc.problem(("notes", i, "key"), f"a second note for '{note.key}' (first at line {line}); "
                                     "keep one"))
        first.setdefault(note.key, i)
    return found


def _unmatched(c: Content, docs: dict[str, Document], name: str, cover: m.Cover) -> list[Problem]:
    """Warn once per edition about recipients whose group has no note (their cover goes without)."""
    if not cover.notes_by or NOTES not in docs:
        return []
    keys = {n.key for n in c.recipient_notes}
    missing = Counter(r.value(cover.notes_by) or "(empty)" for r in c.recipients
                      if r.audience == name and r.value(cover.notes_by) not in keys)
    if not missing:
        return []
    groups = ", ".join(f"{k} ({n})" if n > 1 else k for k, n in sorted(missing.items()))
    first = next(r for r in c.recipients if r.audience == name and r.value(cover.notes_by) not in keys)
    return [Problem(first.file, first.line, None, cover.notes_by,
                    f"{sum(missing.values())} '{name}' recipient(s) have no note in {NOTES} for their "
                    f"{cover.notes_by}: {groups}; their covers go without one")]


def recipients_of(content: Content, audience: str) -> list[Recipient]:
    """Return the recipients who get a personalised copy of an edition (none when its profile has no cover)."""
    if content.audiences[audience].cover is None:
        return []
    return [r for r in content.recipients if r.audience == audience]


def render_covers(content: Content, audience: str, env: jinja2.Environment | None = None) -> dict[str, str]:
    """Return {recipient id: cover HTML} for an edition's recipients; raise ContentError naming the template line."""
    profile = content.audiences[audience]
    env = env or environment(content)
    notes = {n.key: n for n in content.recipient_notes}
    try:
        template = env.get_template(cover_file(profile))
        covers = {r.id: template.render(**_context(content, profile, r, notes))
                  for r in recipients_of(content, audience)}
    except jinja2.TemplateSyntaxError as e:
        problem = problem_in_template(content.root, e, f"template syntax error: {e.message}", e.filename, e.lineno)
    except jinja2.TemplateNotFound as e:
        problem = problem_in_template(content.root, e, f"includes template '{e.name}', which does not exist")
    except Exception as e:  # a pack's own cover can do anything: say where, never a traceback
        problem = problem_in_template(content.root, e, f"cover template error: {e}")
    else:
        # The edition's own checks: alt text for images, nothing loaded from outside the pack.
        root = Path(content.root)
        served = assets(root)
        for rid, html in covers.items():
            check_html(html, f"{audience} cover of {rid}", root.resolve() / "build" / audience, served, root)
        return covers
    raise ContentError([problem], summary="the cover template failed; nothing was built")


def _context(content: Content, profile: m.Audience, r: Recipient, notes: dict[str, m.RecipientNote]) -> dict[str, Any]:
    """Return what a cover template sees."""
    assert profile.cover is not None
    cover = profile.cover
    shown = [Shown(f, cover.labels.get(f) or f.replace("_", " ").capitalize(), r.value(f) or "")
             for f in cover.fields]
    found = notes.get(r.value(cover.notes_by) or "") if cover.notes_by else None
    note = None
    if found is not None:
        cite = Citer(content.sources)  # numbered on the cover alone: the edition's list is another page
        refs = cite(found.sources)
        note = Note(found.title, found.text, refs, cite.entries())
    contact = next((c for c in content.pack.contacts if c.id == profile.contact), None)
    return {"recipient": r, "fields": [s for s in shown if s.value], "note": note, "pack": content.pack,
            "audience": profile, "cover": cover, "contact": contact}
