"""Word editions (`brief build --format docx`), read back with python-docx as a reader's Word would show them.

Each edition's .docx is compared with the edition's own HTML: the same headings as Word
headings, the same table rows (the changes table included, redlines as Word character
styles), numbered citations that link to the numbered sources, graphics as PNG images with
their text alternative, the pack's document properties, and no screen-reader-only text.
Word-only builds print no PDF, so most of these tests are fast.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.shared import Mm

from brief.cli import main
from brief.edition.checks import load_pack
from brief.edition.render import render_html
from brief.edition.tailor import tailor
from brief.output.formats import parse_formats
from brief.output.raster import edition_fonts, svg_to_png
from brief.templating import builtin_templates
from helpers import FIXTURES, REPO

PACKS = REPO / "tests" / "packs"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def brief(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", *map(str, args)], capture_output=True, text=True)


def flat(text: str) -> str:
    """Text without any white space: Word and HTML break and space inline pieces differently."""
    return "".join(text.split())


class Html(HTMLParser):
    """What a reader sees in an edition's HTML: headings, table rows, graphics' text, redlines, hidden text."""

    HIDDEN = {"vh", "visually-hidden", "sr-only"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str]] = []
        self.rows: list[list[str]] = []
        self.graphics: list[str] = []  # each <svg role=img>: its title and description
        self.marks: dict[str, list[str]] = {"ins": [], "del": []}
        self.hidden: list[str] = []
        self.sources: list[str] = []  # ids of the sources list's items, in order
        self._stack: list[tuple[str, bool]] = []  # (tag, hidden)
        self._text: dict[str, list[str]] = {}
        self.feed(html)

    def _hidden(self) -> bool:
        return any(h for _, h in self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("img", "br", "meta", "link", "col", "input", "hr"):
            return
        hidden = self._hidden() or bool(self.HIDDEN & set((a.get("class") or "").split()))
        self._stack.append((tag, hidden))
        if hidden and not any(h for _, h in self._stack[:-1]):
            self._text["hidden"] = []
        if tag in ("h1", "h2", "h3", "tr", "td", "th", "title", "desc", "ins", "del") and not hidden:
            self._text[tag] = []
        if tag == "tr":
            self.rows.append([])
        if tag == "svg" and a.get("role") == "img":
            self._text["svg"] = []
        if tag == "li" and (a.get("id") or "").startswith("src-"):
            self.sources.append(a["id"])

    def handle_endtag(self, tag):
        while self._stack and self._stack[-1][0] != tag and tag in {t for t, _ in self._stack}:
            self._stack.pop()
        if not self._stack or self._stack[-1][0] != tag:
            return
        _, hidden = self._stack.pop()
        if hidden and not self._hidden():
            self.hidden.append(" ".join("".join(self._text.pop("hidden", [])).split()))
        if hidden:
            return
        if tag == "svg" and "svg" in self._text:
            self.graphics.append(" ".join(t for t in self._text.pop("svg") if t))
            return
        text = "".join(self._text.pop(tag, []))
        if tag in ("h1", "h2", "h3"):
            self.headings.append((int(tag[1]), " ".join(text.split())))
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append(text)
        elif tag in ("title", "desc") and "svg" in self._text:
            self._text["svg"].append(" ".join(text.split()))
        elif tag in ("ins", "del"):
            self.marks[tag].append(text)

    def handle_data(self, data):
        for key, parts in self._text.items():  # a graphic's text is its title and description only
            if key == "hidden" or (key != "svg" and not self._hidden()):
                parts.append(data)


def html_of(pack: Path) -> dict[str, Html]:
    """Render every edition's HTML as the build does, and read it."""
    content = load_pack(pack)
    return {name: Html(render_html(content, tailor(content, profile)).html)
            for name, profile in content.audiences.items()}


def word_build(pack_src: Path, dest: Path) -> Path:
    """Copy a pack (content and sources only) and build every edition as Word only; return the copy."""
    for part in ("content", "sources"):
        if (pack_src / part).is_dir():
            shutil.copytree(pack_src / part, dest / part)
    result = brief("build", "-C", dest, "--all", "--format", "docx")
    assert result.returncode == 0, result.stdout + result.stderr
    return dest


@pytest.fixture(scope="module")
def sta(tmp_path_factory) -> Path:
    """The shipped pack (content/), built as Word only."""
    return word_build(REPO, tmp_path_factory.mktemp("sta"))


@pytest.fixture(scope="module")
def regulation(tmp_path_factory) -> Path:
    """tests/packs/regulation (A4, redlines in its changes table), built as Word only."""
    return word_build(PACKS / "regulation", tmp_path_factory.mktemp("regulation"))


def documents(pack: Path) -> dict[str, docx.document.Document]:
    return {p.parent.name: docx.Document(str(p)) for p in sorted((pack / "build").glob("*/*.docx"))}


def body_text(document) -> str:
    return "".join(t.text or "" for t in document.element.body.iter(f"{W}t"))


