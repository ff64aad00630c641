"""Check quotations and paragraph locators against the sources' own text, where a pack keeps a copy.

A source may name a local copy of its text (`file:`, inside the pack). Then every quotation
attributed to it must appear in that text verbatim (white space, quotation marks and dashes
normalised; an ellipsis marks a cut), and every paragraph locator ("para. 7", "paras. 3-5")
must exist. Paragraphs are the text's blocks (blank-line separated, else its lines), without
headings ('#') and without the source's `front_matter` (byline, date, notes) before paragraph 1.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.content import model as m
from brief.content.yamlload import Document, file_problem
from brief.errors import Problem

if TYPE_CHECKING:
    from brief.content.load import Content

# Text between quotation marks inside a field: “...”, "...", «...», „...“.
_QUOTED = re.compile(r"[“\"«„]([^”\"»“]{2,}?)[”\"»“]")
_PARAS = re.compile(r"^paras?\.\s*(\d+(?:\s*[–-]\s*\d+)?(?:\s*,\s*\d+(?:\s*[–-]\s*\d+)?)*)$")
_NORMAL = str.maketrans("‘’“”„«»–—‑\u00a0", "''\"\"\"\"\"--- ")
_CUT = re.compile(r"\s*(?:\.\.\.|…|\[\.\.\.\]|\[…\])\s*")


@dataclass(frozen=True)
class SourceText:
    """A source's own words, as quotations are checked against them."""

    paragraphs: tuple[str, ...]

    @property
    def whole(self) -> str:
        return " ".join(self.paragraphs)


def normal(text: str) -> str:
    """Normalise white space, quotation marks, apostrophes and dashes; drop Markdown links and emphasis."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [words](link) -> words
    text = re.sub(r"[*_]{1,2}(\S[^*_]*?\S|\S)[*_]{1,2}", r"\1", text)
    text = text.translate(_NORMAL)
    return " ".join(text.split())


def read_source(path: Path, front_matter: int) -> SourceText:
    """Read a source copy into paragraphs (once per check: every quotation is matched against the result)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    # Blank lines separate paragraphs where the text has any; otherwise each line is one.
    blocks = re.split(r"\n\s*\n", raw) if re.search(r"\n\s*\n", raw) else raw.splitlines()
    paragraphs = [normal(b) for b in blocks if b.strip() and not b.lstrip().startswith("#")]
    return SourceText(tuple(paragraphs[front_matter:]))


def found_in(quote: str, text: str) -> bool:
    """True when every piece of the quotation (cut at ellipses) appears in text, in order."""
    at = 0
    for piece in (p for p in _CUT.split(normal(quote)) if p.strip(" .,;:")):
        piece = piece.strip(" ,;:")
        where = text.find(piece, at)
        if where < 0:
            where = text.lower().find(piece.lower(), at)  # a quotation may start a sentence in the pack
            if where < 0 or not _case_only_at_start(piece, text[where: where + len(piece)]):
                return False
        at = where + len(piece)
    return True


def _case_only_at_start(piece: str, original: str) -> bool:
    return piece[1:] == original[1:]


def paragraph_numbers(locator: str) -> list[int] | None:
    """Return the paragraph numbers a locator names ("paras. 3-5, 9"), or None when it names no paragraphs."""
    found = _PARAS.match(locator.strip())
    if found is None:
        return None
    numbers = []
    for part in found.group(1).split(","):
        lo, _, hi = part.replace("-", "–").partition("–")
        numbers += list(range(int(lo), int(hi or lo) + 1))
    return numbers


def quote_problems(c: Content, docs: dict[str, Document]) -> list[Problem]:
    """Return a placed problem for each misquotation and each paragraph locator past the end of its source."""
    texts = _texts(c)
    if not texts:
        return []
    problems = []
    for file, path, citations, quotes in _quoted_places(c):
        doc = docs.get(file)
        checked = [(where, cite, texts[cite.source]) for where, cite in citations if cite.source in texts]
        if doc is None or not checked:
            continue
        for where, cite, text in checked:
            problems += _locator_problems(doc, path + where, cite, text)
        for field, quote in quotes:
            if not any(found_in(quote, text.whole) for _, _, text in checked):
                names = ", ".join(cite.source for _, cite, _ in checked)
                problems.append(doc.problem(path + field, f"the quotation \"{_short(quote)}\" is not in the text of "
                                            f"{names}; quote the source's words exactly (an ellipsis marks a cut), "
                                            "or paraphrase without quotation marks"))
    return problems


