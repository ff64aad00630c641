"""Newsroom files: a one-page quotable-facts sheet, the facts as CSV and JSON, press contacts as a vCard."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import vobject
from pypdf import PdfReader

from brief.commands.publish import run_publish
from brief.content import model as m
from brief.edition.checks import load_pack
from brief.edition.newsroom import Attribution, Fact, facts, facts_csv, vcard
from brief.errors import ContentError
from helpers import fakebuild

SLUG = "harbour-data-accord-press"
ATOM = "{http://www.w3.org/2005/Atom}"


def newsroom(pack: Path) -> Path:
    return pack / "build" / "press" / "newsroom"


def test_the_build_writes_newsroom_files_beside_the_edition_that_asks(built_editions):
    assert sorted(p.name for p in newsroom(built_editions).iterdir()) == [
        f"{SLUG}-facts.csv", f"{SLUG}-facts.html", f"{SLUG}-facts.json", f"{SLUG}-facts.pdf",
        f"{SLUG}-press-contacts.vcf"]
    assert not (built_editions / "build" / "staff" / "newsroom").exists()  # staff does not ask
    manifest = json.loads((built_editions / "build" / "manifest.json").read_text())
    recorded = [f["path"] for f in manifest["editions"]["press"]["files"]]
    assert f"press/newsroom/{SLUG}-press-contacts.vcf" in recorded and f"press/{SLUG}.pdf" in recorded
    assert len(PdfReader(newsroom(built_editions) / f"{SLUG}-facts.pdf").pages) == 1


def test_facts_carry_attribution_in_words_date_and_markers(built_editions):
    rows = list(csv.DictReader(io.StringIO((newsroom(built_editions) / f"{SLUG}-facts.csv").read_text())))
    assert [(r["type"], r["id"], r["relation"]) for r in rows] == [
        ("figure", "ships-authority", "conflict"), ("figure", "ships-review", "conflict"),
        ("figure", "operators", "single"), ("quote", "north-port", "")]
    content = load_pack(built_editions)
    review = content.sources["review"]
    quote = rows[3]
    assert quote["statement"] == "a sensible trim" and quote["speaker"] == "North Port chair"
    assert quote["locators"] == "p. 3" and quote["sources"] == "review"
    assert (review.title or review.description) in quote["attribution"] and "p. 3" in quote["attribution"]
    assert rows[2]["date"] == "2023-06" and rows[2]["value"] == "62.5"
    data = json.loads((newsroom(built_editions) / f"{SLUG}-facts.json").read_text())
    assert data["audience"] == "press" and data["edition"] == 2
    assert [f["id"] for f in data["figures"]] == ["ships-authority", "ships-review", "operators"]
    assert data["quotes"][0]["sources"][0]["locator"] == "p. 3"
    html = (newsroom(built_editions) / f"{SLUG}-facts.html").read_text()
    assert html.count("Sources disagree") == 2 and "(as of June 2023)" in html
    assert 'href="../brief.css"' in html  # its stylesheet is the edition's, one folder up
    text = "".join(p.extract_text() for p in PdfReader(newsroom(built_editions) / f"{SLUG}-facts.pdf").pages)
    assert "a sensible trim" in text and "Ships covered each year" in text


def test_vcard_reads_back_as_the_press_contact(built_editions):
    cards = list(vobject.readComponents((newsroom(built_editions) / f"{SLUG}-press-contacts.vcf").read_text()))
    assert len(cards) == 1
    press = next(c for c in load_pack(built_editions).pack.contacts if c.id == "press")
    assert cards[0].fn.value == press.name and cards[0].email.value == press.email
    assert cards[0].title.value == press.role and cards[0].org.value == ["Example Policy Lab"]


@pytest.mark.parametrize("name", ["Eve\r\nEMAIL:attacker@example.com\r\nNOTE:injected", "Zoë Ångström-王",
                                  "Ann; Bob, \\Carl"])
def test_vcard_values_are_encoded_never_injected(name):
    contact = m.Contact.model_construct(id="x", name=name, role="Press: officer\nEND:VCARD", email="p@example.org",
                                        phone=None, note=None)
    text = vcard([contact], "Org, Inc.; Ltd")
    cards = list(vobject.readComponents(text))
    assert len(cards) == 1
    card = cards[0]
    # The line break stays a line break inside the value (vCard escapes it; CRLF reads back as LF).
    assert card.fn.value == name.replace("\r\n", "\n") and card.title.value == "Press: officer\nEND:VCARD"
    assert [e.value for e in card.contents["email"]] == ["p@example.org"]
    assert "note" not in card.contents
    assert card.org.value == ["Org, Inc.; Ltd"]


def test_a_line_break_in_a_contact_name_is_refused_in_the_content(tmp_path):
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    path = pack / "content" / "pack.yaml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("name:"))
    lines[at] = lines[at].split("name:")[0] + 'name: "Eve\\nEMAIL:attacker@example.com"'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ContentError) as e:
        load_pack(pack)
    assert f"content/pack.yaml:{at + 1}:" in e.value.message and "single line" in e.value.message


def test_csv_cells_never_run_as_spreadsheet_formulas():
    fact = Fact("quote", "x", '=HYPERLINK("http://evil.example","click")', None, None,
                (Attribution("s", "@SUM(A1)", None, "-1+2", None),), value="-12.5", speaker="+Someone")
    row = list(csv.DictReader(io.StringIO(facts_csv([fact]))))[0]
    assert row["statement"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["attribution"] == "'@SUM(A1)" and row["speaker"] == "'+Someone" and row["locators"] == "'-1+2"
    assert row["value"] == "-12.5"  # a number stays a number


def test_newsroom_contacts_must_exist(tmp_path):
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    profile = pack / "content" / "audiences" / "council.yaml"
    profile.write_text(profile.read_text() + "newsroom:\n  contacts: [desk, nobody]\n")
    with pytest.raises(ContentError) as e:
        load_pack(pack)
    line = len(profile.read_text().splitlines())
    assert f"content/audiences/council.yaml:{line}:" in e.value.message
    assert "unknown contact 'nobody'" in e.value.message


def test_only_the_audiences_facts_are_given(tmp_path):
    pack = fakebuild.copy_pack("editions", tmp_path / "pack")
    content = load_pack(pack)
    staff = content.audiences["staff"]
    assert [f.id for f in facts(content, staff) if f.type == "figure"] == [
        f.id for f in content.figures if "all" in f.audiences or "staff" in f.audiences]


def test_publish_lists_newsroom_files_in_the_release(built_editions_copy):
    pack = built_editions_copy
    assert run_publish(pack, quiet=True) == 0
    release = "2025-03-01-e2"
    folder = pack / "build" / "dist" / release
    manifest = json.loads((folder / "manifest.json").read_text())
    mine = [f for f in manifest["files"] if f.get("role") == "newsroom"]
    assert sorted(f["file"] for f in mine) == sorted(
        f"newsroom/{SLUG}-{what}-{release}.{ext}" for what, ext in
        [("facts", "csv"), ("facts", "html"), ("facts", "json"), ("facts", "pdf"), ("press-contacts", "vcf")])
    assert {f["type"] for f in mine} == {"text/csv", "text/html", "application/json", "application/pdf",
                                         "text/vcard"}
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0 and f"newsroom/{SLUG}-press-contacts-{release}.vcf: OK" in check.stdout
    # The facts sheet's stylesheet link works inside the release too.
    assert (folder / "newsroom" / f"{SLUG}-facts-{release}.html").read_text().count('href="../brief.css"') == 1
    assert (folder / "brief.css").is_file()
    index = (pack / "build" / "dist" / "index.html").read_text()
    assert f"newsroom/{SLUG}-press-contacts-{release}.vcf" in index and "press contacts (vCard)" in index
    # The edition's own PDF is still the one mailed and enclosed in the feed.
    from brief.publish.release import read_release

    assert read_release(folder).pdf("press").file == f"{SLUG}-{release}.pdf"
    entry = ET.parse(pack / "build" / "dist" / "feed.xml").getroot().find(f"{ATOM}entry")
    enclosures = [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert all("newsroom/" not in href for href in enclosures) and len(enclosures) == 3
