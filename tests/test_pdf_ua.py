"""PDF/UA that holds: every edition's structure tree walked with pikepdf, as a screen reader would meet it.

Running heads, footers and page numbers are artifacts (and out of the structure tree and its ParentTree);
everything else drawn is in the tree; no Table inside a Table (the hidden caption is the Table's first child);
every Figure has /Alt; every header cell has /Scope; the document has a language and a title it shows.
The walk here is written independently of brief.output.tagging, whose checker is tested on WeasyPrint's
raw output. pdfua (a published subset checker) gives a second opinion on every edition.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from brief.edition.checks import load_pack
from brief.edition.render import render_html
from brief.edition.tailor import tailor
from brief.errors import BuildError
from brief.output.pdf import render_pdf
from brief.output.tagging import hold_tags, tag_problems
from conftest import PACKS
from helpers import FIXTURES, copy_pack

pytestmark = pytest.mark.slow

_TEXT_OPS = {"Tj", "TJ", "'", '"'}


def _audiences(pack: Path) -> list[str]:
    return sorted(p.stem for p in (pack / "content" / "audiences").glob("*.yaml"))


EDITIONS = [(name, audience) for name, (source, _) in PACKS.items() for audience in _audiences(source)]
FIXTURE_EDITIONS = _audiences(FIXTURES / "editions" / "pack")


def edition_pdf(pack: Path, audience: str) -> Path:
    """Return an edition's PDF/UA file (not its archival copy)."""
    pdfs = [p for p in (pack / "build" / audience).glob("*.pdf") if not p.name.endswith("_archival.pdf")]
    assert len(pdfs) == 1, pdfs
    return pdfs[0]


def _kids(element):
    kids = element.get("/K")
    return [k for k in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else [])]


def tree(pdf: pikepdf.Pdf):
    """Yield (element, its ancestors' types) for every structure element reached from the root."""
    stack = [(k, ()) for k in _kids(pdf.Root.StructTreeRoot) if isinstance(k, pikepdf.Dictionary)]
    while stack:
        element, ancestors = stack.pop()
        yield element, ancestors
        stack += [(k, (*ancestors, str(element.S))) for k in _kids(element)
                  if isinstance(k, pikepdf.Dictionary) and "/S" in k]


def mcids_in_tree(pdf: pikepdf.Pdf) -> dict[tuple[int, int], dict[int, pikepdf.Object]]:
    """{page id: {MCID: the element that holds it}} for the marked content the tree reaches."""
    found: dict = {}
    for element, _ in tree(pdf):
        for kid in _kids(element):
            if isinstance(kid, int):
                found.setdefault(element.Pg.objgen, {})[kid] = element
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                found.setdefault(kid.get("/Pg", element.Pg).objgen, {})[int(kid.MCID)] = element
    return found


def marked_text_ops(page: pikepdf.Page):
    """Yield (text-showing instruction, 'artifact' | MCID | None) for each text operator on the page."""
    stack: list = []
    for instruction in pikepdf.parse_content_stream(page):
        op, operands = str(instruction.operator), instruction.operands
        if op in ("BMC", "BDC"):
            props = operands[1] if op == "BDC" else None
            stack.append("artifact" if operands[0] == "/Artifact" else
                         int(props.MCID) if isinstance(props, pikepdf.Dictionary) and "/MCID" in props else None)
        elif op == "EMC":
            stack.pop()
        elif op in _TEXT_OPS:
            marks = [m for m in stack if m is not None]
            yield instruction, "artifact" if "artifact" in marks else (marks[-1] if marks else None)


