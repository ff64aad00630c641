"""Personalised PDFs as a reader, a screen reader and a re-run see them: cover + edition, one tagged PDF.

Uses the packs `built_packs` builds once per run (the STA pack and the treaty test pack, whose
`congress` and `officials` profiles have covers); tests that rebuild take their own copy.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pypdf
import pytest

from brief.output.manifest import read_manifest
from brief.output.tagging import tag_problems

pytestmark = pytest.mark.slow
TREATY_IDS = ["kal-def-01", "kal-legal-01", "kal-pm-01", "kal-verif-01"]


def recipients(pack: Path, audience: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted((pack / "build" / audience / "recipients").glob("*.pdf"))}


def edition_pdf(pack: Path, audience: str) -> Path:
    manifest, _ = read_manifest(pack / "build")
    return pack / "build" / manifest.editions[audience].file("pdf").path


def words(text: str) -> str:
    return " ".join(text.split())  # lines wrap where the layout wraps them


def brief(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", *args], capture_output=True, text=True)


# ---- what was written -------------------------------------------------------------------------

def test_each_recipient_has_a_pdf_recorded_in_the_manifest(built_packs):
    pack = built_packs["treaty"]
    files = recipients(pack, "officials")
    assert sorted(files) == TREATY_IDS
    manifest, problems = read_manifest(pack / "build")
    assert problems == []
    record = manifest.recipients["officials"]
    body_pages = len(pypdf.PdfReader(edition_pdf(pack, "officials")).pages)
    for rid, path in files.items():
        entry = record.files[rid]
        assert entry.path == f"officials/recipients/{rid}.pdf"
        assert entry.bytes == path.stat().st_size and entry.pages == body_pages + 1
    assert set(manifest.recipients) == {"officials"}  # the other profiles have no cover
    assert sorted(recipients(built_packs["sta"], "congress")) == ["sample-ca-00", "sample-ma-senate", "sample-tx-00"]


def test_the_cover_names_the_office_and_the_body_follows_unchanged(built_packs):
    pack = built_packs["treaty"]
    reader = pypdf.PdfReader(recipients(pack, "officials")["kal-verif-01"])
    cover = words(reader.pages[0].extract_text())
    assert "Kaldera Ministry of Foreign Affairs, Verification Office" in cover
    assert "Dear Ms Korval" in cover and "What the suspension means for verification" in cover
    body = pypdf.PdfReader(edition_pdf(pack, "officials"))
    assert [p.extract_text() for p in reader.pages[1:]] == [p.extract_text() for p in body.pages]
    sta = words(pypdf.PdfReader(recipients(built_packs["sta"], "congress")["sample-ca-00"]).pages[0].extract_text())
    assert "Office of a sample Representative (CA-00)" in sta


# ---- tagging ----------------------------------------------------------------------------------

def _elements(node, parent, found):
    """Collect (element, parent) for every structure element under node, depth first, in order."""
    kids = node.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            found.append((kid, parent))
            _elements(kid, kid, found)
    return found


def _marked(kid, element):
    """Return (page, MCID) for a marked-content kid of element, or None for an element or object reference."""
    if isinstance(kid, int):
        return element.get("/Pg"), int(kid)
    if isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
        return kid.get("/Pg", element.get("/Pg")), int(kid.MCID)
    return None


def _untagged_text(page) -> int:
    """Count text-showing operators outside both tagged content (an MCID) and artifacts."""
    stack, loose = [], 0
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op in ("BDC", "BMC"):
            props = operands[1] if op == "BDC" and len(operands) > 1 else None
            tagged = isinstance(props, pikepdf.Dictionary) and "/MCID" in props
            stack.append(tagged or str(operands[0]) == "/Artifact")
        elif op == "EMC" and stack:
            stack.pop()
        elif op in ("Tj", "TJ", "'", '"') and not any(stack):
            loose += 1
    return loose


def test_the_structure_tree_is_whole_and_starts_with_the_cover(built_packs):
    pdf = pikepdf.open(recipients(built_packs["treaty"], "officials")["kal-legal-01"])
    root = pdf.Root.StructTreeRoot
    (document,) = root.K if isinstance(root.K, pikepdf.Array) else [root.K]
    assert document.S == "/Document"
    elements = _elements(document, document, [])
    pages = [p.obj for p in pdf.pages]
    # The cover's elements come first, on the first page; its heading is an H1 there.
    first = [e for e, parent in elements if parent == document][0]
    assert first.Pg == pages[0]
    assert any(e.S == "/H1" and e.get("/Pg") == pages[0] for e, _ in elements)
    assert all(e.P == parent for e, parent in elements)  # every element points at its real parent
    parents = pikepdf.NumberTree(root.ParentTree)
    keys = sorted(parents.keys())
    assert len(keys) == len(set(keys)) and int(root.ParentTreeNextKey) > keys[-1]
    # Each page's parent-tree entry lists, by MCID, the element that holds that marked content.
    marked = {(m[0].objgen, m[1]): e for e, _ in elements for kid in
              (e.K if isinstance(e.get("/K"), pikepdf.Array) else [e.get("/K")]) if (m := _marked(kid, e))}
    for n, page in enumerate(pages):
        entry = parents[int(page.StructParents)]
        on_page = {mcid: e for (objgen, mcid), e in marked.items() if objgen == page.objgen}
        assert on_page, f"page {n + 1} has no tagged content"
        assert {mcid: entry[mcid] for mcid in on_page} == on_page
        assert _untagged_text(pdf.pages[n]) == 0, f"page {n + 1} has text outside the structure tree"
        for annot in page.get("/Annots", []):  # links: the parent tree leads to the element that holds them
            owner = parents[int(annot.StructParent)]
            assert any(isinstance(k, pikepdf.Dictionary) and k.get("/Obj") == annot for k in owner.K)


def test_language_title_and_pdf_ua_marks_are_the_editions(built_packs):
    pack = built_packs["treaty"]
    body = pikepdf.open(edition_pdf(pack, "officials"))
    for path in recipients(pack, "officials").values():
        pdf = pikepdf.open(path)
        assert pdf.Root.Lang == body.Root.Lang == "en"
        assert pdf.docinfo.Title == body.docinfo.Title
        assert pdf.open_metadata()["dc:title"] == body.open_metadata()["dc:title"]
        assert pdf.open_metadata().get("pdfuaid:part") == "1" and pdf.Root.MarkInfo.Marked
        assert pdf.Root.ViewerPreferences.DisplayDocTitle


# ---- reading aids ------------------------------------------------------------------------------

def test_bookmarks_start_with_the_cover_and_still_lead_to_their_pages(built_packs):
    pack = built_packs["treaty"]
    body = pikepdf.open(edition_pdf(pack, "officials"))
    with body.open_outline() as outline:
        before = [(item.title, _page_of(body, item)) for item in outline.root]
    pdf = pikepdf.open(recipients(pack, "officials")["kal-pm-01"])
    with pdf.open_outline() as outline:
        after = [(item.title, _page_of(pdf, item)) for item in outline.root]
    assert after[0] == ("Cover: Office of the Prime Minister of Kaldera", 0)
    assert after[1:] == [(title, page + 1) for title, page in before]
    assert int(pdf.Root.Outlines.Count) == int(body.Root.Outlines.Count) + 1


def _page_of(pdf: pikepdf.Pdf, item) -> int:
    target = item.destination[0]
    return next(i for i, page in enumerate(pdf.pages) if page.obj == target)


def test_page_labels_keep_the_edition_numbering_it_prints(built_packs):
    pack = built_packs["treaty"]
    reader = pypdf.PdfReader(recipients(pack, "officials")["kal-def-01"])
    total = len(reader.pages) - 1
    assert reader.page_labels == ["Cover", *map(str, range(1, total + 1))]
    for n in range(1, total + 1):
        assert f"Page {n} of {total}" in words(reader.pages[n].extract_text())


def test_links_still_go_where_they_went(built_packs):
    pack = built_packs["treaty"]
    body = pikepdf.open(edition_pdf(pack, "officials"))
    pdf = pikepdf.open(recipients(pack, "officials")["kal-verif-01"])
    def targets(document, offset=0):
        root = document.Root
        names = {str(k): v for k, v in pikepdf.NameTree(root.Names.Dests).items()} if "/Names" in root else {}
        found = []
        for n, page in enumerate(document.pages[offset:]):
            for annot in page.obj.get("/Annots", []):
                dest = annot.get("/Dest") or (annot.A.get("/D") if "/A" in annot else None)
                if isinstance(dest, (pikepdf.String, pikepdf.Name)):
                    dest = names.get(str(dest), dest)
                if isinstance(dest, pikepdf.Array):
                    found.append((n, next(i for i, p in enumerate(document.pages) if p.obj == dest[0]) - offset))
                else:
                    found.append((n, str(annot.A.URI) if "/A" in annot and "/URI" in annot.A else str(dest)))
        return found

    assert targets(pdf, offset=1) == targets(body)


# ---- re-runs ----------------------------------------------------------------------------------

def test_a_rebuild_gives_the_same_bytes(built_packs, tmp_path):
    pack = shutil.copytree(built_packs["treaty"], tmp_path / "pack", symlinks=True)
    before = {rid: p.read_bytes() for rid, p in recipients(pack, "officials").items()}
    result = brief("build", "-C", str(pack), "-a", "officials", "--force")
    assert result.returncode == 0, result.stderr
    assert {rid: p.read_bytes() for rid, p in recipients(pack, "officials").items()} == before


def test_only_changed_recipients_are_printed_again(built_packs, tmp_path):
    pack = shutil.copytree(built_packs["treaty"], tmp_path / "pack", symlinks=True)
    files = recipients(pack, "officials")
    stamp = {rid: p.stat().st_mtime_ns for rid, p in files.items()}
    rows = pack / "content" / "recipients.csv"
    rows.write_text(rows.read_text(encoding="utf-8").replace("Dear Mr Otto", "Dear Dr Otto"), encoding="utf-8")
    result = brief("build", "-C", str(pack), "-a", "officials")
    assert result.returncode == 0, result.stderr
    assert "unchanged, skipped" in result.stdout  # the edition itself is not printed again
    assert "1 personalised PDF built, 3 unchanged" in result.stdout
    changed = {rid for rid, p in files.items() if p.stat().st_mtime_ns != stamp[rid]}
    assert changed == {"kal-legal-01"}
    assert "Dear Dr Otto" in words(pypdf.PdfReader(files["kal-legal-01"]).pages[0].extract_text())
    # A note's group: both recipients whose desk it is.
    notes = pack / "content" / "recipient_notes.yaml"
    notes.write_text(notes.read_text(encoding="utf-8").replace("The date that matters", "The date to watch"),
                     encoding="utf-8")
    assert "2 personalised PDFs built, 2 unchanged" in brief("build", "-C", str(pack), "-a", "officials").stdout
    # A row removed: its PDF goes, and the manifest forgets it.
    rows.write_text("".join(line for line in rows.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not line.startswith("kal-pm-01")), encoding="utf-8")
    result = brief("build", "-C", str(pack), "-a", "officials", "--json")
    summary = json.loads(result.stdout)
    assert summary["recipients"][0]["removed"] == 1 and not files["kal-pm-01"].exists()
    assert "kal-pm-01" not in read_manifest(pack / "build")[0].recipients["officials"].files
    # Nothing changed: skipped without parsing the pack (and without a word about recipients).
    result = brief("build", "-C", str(pack), "-a", "officials")
    assert result.returncode == 0 and "personalised" not in result.stdout and "up to date" in result.stdout


def test_a_deleted_recipient_pdf_is_made_again(built_packs, tmp_path):
    pack = shutil.copytree(built_packs["treaty"], tmp_path / "pack", symlinks=True)
    target = recipients(pack, "officials")["kal-def-01"]
    before = target.read_bytes()
    os.unlink(target)
    result = brief("build", "-C", str(pack), "-a", "officials")
    assert "1 personalised PDF built, 3 unchanged" in result.stdout, result.stderr
    assert target.read_bytes() == before


def test_a_profile_without_its_cover_leaves_no_personalised_pdfs(built_packs, tmp_path):
    pack = shutil.copytree(built_packs["treaty"], tmp_path / "pack", symlinks=True)
    profile = pack / "content" / "audiences" / "officials.yaml"
    text = profile.read_text(encoding="utf-8")
    start = text.index("cover:")
    end = text.index("sections:")
    profile.write_text(text[:start] + text[end:], encoding="utf-8")
    result = brief("build", "-C", str(pack), "-a", "officials")
    assert result.returncode == 0, result.stderr
    assert "0 personalised PDFs built, 4 removed (no longer listed)" in result.stdout
    assert recipients(pack, "officials") == {}
    assert "officials" not in read_manifest(pack / "build")[0].recipients


def test_every_personalised_pdf_keeps_the_tag_rules_editions_keep(built_packs):
    for pack, audience in ((built_packs["treaty"], "officials"), (built_packs["sta"], "congress")):
        for path in recipients(pack, audience).values():
            assert tag_problems(pikepdf.open(path)) == [], path.name


def test_an_unchanged_build_with_recipients_parses_nothing(built_packs, tmp_path):
    pack = shutil.copytree(built_packs["treaty"], tmp_path / "pack", symlinks=True)
    code = (f"import sys\nfrom click.testing import CliRunner\nfrom brief.cli import main\n"
            f"r = CliRunner().invoke(main, ['build', '-C', {str(pack)!r}, '--all'])\n"
            "assert r.exit_code == 0 and 'up to date' in r.output, r.output\n"
            "assert not {'weasyprint', 'pydantic', 'pikepdf'} & set(sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