def _texts(c: Content) -> dict[str, SourceText]:
    """Read the copies brief may read: inside the pack, regular, not too large (the rules report the others)."""
    out = {}
    for s in c.sources.values():
        if s.file is not None and file_problem(c.root / s.file, c.root) is None:
            out[s.id] = read_source((c.root / s.file).resolve(), s.front_matter)
    return out


def _locator_problems(doc: Document, path: tuple, cite: m.Citation, text: SourceText) -> list[Problem]:
    numbers = paragraph_numbers(cite.locator or "")
    if not numbers or max(numbers) <= len(text.paragraphs):
        return []
    return [doc.problem(path, f"locator '{cite.locator}' of {cite.source} is past its last paragraph "
                              f"({len(text.paragraphs)}); check the number against the source's text")]


# (file, item path, [(citation path below the item, citation)], [(field path, quotation)])
QuotedPlace = tuple[str, tuple, list[tuple[tuple, m.Citation]], list[tuple[tuple, str]]]


def _cited(sources: list[m.Citation]) -> list[tuple[tuple, m.Citation]]:
    return [(("sources", j, "locator"), cite) for j, cite in enumerate(sources)]


def _quoted_places(c: Content) -> Iterator[QuotedPlace]:
    """Yield (file, path, citations, [(field path, quotation)]) for every sourced item and quote."""
    lists: list[tuple[str, str, list[Any]]] = [
        ("content/assessments.yaml", "assessments", c.assessments),
        ("content/stakeholders.yaml", "stakeholders", c.stakeholders),
        ("content/timeline.yaml", "events", c.events), ("content/figures.yaml", "figures", c.figures),
        ("content/recommendations.yaml", "recommendations", c.recommendations),
        ("content/questions.yaml", "questions", c.questions), ("content/glossary.yaml", "terms", c.terms)]
    for file, key, items in lists:
        for i, item in enumerate(items):
            yield file, (key, i), _cited(item.sources), list(_inline_quotes(item))
            if isinstance(item, m.Stakeholder) and item.quote is not None:
                yield file, (key, i, "quote"), [(("source", "locator"), item.quote.source)], \
                    [(("text",), item.quote.text)]
            yield from _dispute_places(file, (key, i), item)
    yield from _profile_places(c)
    if c.versions is not None:
        for i, v in enumerate(c.versions.versions):
            for j, p in enumerate(v.provisions):
                # The instrument's own words (form: text) must be in the source that reproduces them, whole.
                quoted = [(("text",), p.text)] if p.form == "text" else list(_inline_quotes(p))
                yield "content/versions.yaml", ("versions", i, "provisions", j), _cited(p.sources), quoted
                yield from _dispute_places("content/versions.yaml", ("versions", i, "provisions", j), p)


def _profile_places(c: Content) -> Iterator[QuotedPlace]:
    for name, profile in c.audiences.items():
        if profile.bottom_line is not None:
            yield f"content/audiences/{name}.yaml", ("bottom_line",), _cited(profile.bottom_line.sources), \
                list(_inline_quotes(profile.bottom_line))


def _dispute_places(file: str, path: tuple, item: Any) -> Iterator[QuotedPlace]:
    dispute = getattr(item, "dispute", None)
    for k, claim in enumerate(dispute.claims if dispute else []):
        quotes = [(("text",), q) for q in _QUOTED.findall(claim.text)]
        yield file, path + ("dispute", "claims", k), [(("source", "locator"), claim.source)], quotes


_TEXT_FIELDS = ("headline", "body", "position", "text", "description", "label", "answer", "rationale", "definition")


def _inline_quotes(item: Any) -> Iterator[tuple[tuple, str]]:
    for field in _TEXT_FIELDS:
        value = getattr(item, field, None)
        if isinstance(value, str):
            for quote in _QUOTED.findall(value):
                yield (field,), quote


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"
