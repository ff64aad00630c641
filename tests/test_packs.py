"""Two full packs on other subjects than the shipped one, built end to end (tests/packs/).

- tests/packs/treaty/: a fictional bilateral arms-limitation treaty (signed, amended by protocol,
  extended, then suspended by one party), Letter paper, its own areas and kinds, a Cyrillic quote.
- tests/packs/regulation/: a fictional regulation from proposal to final act with staged
  application dates, A4 paper, locale en_GB, stakeholders without a country, very large figures.

The HTML of every edition is compared with a golden file, tests/packs/<pack>/expected/<audience>.html.
Regenerate them after an intended change to templates or tailoring with:
    BRIEF_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_packs.py -k golden
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pytest
from pypdf import PdfReader

from brief.edition.checks import load_pack
from brief.edition.render import render_html
from brief.edition.tailor import tailor

PACKS = Path(__file__).resolve().parent / "packs"
PAPER = {"A4": (595, 842), "Letter": (612, 792)}  # points, portrait

# What each pack is for: its paper, the warnings `brief check` is meant to print, and the
# editions with a timeline.
SPECS = {
    "treaty": {
        "paper": "Letter",
        "warnings": ["conflicting figures for 'zarovia-launchers-estimated'"],
        "timeline": {"think-tanks", "press"},
    },
    "regulation": {
        "paper": "A4",
        "warnings": [],
        "timeline": {"companies", "press"},
    },
}
CYRILLIC_QUOTE = ("Мы не выходим из договора. Мы приостанавливаем участие, пока Калдера не уберёт "
                  "пусковые установки с острова Хальм.")


def audiences(pack: str) -> list[str]:
    return sorted(p.stem for p in (PACKS / pack / "content" / "audiences").glob("*.yaml"))


EDITIONS = [(pack, audience) for pack in SPECS for audience in audiences(pack)]


def copy(pack: str, dest: Path) -> Path:
    """Copy a pack to dest without its build/ or golden files."""
    src = PACKS / pack
    shutil.copytree(src, dest, ignore=lambda folder, names: [n for n in names if Path(folder) == src
                                                             and n in ("build", "expected")])
    return dest


def brief(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", *args], capture_output=True, text=True)


def flat(text: str) -> str:
    """Return PDF or HTML text on one line: hyphenation breaks joined, whitespace collapsed."""
    text = re.sub(r"[\u2010\u00ad]\s*\n\s*", "", text)  # a word the layout hyphenated
    text = re.sub(r"-\s*\n\s*", "-", text)  # a real hyphen at the end of a line
    return re.sub(r"\s+", " ", text).strip()


class _Headings(HTMLParser):
    """Collect the text of every <h2>."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._depth += 1
            self.found.append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.found[-1] += data


def h2_texts(html: str) -> list[str]:
    parser = _Headings()
    parser.feed(html)
    return [flat(h) for h in parser.found if h.strip()]


# ---- fast: check, content, golden HTML ------------------------------------------

@pytest.mark.parametrize("pack", list(SPECS))
def test_check_passes_with_only_the_intended_warnings(pack, tmp_path):
    result = brief("check", "-C", str(copy(pack, tmp_path / pack)))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "ok: content is valid" in out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    intended = SPECS[pack]["warnings"]
    assert len(warnings) == len(intended), "\n".join(warnings)
    for line, expected in zip(warnings, intended, strict=True):
        assert expected in line


def test_treaty_declares_its_own_words_and_ends_in_a_suspension():
    content = load_pack(PACKS / "treaty")
    versions = content.versions.versions
    assert len(versions) >= 3 and len({p.key for v in versions for p in v.provisions}) >= 12
    assert (versions[-1].kind, versions[-1].status) == ("suspension", "suspended")
    vocabulary = content.vocabulary
    assert "scope" not in vocabulary.keys("areas")
    assert vocabulary.label("areas", "verification") == "Verification"
    assert vocabulary.with_role("version_statuses", "ended") == ("superseded", "expired", "suspended")
    assert "suspension" in vocabulary.with_role("event_kinds", "break")
    assert len(content.events) >= 14
    assert {e.kind for e in content.events} >= {"entry into force", "suspension"}
    assert len({content.audiences[a].template for a in content.audiences}) == len(content.audiences)


def test_regulation_has_staged_dates_stakeholders_without_country_and_exact_figures():
    content = load_pack(PACKS / "regulation")
    assert content.versions.subject and content.versions.agreement is None
    final = content.versions.versions[-1]
    assert [d.iso() for d in final.dates["applies from"]] == ["2025-06-10", "2026-06-10", "2027-12-10"]
    assert all(s.country is None for s in content.stakeholders)
    figures = {f.id: f for f in content.figures}
    assert figures["threshold-final"].value == 10 ** 25 and figures["threshold-final"].style == "exponent"
    assert (figures["fine-cap"].value, figures["fine-cap"].unit) == (35_000_000, "EUR")
    series = [f for f in content.figures if f.quantity == "models-above-threshold"]
    assert len({f.as_of for f in series}) == 2
    assert (content.pack.page_size, content.pack.locale) == ("A4", "en_GB")
    assert set(content.audiences) == {"ministries", "companies", "press"}


