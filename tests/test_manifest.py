"""Source hashes and build/manifest.json: skip what did not change, never trust a bad record."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

from brief import __version__
from brief.edition.checks import load_pack
from brief.edition.render import template_dirs, template_files
from brief.edition.sections import SECTIONS
from brief.output.inputs import Input, content_files, edition_inputs, source_hash
from brief.output.manifest import (
    Manifest,
    edition_changes,
    edition_unchanged,
    make_edition,
    read_manifest,
    write_manifest,
)
from brief.output.settings import build_settings
from helpers import fakebuild


@pytest.fixture
def pack(tmp_path):
    return fakebuild.copy_pack("minimal", tmp_path / "pack")


def council_inputs(pack: Path) -> list[Input]:
    profile = load_pack(pack).audiences["council"]
    return edition_inputs(pack, profile, templates=template_files(pack))


def test_every_section_kind_in_the_registry_has_its_built_in_template(tmp_path):
    builtin = template_dirs(tmp_path)[-1]
    for kind in SECTIONS.values():
        assert (builtin / kind.template).is_file(), kind.name
        assert all(name.startswith("content/") and name.endswith(".yaml") for name in kind.reads)


def test_content_files_follow_the_sections():
    assert content_files("council", ["bottom_line", "assessments", "changes", "sources"]) == [
        "content/assessments.yaml", "content/audiences/council.yaml", "content/pack.yaml",
        "content/sources.yaml", "content/versions.yaml"]
    assert "content/versions.yaml" in content_files("press", ["timeline"])
    assert "content/timeline.yaml" in content_files("press", ["timeline"])
    assert content_files("press", ["contacts", "bottom_line"]) == [
        "content/audiences/press.yaml", "content/pack.yaml", "content/sources.yaml"]
    with pytest.raises(KeyError):
        content_files("press", ["horoscope"])


def test_inputs_are_named_independently_of_the_machine(pack):
    inputs = council_inputs(pack)
    names = [i.name for i in inputs]
    assert [n for n in names if n.startswith("content/")] == [
        "content/assessments.yaml", "content/audiences/council.yaml", "content/pack.yaml",
        "content/sources.yaml", "content/versions.yaml"]
    assert {"templates/layouts/dense.html.j2", "templates/fonts/Inter-Regular.otf"} <= set(names)
    assert all(not Path(n).is_absolute() and str(pack) not in n for n in names)
    override = next(i for i in inputs if i.name == "templates/layouts/dense.html.j2")
    assert override.path == pack / "templates" / fakebuild.TEMPLATE  # the pack's copy wins over the built-in one


def test_hash_is_the_same_in_another_directory_at_another_time(pack, tmp_path):
    other = fakebuild.copy_pack("minimal", tmp_path / "elsewhere" / "copy")
    for p in other.rglob("*"):
        os.utime(p, (1_000_000_000, 1_000_000_000))  # different clocks must not matter
    assert source_hash(council_inputs(pack)) == source_hash(council_inputs(other))


def test_hash_format_is_pinned():
    # The exact bytes hashed are part of the format: a machine anywhere must get this value.
    digests = {"content/pack.yaml": hashlib.sha256(b"title: x\n").hexdigest(), "content/glossary.yaml": None}
    assert source_hash(digests, version="1.2.3") == hashlib.sha256(
        b"brief-source-hash 1\nversion\x001.2.3\n"
        b"file\x00content/glossary.yaml\x00-absent-\n"
        + f"file\x00content/pack.yaml\x00{digests['content/pack.yaml']}\n".encode()).hexdigest()


def test_hash_changes_with_what_the_edition_uses_only(pack):
    before = source_hash(council_inputs(pack))
    (pack / "content" / "figures.yaml").write_text("figures: []\n")  # council shows no figures
    assert source_hash(council_inputs(pack)) == before
    for name in ("content/assessments.yaml", "content/audiences/council.yaml", "templates/layouts/dense.html.j2"):
        path = pack / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert source_hash(council_inputs(pack)) != before, name
        path.write_bytes(original)
    assert source_hash(council_inputs(pack)) == before
    assert source_hash(council_inputs(pack), version="9.9.9") != before
    assert source_hash(council_inputs(pack), settings={"allow_overflow": "1"}) != before


def test_creating_a_missing_input_changes_the_hash(pack):
    profile_path = pack / "content" / "audiences" / "council.yaml"
    profile_path.write_text(profile_path.read_text() + "  - glossary\n")
    before = source_hash(council_inputs(pack))
    (pack / "content" / "glossary.yaml").write_text("terms: []\n")
    assert source_hash(council_inputs(pack)) != before


def test_manifest_round_trip_and_edition_unchanged(pack):
    manifest = fakebuild.fake_build(pack)
    build = pack / "build"
    again, warnings = read_manifest(build)
    assert warnings == []
    assert again == manifest
    edition = again.editions["council"]
    assert edition.source_hash == source_hash(council_inputs(pack), settings=build_settings())
    assert [(f.path, f.pages) for f in edition.files] == [
        ("council/fonts/Body.woff2", None), ("council/style.css", None),
        ("council/water-council.html", None), ("council/water-council.pdf", 2)]
    pdf = build / "council" / "water-council.pdf"
    assert edition.file("pdf").sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert edition.file("pdf").bytes == pdf.stat().st_size
    data = json.loads((build / "manifest.json").read_text())
    assert data["editions"]["council"]["brief_version"] == __version__
    assert not [p for p in build.iterdir() if ".tmp-" in p.name]

    templates = template_files(pack)
    assert edition_unchanged(edition, pack, templates, build_settings(), build)
    assert not edition_unchanged(dataclasses.replace(edition, source_hash="0" * 64), pack, templates,
                                 build_settings(), build)
    pdf.write_bytes(pdf.read_bytes() + b"%")
    assert not edition_unchanged(edition, pack, templates, build_settings(), build)
    pdf.unlink()
    assert not edition_unchanged(edition, pack, templates, build_settings(), build)


def test_manifest_is_the_same_bytes_for_the_same_build(pack, tmp_path):
    fakebuild.fake_build(pack)
    first = (pack / "build" / "manifest.json").read_text()
    m, _ = read_manifest(pack / "build")
    write_manifest(pack / "build", m)
    assert (pack / "build" / "manifest.json").read_text() == first


CORRUPTIONS = {
    "not JSON": lambda d: "{ this is not json",
    "truncated": lambda d: json.dumps(d)[:40],
    "a list": lambda d: "[]",
    "wrong format": lambda d: json.dumps({**d, "format": 99}),
    "editions a list": lambda d: json.dumps({**d, "editions": []}),
    "hash not hex": lambda d: json.dumps(_edit(d, lambda e: e.update(source_hash="xyz"))),
    "no files": lambda d: json.dumps(_edit(d, lambda e: e.update(files=[]))),
    "bytes a string": lambda d: json.dumps(_edit(d, lambda e: e["files"][0].update(bytes="12"))),
    "path escapes": lambda d: json.dumps(_edit(d, lambda e: e["files"][0].update(path="../../etc/passwd"))),
    "audience mismatch": lambda d: json.dumps(_edit(d, lambda e: e.update(audience="press"))),
    "binary": lambda d: b"\xff\xfe\x00garbage",
}


def _edit(d, change):
    d = json.loads(json.dumps(d))
    change(d["editions"]["council"])
    return d


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupted_manifest_means_rebuild_never_a_crash(pack, kind):
    fakebuild.fake_build(pack)
    path = pack / "build" / "manifest.json"
    bad = CORRUPTIONS[kind](json.loads(path.read_text()))
    path.write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    manifest, warnings = read_manifest(pack / "build")
    assert manifest.editions == {}
    assert len(warnings) == 1 and str(path) in warnings[0] and "rebuilt" in warnings[0]


def test_hand_edited_hash_drops_only_that_edition(pack):
    fakebuild.fake_build(pack)
    path = pack / "build" / "manifest.json"
    data = json.loads(path.read_text())
    pdf = next(f for f in data["editions"]["council"]["files"] if f["path"].endswith(".pdf"))
    pdf["sha256"] = "0" * 64
    path.write_text(json.dumps(data))
    manifest, warnings = read_manifest(pack / "build")
    assert "council" not in manifest.editions
    assert warnings == [f"{path}: edition 'council': council/water-council.pdf differs from the manifest "
                        f"(changed since it was built); it will be rebuilt"]


def test_missing_manifest_is_empty_without_warning(tmp_path):
    assert read_manifest(tmp_path / "build") == (Manifest(), [])


def changes(pack: Path, audience: str = "council") -> list[str]:
    manifest, _ = read_manifest(pack / "build")
    record = manifest.editions[audience]
    now = (record, pack, template_files(pack), build_settings(), pack / "build")
    found = edition_changes(*now)
    assert edition_unchanged(*now) == (found == [])
    return found


def test_edition_changes_names_what_changed_since_the_build(pack):
    fakebuild.fake_build(pack)
    assert changes(pack) == []
    (pack / "content" / "assessments.yaml").write_text(
        (pack / "content" / "assessments.yaml").read_text().replace("drinking water", "drinking-water"))
    (pack / "templates" / fakebuild.TEMPLATE).write_text("<html>changed</html>\n")
    assert changes(pack) == ["content/assessments.yaml", "templates/layouts/dense.html.j2"]


def test_a_template_override_added_or_removed_after_the_build_is_a_change(pack):
    fakebuild.fake_build(pack)
    (pack / "templates" / "print.css").write_text("@page { size: A5 }\n")  # overrides the built-in print.css
    (pack / "templates" / "extra.css").write_text("p { color: red }\n")  # a new file the templates may use
    assert changes(pack) == ["templates/extra.css (new file)", "templates/print.css (now read from "
                                                                "templates/print.css)"]
    (pack / "templates" / "print.css").unlink()
    (pack / "templates" / "extra.css").unlink()
    assert changes(pack) == []
    (pack / "templates" / fakebuild.TEMPLATE).unlink()  # back to the built-in dense layout
    assert len(changes(pack)) == 1 and changes(pack)[0].startswith("templates/layouts/dense.html.j2 (now read from /")


def test_edition_changes_names_a_changed_output_and_brief_code(pack):
    fakebuild.fake_build(pack)
    manifest, _ = read_manifest(pack / "build")
    record = manifest.editions["council"]
    other = {**build_settings(), "brief_code": "0" * 64}
    assert edition_changes(record, pack, template_files(pack), other, pack / "build") == ["brief's code"]
    (pack / "build" / "council" / "style.css").write_text("tampered\n")
    assert edition_changes(record, pack, template_files(pack), build_settings(), pack / "build") == [
        "council/style.css differs from the manifest (changed since it was built)"]


def test_make_edition_accepts_paths_relative_to_the_build_dir(pack, monkeypatch):
    fakebuild.fake_build(pack)
    monkeypatch.chdir(pack)
    a = make_edition(Path("build"), "council", [], [Path("build/council/water-council.pdf")])
    b = make_edition(pack / "build", "council", [], ["council/water-council.pdf"])
    c = make_edition(pack / "build", "council", [], [pack / "build" / "council" / "water-council.pdf"])
    assert a.files == b.files == c.files
    assert a.files[0].path == "council/water-council.pdf"



def test_templates_can_be_given_as_effective_names(pack, tmp_path):
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "style.css").write_text("body {}\n")
    profile = load_pack(pack).audiences["council"]
    effective = {"congress.html.j2": pack / "templates" / fakebuild.TEMPLATE, "style.css": builtin / "style.css"}
    inputs = edition_inputs(pack, profile, templates=effective)
    names = [i.name for i in inputs if i.name.startswith("templates/")]
    assert names == ["templates/congress.html.j2", "templates/style.css"]
    before = source_hash(inputs)
    (builtin / "style.css").write_text("body { color: black }\n")
    assert source_hash(inputs) != before


def test_record_uses_the_digests_taken_before_rendering(pack):
    from brief.output.inputs import input_digests

    inputs = council_inputs(pack)
    before = input_digests(inputs)
    fakebuild.fake_build(pack)
    (pack / "content" / "assessments.yaml").write_text("assessments: []\n")  # edited while "rendering"
    edition = make_edition(pack / "build", "council", inputs, ["council/water-council.pdf"], digests=before)
    assert edition.source_hash == source_hash(before)
    # so build rebuilds it and publish asks for a rebuild
    assert edition_changes(edition, pack, template_files(pack), {}, pack / "build") == ["content/assessments.yaml"]