@pytest.fixture(params=["sta", "regulation"])
def pack(request) -> Path:
    return request.getfixturevalue(request.param)


# ---- what is written ----------------------------------------------------------------

def test_word_only_build_writes_one_docx_per_edition_and_lists_it_in_the_manifest(sta):
    content = load_pack(sta)
    written = sorted(p.relative_to(sta / "build").as_posix() for p in (sta / "build").rglob("*")
                     if p.is_file() and p.name != ".brief.lock")
    assert written == sorted(["manifest.json", *(f"{n}/us-china-sta-{n}.docx" for n in content.audiences)])
    again = brief("build", "-C", sta, "--all", "--format", "docx")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("unchanged, skipped") == len(content.audiences)
    assert "nothing to do" in again.stdout


def test_headings_are_word_headings_in_the_order_of_the_html(pack):
    htmls, docs = html_of(pack), documents(pack)
    assert set(docs) == set(htmls)
    for name, document in docs.items():
        words = [(int(p.style.name.removeprefix("Heading ")), " ".join(p.text.split()))
                 for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2", "Heading 3")]
        assert words == htmls[name].headings, name


def test_table_rows_match_the_html_tables_cell_by_cell(pack):
    htmls, docs = html_of(pack), documents(pack)
    tables = 0
    for name, document in docs.items():
        rows = [[flat(c.text) for c in row.cells] for table in document.tables for row in table.rows]
        assert rows == [[flat(c) for c in row] for row in htmls[name].rows], name
        tables += len(document.tables)
        for table in document.tables:
            header = table.rows[0]._tr.trPr
            assert header is not None and header.find(f"{W}tblHeader") is not None  # repeats on each page
    assert tables >= 1  # each pack has a changes table in one edition


def test_redlines_are_underlined_and_struck_with_their_own_word_styles(regulation):
    htmls, docs = html_of(regulation), documents(regulation)
    marked = 0
    for name, document in docs.items():
        runs = [r for p in document.element.body.iter(f"{W}p")
                for r in docx.text.paragraph.Paragraph(p, document._body).runs]
        inserted = [r for r in runs if r.style is not None and r.style.name == "Inserted Text"]
        deleted = [r for r in runs if r.style is not None and r.style.name == "Deleted Text"]
        assert "".join(r.text for r in inserted) == "".join(htmls[name].marks["ins"]), name
        assert "".join(r.text for r in deleted) == "".join(htmls[name].marks["del"]), name
        assert all(r.font.underline for r in inserted) and all(r.font.strike for r in deleted)
        marked += len(inserted) + len(deleted)
        if inserted:  # the styles colour the marks, as the HTML does
            assert str(document.styles["Inserted Text"].font.color.rgb) == "1F3A5F"
            assert document.styles["Deleted Text"].font.strike
    assert marked >= 4


def test_citations_link_to_the_numbered_sources_list(pack):
    htmls, docs = html_of(pack), documents(pack)
    for name, document in docs.items():
        cited = {h.fragment for p in document.paragraphs for h in p.hyperlinks if h.fragment.startswith("src-")}
        cited |= {h.fragment for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs
                  for h in p.hyperlinks if h.fragment.startswith("src-")}
        assert cited, name
        # The n-th item of the numbered sources list carries the bookmark src-n that [n] links to.
        items = [p for p in document.paragraphs if p._p.pPr is not None and p._p.pPr.numPr is not None
                 and p._p.xpath("./w:bookmarkStart[starts-with(@w:name, 'src-')]")]
        marks = [p._p.xpath("./w:bookmarkStart/@w:name")[0] for p in items]
        assert marks == htmls[name].sources == [f"src-{n}" for n in range(1, len(marks) + 1)], name
        assert cited <= set(marks), name
        assert len({p._p.pPr.numPr.numId.val for p in items}) == 1  # one list, numbered from 1


def test_graphics_are_png_images_with_their_text_alternative(sta):
    htmls, docs = html_of(sta), documents(sta)
    assert any(h.graphics for h in htmls.values())
    for name, document in docs.items():
        drawn = document.element.body.xpath(".//wp:docPr")
        assert [d.get("descr") for d in drawn] == htmls[name].graphics, name
        for shape in document.inline_shapes:
            blob = document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
            assert blob.startswith(b"\x89PNG\r\n\x1a\n") and len(blob) > 2000
    timeline = documents(sta)["journalists"].element.body.xpath(".//wp:docPr")[0]
    assert timeline.get("descr").startswith("Timeline of ") and timeline.get("title").startswith("Timeline of ")


def test_graphics_text_is_drawn_with_the_editions_fonts():
    # The SVG names the @font-face family ("Brief Inter"), not the font's own: without mapping one to the
    # other, resvg (which sees only the shipped fonts) draws no text at all.
    files = builtin_templates("editions")
    assets = {"brief.css": files / "brief.css", **{f"fonts/{p.name}": p for p in (files / "fonts").glob("*.otf")}}
    fonts = edition_fonts(assets)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 60 20" font-family="Brief Inter">{}</svg>'
    with_text = svg_to_png(svg.format('<text x="2" y="15" font-size="12">1979</text>'), fonts, "test")
    assert with_text != svg_to_png(svg.format(""), fonts, "test")
    assert "inter" in {f.lower() for f in fonts.names.values()}


def test_no_screen_reader_only_text_is_visible(regulation):
    htmls, docs = html_of(regulation), documents(regulation)
    hidden = {t for h in htmls.values() for t in h.hidden if t}
    assert any(t.startswith("[inserted:") for t in hidden)  # the redline labels, as in the HTML
    for name, document in docs.items():
        text = body_text(document)
        assert "[inserted:" not in text and "[deleted:" not in text, name
        for sentence in (t for t in htmls[name].hidden if len(t) > 12):  # e.g. the changes table's caption
            assert sentence not in text, (name, sentence)
        assert not document.element.body.xpath(".//w:vanish")  # not even as Word's hidden text


def test_document_properties_and_paper_come_from_the_pack(pack):
    content = load_pack(pack)
    day = datetime(content.pack.as_of.year, content.pack.as_of.month, content.pack.as_of.day, tzinfo=UTC)
    paper = {"Letter": (Mm(215.9), Mm(279.4)), "A4": (Mm(210), Mm(297))}[content.pack.page_size]
    for name, document in documents(pack).items():
        props = document.core_properties
        assert props.title == f"{content.pack.title}: {content.audiences[name].title}"
        assert props.subject == " ".join(content.pack.topic.split()) or props.subject == content.pack.topic
        assert props.author == (content.pack.author or content.pack.organisation)
        assert props.keywords == ", ".join(content.pack.keywords)
        assert props.language == content.pack.language
        assert props.created == props.modified == day
        assert props.revision == content.pack.edition
        section = document.sections[-1]
        assert abs(section.page_width - paper[0]) < Mm(1) and abs(section.page_height - paper[1]) < Mm(1)
        with zipfile.ZipFile(pack / "build" / name / next((pack / "build" / name).glob("*.docx")).name) as z:
            assert f"<Company>{content.pack.organisation}</Company>" in z.read("docProps/app.xml").decode()
            assert {i.date_time[:3] for i in z.infolist()} == {(day.year, day.month, day.day)}


def test_the_same_content_gives_the_same_bytes(sta, tmp_path):
    copy = shutil.copytree(sta, tmp_path / "pack")
    before = {p.name: p.read_bytes() for p in (copy / "build").glob("*/*.docx")}
    result = brief("build", "-C", copy, "--all", "--format", "docx", "--force")
    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_bytes() for p in (copy / "build").glob("*/*.docx")} == before