def text_split(path: Path) -> list[tuple[str, str]]:
    """Return each page's (artifact text, tagged text), by blanking the other kind's text operators."""
    out = []
    for keep in ("artifact", "tagged"):
        pdf = pikepdf.open(path)
        for page in pdf.pages:
            marks = iter([mark for _, mark in marked_text_ops(page)])
            kept = [i for i in pikepdf.parse_content_stream(page)
                    if str(i.operator) not in _TEXT_OPS or (next(marks) == "artifact") == (keep == "artifact")]
            page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
        buffer = io.BytesIO()
        pdf.save(buffer)
        out.append([_flat(p.extract_text()) for p in PdfReader(buffer).pages])
    return list(zip(*out, strict=True))


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def all_editions(built_packs, editions_build):
    """Yield (label, pack, PDF) for every default edition: the STA pack, the two test packs, the editions fixture."""
    yield from ((f"{name}/{a}", built_packs[name], edition_pdf(built_packs[name], a)) for name, a in EDITIONS)
    yield from ((f"editions/{a}", editions_build.pack, edition_pdf(editions_build.pack, a)) for a in FIXTURE_EDITIONS)


# ---- every edition -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, audience", EDITIONS)
def test_nothing_is_drawn_outside_both_the_tree_and_artifacts(built_packs, name, audience):
    pdf = pikepdf.open(edition_pdf(built_packs[name], audience))
    linked = mcids_in_tree(pdf)
    for n, page in enumerate(pdf.pages, 1):
        on_page = linked.get(page.objgen, {})
        for _, mark in marked_text_ops(page):
            assert mark == "artifact" or mark in on_page, f"page {n}: text in MCID {mark}, not in the tree"
        # The ParentTree maps exactly the MCIDs the tree holds, each to the element that holds it.
        parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)[int(page.StructParents)]
        assert len(parents) == len(on_page) and sorted(on_page) == list(range(len(parents)))
        assert all(parents[m].objgen == element.objgen for m, element in on_page.items())


@pytest.mark.parametrize("name, audience", EDITIONS)
def test_running_heads_and_page_numbers_are_artifacts_and_the_body_is_not(built_packs, name, audience):
    pack = built_packs[name]
    content = load_pack(pack)
    pages = text_split(edition_pdf(pack, audience))
    title = _flat(content.pack.title)
    for n, (artifact, tagged) in enumerate(pages, 1):
        footer = f"Page {n} of {len(pages)}"
        assert footer in artifact, (n, artifact)
        assert footer not in tagged, (n, tagged)
        if n > 1:  # the running head (page 1 has the masthead instead)
            assert title[:30] in artifact
    assert title[:30] in pages[0][1], "the masthead's title is real content, tagged"
    assert content.pack.handling is None or _flat(content.pack.handling)[:30] in pages[-1][0]


def test_every_edition_has_language_title_alt_text_and_header_scope(built_packs, editions_build):
    checked = 0
    for label, pack, path in all_editions(built_packs, editions_build):
        pdf = pikepdf.open(path)
        content = load_pack(pack)
        assert str(pdf.Root.Lang) == content.pack.language, label
        audience = content.audiences[label.split("/")[1]]
        assert str(pdf.docinfo.Title) == f"{content.pack.title}: {audience.title}", label
        assert pdf.Root.ViewerPreferences.DisplayDocTitle, label
        assert pdf.Root.MarkInfo.Marked, label
        assert pdf.open_metadata().get("pdfuaid:part") == "1", label
        for element, ancestors in tree(pdf):
            kind = str(element.S)
            if kind == "/Figure":
                assert str(element.get("/Alt", "")).strip(), f"{label}: a Figure without /Alt"
            elif kind == "/TH":
                scope = element.A.get("/Scope")
                group = next(a for a in reversed(ancestors) if a in ("/THead", "/TBody", "/TFoot"))
                assert scope == ("/Column" if group == "/THead" else "/Row"), (label, scope, group)
            elif kind == "/Table":
                assert "/Table" not in ancestors, f"{label}: a Table inside a Table"
                kinds = [str(k.S) for k in _kids(element) if isinstance(k, pikepdf.Dictionary)]
                assert set(kinds) <= {"/Caption", "/THead", "/TBody", "/TFoot", "/TR"}, (label, kinds)
                assert "/Caption" not in kinds[1:], f"{label}: the caption is not the table's first child"
            checked += 1
    assert checked > 1000


def test_the_changes_tables_hidden_caption_is_the_tables_first_child(built_packs):
    # universities shows the changes side by side; its caption is for screen readers only.
    pdf = pikepdf.open(edition_pdf(built_packs["sta"], "universities"))
    tables = [e for e, _ in tree(pdf) if e.S == "/Table"]
    first = [str(_kids(t)[0].S) for t in tables]
    assert "/Caption" in first
    split = text_split(edition_pdf(built_packs["sta"], "universities"))
    assert any("side by side, by area" in tagged for _, tagged in split)