@pytest.mark.parametrize("pack, audience", EDITIONS)
def test_html_matches_golden_file(pack, audience):
    content = load_pack(PACKS / pack)
    html = render_html(content, tailor(content, content.audiences[audience])).html
    golden = PACKS / pack / "expected" / f"{audience}.html"
    if os.environ.get("BRIEF_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(html, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; create it with BRIEF_UPDATE_GOLDEN=1"
    assert html == golden.read_text(encoding="utf-8"), (
        f"{pack}/{audience} HTML differs from {golden}; if the change is intended, regenerate with "
        "BRIEF_UPDATE_GOLDEN=1")


# ---- slow: real builds, PDFs read back ------------------------------------------

class Built(NamedTuple):
    pack: Path
    result: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Return a function pack name -> Built: the pack copied and built once per module by `brief build --all`."""
    cache: dict[str, Built] = {}

    def get(pack: str) -> Built:
        if pack not in cache:
            root = copy(pack, tmp_path_factory.mktemp("packs") / pack)
            cache[pack] = Built(root, brief("build", "-C", str(root), "--all"))
        return cache[pack]
    return get


def edition_files(b: Built, audience: str) -> tuple[Path, Path]:
    folder = b.pack / "build" / audience
    pdfs, htmls = sorted(folder.glob("*.pdf")), sorted(folder.glob("*.html"))
    assert len(pdfs) == 1 and len(htmls) == 1, f"{folder}: {sorted(p.name for p in folder.iterdir())}"
    return pdfs[0], htmls[0]


def pages(pdf: Path) -> list[str]:
    return [flat(page.extract_text()) for page in PdfReader(pdf).pages]


@pytest.mark.slow
@pytest.mark.parametrize("pack", list(SPECS))
def test_build_all_exits_0(built, pack):
    b = built(pack)
    assert b.result.returncode == 0, b.result.stdout + b.result.stderr
    for audience in audiences(pack):
        edition_files(b, audience)


@pytest.mark.slow
@pytest.mark.parametrize("pack, audience", EDITIONS)
def test_pdf_has_the_paper_size_and_every_heading(built, pack, audience):
    b = built(pack)
    pdf, html = edition_files(b, audience)
    width, height = PAPER[SPECS[pack]["paper"]]
    for page in PdfReader(pdf).pages:
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == (width, height)
    text = " ".join(pages(pdf)).casefold()  # headings may print in capitals (CSS text-transform)
    headings = h2_texts(html.read_text(encoding="utf-8"))
    assert headings
    missing = [h for h in headings if h.casefold() not in text]
    assert not missing, f"{pdf.name}: headings in the HTML but not the PDF: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("pack, audience, labels", [
    ("treaty", "think-tanks", ["Treaty zone", "Numerical limits", "Verification", "Data exchange",
                               "Consultation and compliance", "Duration", "Withdrawal and suspension"]),
    ("regulation", "companies", ["Who and what is covered", "Systemic-risk threshold", "Provider obligations",
                                 "Transparency", "Supervision", "Penalties", "Application dates"]),
])
def test_pdf_uses_the_packs_own_area_labels(built, pack, audience, labels):
    text = " ".join(pages(edition_files(built(pack), audience)[0]))
    assert [label for label in labels if label not in text] == []
    for other in audiences(pack):  # no built-in area slips in
        assert "Scope" not in " ".join(pages(edition_files(built(pack), other)[0]))


@pytest.mark.slow
def test_regulation_pdf_uses_its_own_stakeholder_kinds(built):
    text = " ".join(pages(edition_files(built("regulation"), "ministries")[0]))
    assert "Union institution" in text and "Parliament committee" in text


@pytest.mark.slow
@pytest.mark.parametrize("audience", audiences("treaty"))
def test_cyrillic_quotation_is_printed(built, audience):
    text = " ".join(pages(edition_files(built("treaty"), audience)[0]))
    assert CYRILLIC_QUOTE in text


@pytest.mark.slow
@pytest.mark.parametrize("audience", audiences("regulation"))
def test_big_numbers_read_as_words_and_powers_of_ten(built, audience):
    text = " ".join(pages(edition_files(built("regulation"), audience)[0]))
    assert not re.search(r"\d(\.\d+)?[eE][+-]?\d", text), "a number printed in exponent notation"
    assert "10000000000000000000000000" not in text and "10,000,000,000" not in text
    assert "10²⁵ floating-point operations" in text
    assert "EUR 35 million" in text
    assert "7%" in text


@pytest.mark.slow
def test_a_series_is_not_shown_as_a_conflict_but_a_conflict_is(built):
    regulation = " ".join(pages(edition_files(built("regulation"), "companies")[0]))
    assert "14 models" in regulation and "31 models" in regulation
    assert "conflicting figures" not in regulation.casefold()
    treaty = " ".join(pages(edition_files(built("treaty"), "think-tanks")[0]))
    assert "conflicting figures" in treaty.casefold()


@pytest.mark.slow
@pytest.mark.parametrize("pack, audience", [(p, a) for p, a in EDITIONS if a in SPECS[p]["timeline"]])
def test_timeline_svg_is_in_the_edition(built, pack, audience):
    html = edition_files(built(pack), audience)[1].read_text(encoding="utf-8")
    assert '<svg class="timeline"' in html
    assert re.search(r'<title id="tl-title">Timeline of the [^<]+</title>', html)


@pytest.mark.slow
def test_the_think_tank_edition_runs_its_table_and_timeline_across_pages(built):
    # The point of the treaty fixture's length: a changes table and a timeline that break across pages.
    text = pages(edition_files(built("treaty"), "think-tanks")[0])
    header = "AREA 2011 TREATY 2024 SUSPENSION BY ZAROVIA CHANGE"  # the table head repeats on each page
    assert sum(header in page for page in text) >= 2
    first = next(i for i, page in enumerate(text) if "Talks open in Ostermark" in page)
    last = next(i for i, page in enumerate(text) if "Extended term ends" in page)
    assert last > first
