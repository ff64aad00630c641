"""Tailor a pack's content for one audience: its sections in order, citations numbered as they appear."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from brief.content import model as m
from brief.content.load import Content
from brief.edition.sections import SECTIONS
from brief.edition.views import Citer, Edition, Entry, TailoredSection


def slugify(text: str) -> str:
    """Return text as lower-case ASCII words joined by hyphens."""
    words = re.sub(r"[^\w]+", " ", text)  # dashes and punctuation separate words: US–China -> us-china
    ascii_ = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def edition_slug(content: Content, audience: str) -> str:
    """Return an edition's file stem, e.g. 'us-china-sta-congress'."""
    return f"{pack_slug(content)}-{audience}"


def pack_slug(content: Content) -> str:
    """Return the pack's part of the file names ('' when its title has nothing to name files with).

    pack.yaml's short_title when set ("US–China STA" gives "us-china-sta"); otherwise long
    titles shorten to the words before the phrase a parenthesised abbreviation in the title
    or topic stands for, then the abbreviation.
    """
    if content.pack.short_title:
        return slugify(content.pack.short_title)
    # Only pack.yaml may name the files: it is an input of every edition, so a rename rebuilds.
    words = re.sub(r"^(the|a|an)\s+", "", content.pack.title, flags=re.I).split()
    texts = [content.pack.title, content.pack.topic]
    abbr = next((mt.group(1) for t in texts for mt in [re.search(r"\(([A-Z]{2,8})\)", t)] if mt), None)
    if abbr:
        lead = next((i for i, w in enumerate(words) if w.startswith(abbr[0])), None)
        if lead is not None:
            words = words[:lead] + [abbr]
    return slugify(" ".join(words))


def tailor(content: Content, audience: m.Audience) -> Edition:
    """Return the edition of content for one audience profile."""
    cite = Citer(content.sources)
    bottom_line = None
    sections = []
    for spec in audience.sections:
        kind = SECTIONS[spec.kind]
        entries: list | tuple = ()
        data = None
        if spec.kind == "bottom_line" and audience.bottom_line is not None:
            bottom_line = Entry(audience.bottom_line, cite(audience.bottom_line.sources))
        elif (select := kind.selector()) is not None:  # the sources list is complete once all have cited
            entries, data = select(content, audience, spec, cite)
            if not entries and data is None:
                continue  # nothing for this reader: no empty heading
        sections.append(TailoredSection(spec.kind, spec.title or kind.title, kind.template, spec.intro,
                                        tuple(entries), data, kind.is_wide(spec.mode)))
    sections = [replace(s, number=n) for n, s in enumerate(_with_sources(sections, cite), 1)]
    contact = next((c for c in content.pack.contacts if c.id == audience.contact), None)
    return Edition(audience, content.pack, edition_slug(content, audience.name), bottom_line, contact,
                   tuple(sections), cite.entries())


def _with_sources(sections: list[TailoredSection], cite: Citer) -> list[TailoredSection]:
    """Drop an empty sources list; add one where the edition cites but the profile lists none."""
    if not cite.entries():
        return [x for x in sections if x.kind != "sources"]  # nothing was cited: no empty list
    if all(x.kind != "sources" for x in sections):
        # Numbered references must resolve: an edition that cites always lists its sources.
        kind = SECTIONS["sources"]
        return [*sections, TailoredSection(kind.name, kind.title, kind.template)]
    return sections
