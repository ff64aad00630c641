"""What is new: content snapshots in releases, `brief changes`, the whats_new section, the index and the feed."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief.cli import main
from brief.commands.publish import run_publish
from brief.compare.changes import content_changes
from brief.content.snapshot import SNAPSHOT, SnapshotError, read_snapshot, snapshot_of, snapshot_text
from brief.edition.checks import load_pack
from brief.edition.render import template_files
from brief.output.build import edition_sources
from brief.output.manifest import edition_changes, make_edition
from brief.output.settings import build_settings
from helpers import fakebuild

ATOM = "{http://www.w3.org/2005/Atom}"
E1, E2 = "2025-03-01-e1", "2025-03-01-e2"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def changes_cli(pack: Path, *args: str):
    return CliRunner().invoke(main, ["changes", "-C", str(pack), *args])


@pytest.fixture
def published(tmp_path) -> Path:
    """The minimal pack, built (without rendering) and published as edition 1."""
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    fakebuild.fake_build(pack)
    assert run_publish(pack, quiet=True) == 0
    return pack


def second_edition(pack: Path) -> None:
    """Change one figure and one assessment, raise the edition, build (without rendering) and publish."""
    edit(pack / "content" / "figures.yaml", "value: 120000", "value: 125000")
    edit(pack / "content" / "assessments.yaml", "confidence: high", "confidence: moderate")
    edit(pack / "content" / "pack.yaml", "edition: 1", "edition: 2")
    fakebuild.fake_build(pack)
    assert run_publish(pack, quiet=True) == 0


# ---- the comparison ------------------------------------------------------------------

def test_changes_are_listed_item_by_item(tmp_path):
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    old = snapshot_of(load_pack(pack))
    new = copy.deepcopy(old)
    new["figures"][0]["value"] = "125000"
    new["figures"][0]["as_of"] = "2025-02"
    new["assessments"][0]["confidence"] = "moderate"
    new["assessments"][0]["body"] = "Irrigation allocations move elsewhere."
    new["sources"].append({"id": "audit-2025", "title": "Audit of the compact", "kind": "report"})
    provision = new["versions"][-1]["provisions"][0]
    provision["text"] = provision["text"] + " Amended."
    changes = content_changes(old, new)
    assert [i.sentence() for i in changes.items] == [
        "Assessment “The revision narrows the compact to drinking water.”: confidence high → moderate; "
        "text changed.",
        "Figure “Households served by the compact”: value 120000 → 125000; as of (none) → 2025-02.",
        f"Provision “{new['versions'][-1]['label']}, {provision['area']}: {provision['key']}”: text changed.",
        "New source: “Audit of the compact”.",
    ]
    assert changes.counts() == {"added": 1, "removed": 0, "changed": 3}
    assert changes.summary() == ("4 changes (1 assessment changed, 1 figure changed, 1 provision changed, "
                                 "1 source added)")
    assert content_changes(old, old).items == ()


def test_removed_items_and_audiences(tmp_path):
    pack = fakebuild.copy_pack("editions", tmp_path / "pack")
    old = snapshot_of(load_pack(pack))
    new = copy.deepcopy(old)
    gone = new["stakeholders"].pop()
    new["figures"][0]["audiences"] = ["staff"]
    changes = content_changes(old, new)
    assert [(i.kind, i.change, i.id) for i in changes.items] == [
        ("figures", "changed", old["figures"][0]["id"]), ("stakeholders", "removed", gone["id"])]
    # The figure was for everyone and is now for staff: both still hear of it, as does nobody else's edition.
    assert [i.id for i in changes.for_audience("press").items] == [old["figures"][0]["id"], gone["id"]]


def test_snapshot_is_stable_and_a_damaged_one_is_refused(tmp_path):
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    text = snapshot_text(load_pack(pack))
    assert text == snapshot_text(load_pack(pack))  # the same bytes on every run
    path = tmp_path / SNAPSHOT
    path.write_text(text, encoding="utf-8")
    assert read_snapshot(path, "s")["figures"][0]["value"] == "120000"  # exact digits, as typed
    path.write_text(text.replace('"120000"', '"999"'), encoding="utf-8")
    with pytest.raises(SnapshotError, match="damaged"):
        read_snapshot(path, "s")
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SnapshotError, match="cannot be read"):
        read_snapshot(path, "s")


# ---- releases and `brief changes` ------------------------------------------------------

def test_release_keeps_a_snapshot_listed_and_checked(published):
    folder = published / "build" / "dist" / E1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert SNAPSHOT in [a["file"] for a in manifest["assets"]]
    assert manifest["changes"]["first"] is True
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert f"{SNAPSHOT}: OK" in check.stdout
    snapshot = read_snapshot(folder / SNAPSHOT, "s")
    assert snapshot == snapshot_of(load_pack(published))


def test_brief_changes_lists_what_changed_since_the_last_release(published):
    edit(published / "content" / "figures.yaml", "value: 120000", "value: 125000")
    result = changes_cli(published)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Changes since release {E1} (edition 1, as of 2025-03-01) to the content now (edition 1, as of "
        "2025-03-01): 1 change (1 figure changed).",
        "",
        "Figures",
        "  ~ users-council “Households served by the compact”: value 120000 → 125000",
    ]
    md = changes_cli(published, "--format", "md", "--since", "1")
    assert "- **Changed** `users-council` “Households served by the compact”: value 120000 → 125000" in md.output
    data = json.loads(changes_cli(published, "--format", "json", "--since", E1).output)
    assert data["format_version"] >= 1 and data["since"] == {"release": E1, "edition": 1, "as_of": "2025-03-01"}
    assert data["changes"] == [{
        "kind": "figure", "list": "figures", "change": "changed", "id": "users-council",
        "title": "Households served by the compact", "audiences": ["all"],
        "sentence": "Figure “Households served by the compact”: value 120000 → 125000.",
        "fields": [{"field": "value", "from": "120000", "to": "125000"}]}]


def test_since_an_unknown_edition_lists_the_known_ones(published):
    second_edition(published)
    result = changes_cli(published, "--since", "e9")
    assert result.exit_code == 2
    assert f"no release or edition 'e9' in build/dist/; known releases: {E2} (edition 2), {E1} (edition 1)" \
        in result.output
    assert "Traceback" not in result.output


def test_no_release_yet_is_a_usage_error(tmp_path):
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    result = changes_cli(pack)
    assert result.exit_code == 2 and "no release in build/dist/ yet" in result.output


@pytest.mark.parametrize("damage", ["missing", "damaged"])
def test_a_missing_or_damaged_snapshot_is_reported(published, damage):
    path = published / "build" / "dist" / E1 / SNAPSHOT
    if damage == "missing":
        path.unlink()
    else:
        path.write_text(path.read_text().replace('"high"', '"low"'))
    result = changes_cli(published)
    assert result.exit_code == 1, result.output
    assert f"build/dist/{E1}/{SNAPSHOT} is {damage}" in result.output
    assert "Traceback" not in result.output
    # Publishing the next edition still works, and says what it cannot know.
    second_edition(published)
    manifest = json.loads((published / "build" / "dist" / E2 / "manifest.json").read_text())
    assert manifest["changes"]["note"].startswith("what changed since edition 1 is not known")
    assert "not known" in (published / "build" / "dist" / "index.html").read_text()


def test_index_and_feed_say_exactly_what_changed(published):
    second_edition(published)
    dist = published / "build" / "dist"
    expected = ["Assessment “The revision narrows the compact to drinking water.”: confidence high → moderate.",
                "Figure “Households served by the compact”: value 120000 → 125000."]
    manifest = json.loads((dist / E2 / "manifest.json").read_text())
    assert manifest["changes"]["items"] == expected and manifest["changes"]["since"] == E1
    feed = ET.parse(dist / "feed.xml").getroot()
    summaries = [e.find(f"{ATOM}summary").text for e in feed.findall(f"{ATOM}entry")]
    assert summaries[0].endswith("What is new since edition 1 (as of 2025-03-01): 2 changes (1 assessment "
                                 f"changed, 1 figure changed). {expected[0]} {expected[1]}")
    assert summaries[1].endswith("What is new: this is the first release.")
    index = (dist / "index.html").read_text()
    section = index[index.index(f'id="r-{E2}"'):index.index(f'id="r-{E1}"')]
    assert re.findall(r"<li>(.*?)</li>", section) == expected


# ---- incremental builds ----------------------------------------------------------------

def test_a_new_release_makes_a_whats_new_edition_out_of_date(published):
    edit(published / "content" / "audiences" / "council.yaml", "  - bottom_line\n", "  - bottom_line\n  - whats_new\n")
    edit(published / "content" / "pack.yaml", "edition: 1", "edition: 3")
    content = load_pack(published)
    build = published / "build"
    inputs, digests, _ = edition_sources(content, "council", template_files(published))
    names = [i.name for i in inputs]
    assert "previous-release:2025-03-01-e3" in names  # compared with edition 1's snapshot
    assert "content/figures.yaml" in names  # what is new may come from any content file
    record = make_edition(build, "council", inputs, [build / "council" / "water-council.pdf"],
                          settings=build_settings(), digests=digests)
    args = (published, template_files(published), build_settings(), build)
    assert edition_changes(record, *args) == []
    # Edition 2 is published after all: edition 3 must say what is new since that one instead.
    (build / "dist" / E2).mkdir()
    assert edition_changes(record, *args) == [f"build/dist/{E2}/ (a newer release to say what is new since)"]
    (build / "dist" / E2).rmdir()
    (build / "dist" / E1 / SNAPSHOT).unlink()  # and a snapshot that goes is a change too
    assert edition_changes(record, *args) == ["previous-release:2025-03-01-e3"]


# ---- end to end: the edition and the feed ------------------------------------------------

def brief(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", *args], capture_output=True, text=True)


def whats_new(html: str) -> list[str]:
    """Return the text of each item of the whats_new section (citations dropped)."""
    section = html[html.index('class="section s-whats-new"'):]
    section = section[:section.index("</section>")]
    items = re.findall(r'<li class="item change-\w+">(.*?)</li>', section, re.S)
    return [re.sub(r"<span class=\"cite\">.*?</span>", "", i).strip() for i in items]


def test_changing_one_figure_and_one_assessment_says_exactly_that(built_editions_copy):
    pack = built_editions_copy
    content = pack / "content"
    edit(content / "audiences" / "press.yaml", "    title: Background\n", "    title: Background\n  - whats_new\n")
    assert brief("build", "-C", str(pack), "--all").returncode == 0
    assert brief("publish", "-C", str(pack)).returncode == 0
    html = next((pack / "build" / "press").glob("*.html")).read_text()
    assert "This is the first edition." not in html  # the fixture is edition 2 ...
    assert "No earlier edition has been published from this pack" in html  # ... with none published before

    edit(content / "figures.yaml", "value: 1200", "value: 1300")
    edit(content / "assessments.yaml", "confidence: low", "confidence: moderate")
    edit(content / "pack.yaml", "edition: 2", "edition: 3")
    built = brief("build", "-C", str(pack), "--all")
    assert built.returncode == 0, built.stderr
    published = brief("publish", "-C", str(pack))
    assert published.returncode == 0, published.stderr

    expected = ["Assessment “Safeguards are stronger, but untested.”: confidence low → moderate.",
                "Figure “Ships covered each year”: value 1200 → 1300."]
    html = next((pack / "build" / "press").glob("*.html")).read_text()
    assert "Since edition 2 of 1 March 2025: 2 changes (1 assessment changed, 1 figure changed)." in html
    assert whats_new(html) == expected
    released = (pack / "build" / "dist" / "2025-03-01-e3" / "harbour-data-accord-press-2025-03-01-e3.html")
    assert whats_new(released.read_text()) == expected
    feed = ET.parse(pack / "build" / "dist" / "feed.xml").getroot()
    summary = feed.find(f"{ATOM}entry").find(f"{ATOM}summary").text
    assert summary.endswith("What is new since edition 2 (as of 2025-03-01): 2 changes (1 assessment changed, "
                            f"1 figure changed). {expected[0]} {expected[1]}")


def test_a_snapshot_leading_outside_the_pack_is_not_read(published, tmp_path):
    outside = tmp_path / "secret.json"
    outside.write_text(snapshot_text(load_pack(published)))
    path = published / "build" / "dist" / E1 / SNAPSHOT
    path.unlink()
    path.symlink_to(outside)
    result = changes_cli(published)
    assert result.exit_code == 1
    assert f"build/dist/{E1}/{SNAPSHOT} leads outside the pack" in result.output
