"""Newsroom files for a profile that asks (`newsroom:`): quotable facts as data and a one-page sheet, press vCards.

Every figure and quote meant for the audience, each with its attribution written
out in words and its date; figures that measure the same quantity carry whether
they form a series over time or disagree. brief.output.newsroom writes the files.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2

from brief import JSON_FORMAT_VERSION
from brief.content import model as m
from brief.content.load import Content
from brief.content.yamlload import Document
from brief.edition.render import Page, assets, check_html
from brief.edition.tailor import edition_slug
from brief.edition.wording import Wording
from brief.errors import Problem

FOLDER = "newsroom"  # build/<audience>/newsroom/: beside the edition, apart from its own PDF and HTML
FACTS_TEMPLATE = "newsroom/facts.html.j2"
READS = ("content/figures.yaml", "content/stakeholders.yaml")  # besides pack.yaml and sources.yaml
CSV_COLUMNS = ("type", "id", "statement", "value", "qualifier", "unit", "date", "speaker", "group", "relation",
               "attribution", "sources", "locators", "source_dates", "urls")


@dataclass(frozen=True)
class Attribution:
    """One source of a fact, written out: who, what, where, when, and where in it."""

    source: str  # its id in sources.yaml
    words: str  # "Marina Zhang, “…”, South China Morning Post, 13 December 2024, para. 2"
    date: str | None  # ISO, at the precision known
    locator: str | None
    url: str | None


@dataclass(frozen=True)
class Fact:
    """A figure or a quote a journalist may use, with who gives it and when."""

    type: str  # "figure" or "quote"
    id: str
    statement: str  # the figure in words with its label, or the quotation's exact words
    date: str | None  # the figure's as-of date, else its (first) source's date; a quote's source's date
    date_words: str | None
    attributions: tuple[Attribution, ...]
    value: str | None = None  # exact digits, as typed
    qualifier: str | None = None
    unit: str | None = None
    speaker: str | None = None
    group: str | None = None  # a figure's quantity; a quote's stakeholder
    relation: str | None = None  # single, agree, series or conflict (figures sharing a quantity)
    dated_by: str | None = None  # "as_of" (the figure's own date) or "source" (its source's date)

    def attribution(self) -> str:
        return "; ".join(a.words for a in self.attributions)


def wanted(profile: m.Audience) -> bool:
    """True when the profile asks for newsroom files."""
    return profile.newsroom is not False


def press_contacts(content: Content, profile: m.Audience) -> list[m.Contact]:
    """Return the contacts for the vCard: newsroom.contacts, else the profile's contact."""
    ids = profile.newsroom.contacts if isinstance(profile.newsroom, m.Newsroom) else []
    ids = ids or ([profile.contact] if profile.contact else [])
    known = {c.id: c for c in content.pack.contacts}
    return [known[i] for i in ids if i in known]


def facts(content: Content, profile: m.Audience) -> list[Fact]:
    """Return the figures, then the quotes, meant for the audience, in file order."""
    wording = Wording.of(content.pack)
    mine = [f for f in content.figures if _for(profile, f.audiences)]
    by_quantity: dict[str, list[m.Figure]] = {}
    for f in content.figures:
        by_quantity.setdefault(f.quantity, []).append(f)
    found = [_figure(content, wording, f, m.figure_relation(by_quantity[f.quantity])) for f in mine]
    for s in content.stakeholders:
        if s.quote is not None and _for(profile, s.audiences):
            found.append(_quote(content, wording, s, s.quote))
    return found


def _for(profile: m.Audience, tags: list[str]) -> bool:
    return m.AUDIENCE_ALL in tags or profile.name in tags


def _figure(content: Content, wording: Wording, f: m.Figure, relation: str) -> Fact:
    said = [_attribution(content, wording, c) for c in f.sources]
    when = f.as_of or next((content.sources[c.source].date for c in f.sources if content.sources[c.source].date), None)
    return Fact("figure", f.id, f"{wording.figure(f)} {' '.join(f.label.split())}", when.iso() if when else None,
                wording.date(when) if when else None, tuple(said), str(f.value), f.qualifier, f.unit,
                group=f.quantity, relation=relation, dated_by=("as_of" if f.as_of else "source") if when else None)


def _quote(content: Content, wording: Wording, s: m.Stakeholder, q: m.Quote) -> Fact:
    source = content.sources[q.source.source]
    return Fact("quote", s.id, " ".join(q.text.split()), source.date.iso() if source.date else None,
                wording.date(source.date) if source.date else None, (_attribution(content, wording, q.source),),
                speaker=q.speaker, group=s.name, dated_by="source" if source.date else None)