def test_a_published_checker_finds_nothing(built_packs, editions_build):
    # pdfua covers 16 of the 106 machine-checkable PDF/UA-1 rules (it passed the old PDFs too: it counts
    # margin-box text as tagged because it sits in marked content); it is a second opinion, not the gate.
    from pdfua import validate

    for label, _, path in all_editions(built_packs, editions_build):
        report = validate(str(path))
        assert report.findings == (), (label, [(f.rule_id, f.message) for f in report.findings])


# ---- the checker and the fix, on WeasyPrint's own output ---------------------------------------

RAW = """<!DOCTYPE html><html lang="en"><head><title>Raw</title><style>
@page { size: A6; margin: 2cm 1cm;
        @top-center { content: "Running head" } @bottom-center { content: "Page " counter(page) } }
caption { position: absolute; width: 1px; height: 1px; overflow: hidden; }
</style></head><body><h1>Body text</h1>
<svg width="10" height="10" xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>
<table><caption>Hidden caption</caption><thead><tr><th>Area</th><th>Text</th></tr></thead>
<tbody><tr><th>Scope</th><td>Research</td></tr></tbody></table></body></html>"""


def test_the_checker_finds_what_weasyprint_gets_wrong_and_the_fix_leaves_the_page_alone():
    import weasyprint

    raw = weasyprint.HTML(string=RAW).write_pdf(pdf_variant="pdf/ua-1")
    problems = " | ".join(tag_problems(pikepdf.open(io.BytesIO(raw))))
    for expected in ("outside both the structure tree and artifacts", "a Table nested in a Table",
                     "a Figure without /Alt", "a table header cell (TH) without /Scope"):
        assert expected in problems
    fixed, left = hold_tags(raw)
    assert not any("outside both" in p for p in left) and any("Figure" in p for p in left)
    before, after = pikepdf.open(io.BytesIO(raw)), pikepdf.open(io.BytesIO(fixed))
    for old, new in zip(before.pages, after.pages, strict=True):
        a, b = list(pikepdf.parse_content_stream(old)), list(pikepdf.parse_content_stream(new))
        changed = [(x, y) for x, y in zip(a, b, strict=True) if pikepdf.unparse_content_stream([x]) !=
                   pikepdf.unparse_content_stream([y])]
        # Only marked-content openings change (to /Artifact): the page draws exactly as before.
        assert changed and all(str(x.operator) == str(y.operator) == "BDC" for x, y in changed)
        assert all(y.operands[0] == "/Artifact" and y.operands[1].Type == "/Pagination" for _, y in changed)
    assert hold_tags(raw)[0] == fixed, "the fix is deterministic"


def _print(tmp_path: Path, case: str, audience: str):
    content = load_pack(copy_pack("editions", tmp_path / "pack", case))
    return render_pdf(render_html(content, tailor(content, content.audiences[audience])))


def test_an_svg_without_a_name_fails_the_edition_and_says_what_to_do(tmp_path):
    with pytest.raises(BuildError) as e:
        _print(tmp_path, "svg-without-name", "staff")
    assert e.value.message.startswith("staff: the pdf/ua-1 PDF breaks the tagging rules")
    assert "a Figure without /Alt: give an <img> alt text, an <svg> a <title> or aria-label" in e.value.message


def test_an_svg_named_by_aria_label_gets_it_as_alt(tmp_path):
    result = _print(tmp_path, "svg-labelled", "staff")
    alts = [str(e.Alt) for e, _ in tree(pikepdf.open(io.BytesIO(result.pdf))) if e.S == "/Figure"]
    assert alts == ["Emblem of the example lab"]


def test_a_caption_taken_out_of_the_flow_fails_the_edition(tmp_path):
    with pytest.raises(BuildError) as e:
        _print(tmp_path, "caption-out-of-flow", "research")
    assert "a Table nested in a Table" in e.value.message