# ---- the option, and bad input ------------------------------------------------------

def test_formats_are_repeatable_or_comma_separated_and_unknown_ones_are_a_usage_error(tmp_path):
    assert parse_formats(["docx"]) == ("docx",)
    assert parse_formats(["docx,html", "pdf"]) == ("html", "pdf", "docx")
    assert parse_formats([]) == ("html", "pdf")
    r = CliRunner().invoke(main, ["build", "-C", str(tmp_path), "--all", "--format", "html,odt"])
    assert r.exit_code == 2
    assert "unknown format 'odt'; choose from html, pdf, docx" in r.output


def test_a_pack_reference_document_that_is_not_a_docx_fails_the_edition_and_writes_nothing(tmp_path):
    pack = shutil.copytree(FIXTURES / "minimal", tmp_path / "pack", ignore=shutil.ignore_patterns("build"))
    shutil.copytree(FIXTURES / "docx" / "not-a-docx" / "templates", pack / "templates")
    result = brief("build", "-C", pack, "--all", "--format", "docx")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "templates/reference.docx is not a usable Word style template" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((pack / "build").glob("*/*.docx"))


@pytest.mark.slow
def test_word_after_a_pdf_build_adds_the_docx_without_printing_again(built_editions_copy):
    pack = built_editions_copy
    pdfs = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (pack / "build").glob("*/*.pdf")}
    added = brief("build", "-C", pack, "--all", "--format", "docx")
    assert added.returncode == 0, added.stderr
    docxs = sorted((pack / "build").glob("*/*.docx"))
    assert len(docxs) == len(pdfs) and all(p.name in added.stdout for p in docxs)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pdfs} == pdfs  # kept, not printed again
    manifest = (pack / "build" / "manifest.json").read_text()
    assert all(f'"{p.relative_to(pack / "build").as_posix()}"' in manifest for p in docxs)
    for args in (("--format", "docx"), ("--format", "html,pdf,docx"), ()):  # the same or fewer formats: no-op
        again = brief("build", "-C", pack, "--all", *args)
        assert again.returncode == 0 and "nothing to do" in again.stdout, (args, again.stdout)
    assert re.search(r"\.docx  unchanged, skipped", again.stdout) is None  # the PDF names a printed edition