def _attribution(content: Content, wording: Wording, c: m.Citation) -> Attribution:
    s = content.sources[c.source]
    what = wording.quoted(s.title) if s.title else s.description
    when = wording.date(s.date) if s.date else "undated"
    words = ", ".join(x for x in (s.author, what, s.publisher, when, c.locator) if x)
    return Attribution(s.id, words, s.date.iso() if s.date else None, c.locator, s.url)


# ---- the files ---------------------------------------------------------------------

def facts_csv(found: list[Fact]) -> str:
    """Return the facts as CSV, one row per fact; a cell a spreadsheet would run as a formula is quoted with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in found:
        row = {**asdict(f), "attribution": f.attribution(),
               "sources": "; ".join(a.source for a in f.attributions),
               "locators": "; ".join(a.locator or "" for a in f.attributions),
               "source_dates": "; ".join(a.date or "undated" for a in f.attributions),
               "urls": "; ".join(a.url or "" for a in f.attributions)}
        writer.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A pack is untrusted: "=HYPERLINK(...)" must open as text in a spreadsheet, not run. Numbers stay numbers.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def facts_json(content: Content, profile: m.Audience, found: list[Fact]) -> str:
    """Return the facts as JSON: the pack and edition they come from, then each figure and quote."""
    def item(f: Fact) -> dict[str, Any]:
        data = {k: v for k, v in asdict(f).items() if k != "attributions"}
        data["attribution"] = f.attribution()
        data["sources"] = [asdict(a) for a in f.attributions]
        return data

    doc = {"format_version": JSON_FORMAT_VERSION, "title": content.pack.title,
           "organisation": content.pack.organisation, "edition": content.pack.edition,
           "as_of": content.pack.as_of.isoformat(), "audience": profile.name,
           "figures": [item(f) for f in found if f.type == "figure"],
           "quotes": [item(f) for f in found if f.type == "quote"]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def vcard(contacts: list[m.Contact], organisation: str) -> str:
    """Return the contacts as vCard 3.0 text, written by vobject (which escapes every value it writes)."""
    import vobject  # only for the editions that ask

    cards = []
    for c in contacts:
        card = vobject.vCard()
        card.add("fn").value = c.name
        given, _, family = c.name.rpartition(" ")
        card.add("n").value = vobject.vcard.Name(family=family, given=given)
        card.add("org").value = [organisation]
        card.add("title").value = c.role
        email = card.add("email")
        email.value, email.type_param = c.email, "INTERNET"
        if c.phone:
            tel = card.add("tel")
            tel.value, tel.type_param = c.phone, "WORK"
        if c.note:
            card.add("note").value = c.note
        # A stable id: importing the file again updates the contact instead of adding a copy.
        card.add("uid").value = "urn:sha256:" + hashlib.sha256(f"{organisation}\0{c.id}".encode()).hexdigest()[:32]
        cards.append(card.serialize())
    return "".join(cards)


def facts_page(content: Content, profile: m.Audience, found: list[Fact], env: jinja2.Environment) -> Page:
    """Render the one-page quotable-facts sheet; it lives in build/<audience>/newsroom/ and links ../ stylesheets."""
    slug = f"{edition_slug(content, profile.name)}-facts"
    html = env.get_template(FACTS_TEMPLATE).render(pack=content.pack, audience=profile, facts=found,
                                                     contacts=press_contacts(content, profile))
    out_dir = Path(content.root).resolve() / "build" / profile.name / FOLDER
    files = assets(content.root)
    check_html(html, profile.name, out_dir, files, Path(content.root))
    return Page(profile.name, slug, html, out_dir, files, Path(content.root).resolve())


def check_newsroom(c: Content, docs: dict[str, Document]) -> tuple[list[Problem], list[Problem]]:
    """A profile that asks for newsroom files names press contacts that exist (for the vCard)."""
    errors = []
    known = {x.id for x in c.pack.contacts}
    for name, profile in c.audiences.items():
        if not wanted(profile):
            continue
        doc = docs[f"content/audiences/{name}.yaml"]
        ids = profile.newsroom.contacts if isinstance(profile.newsroom, m.Newsroom) else []
        for i, cid in enumerate(ids):
            if cid not in known:
                errors.append(doc.problem(("newsroom", "contacts", i), f"unknown contact '{cid}'; contacts in "
                                          f"content/pack.yaml: {', '.join(sorted(known)) or 'none'}"))
        if not ids and not profile.contact:
            errors.append(doc.problem(("newsroom",), "newsroom files need a press contact for their vCard; set "
                                      "'contact:' in this profile or list ids under newsroom: contacts:"))
    return errors, []
