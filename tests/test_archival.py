"""The archival edition: `brief build --archival` (or `archival: true` in a profile) writes, beside each
PDF/UA edition, a PDF/A-3u copy carrying the content files the edition was made from."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from brief.edition.checks import load_pack
from brief.output.archival import PRIVATE, SUFFIX, attachable, mime_type
from brief.output.inputs import Input
from brief.output.manifest import read_manifest
from brief.output.tagging import tag_problems
from conftest import PACKS
from helpers import copy_pack


def _audiences(pack: Path) -> list[str]:
    return sorted(p.stem for p in (pack / "content" / "audiences").glob("*.yaml"))


EDITIONS = [(name, audience) for name, (source, _) in PACKS.items() for audience in _audiences(source)]


def brief(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", *args], capture_output=True, text=True)


def files(pack: Path, audience: str) -> tuple[Path, Path]:
    """Return an edition's PDF/UA file and its archival copy's path."""
    (pdf,) = [p for p in (pack / "build" / audience).glob("*.pdf") if not p.name.endswith(SUFFIX)]
    return pdf, pdf.with_name(pdf.stem + SUFFIX)


# ---- what an archival copy is -------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name, audience", EDITIONS)
def test_the_copy_declares_pdfa_3u_with_an_srgb_output_intent_and_keeps_its_tags(built_packs, name, audience):
    _, archival = files(built_packs[name], audience)
    pdf = pikepdf.open(archival)
    assert pdf.pdf_version == "1.7" and len(pdf.trailer.ID) == 2
    meta = pdf.open_metadata()
    assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "U")
    (intent,) = pdf.Root.OutputIntents
    assert intent.S == "/GTS_PDFA1" and intent.Type == "/OutputIntent"
    icc = intent.DestOutputProfile.read_bytes()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB " and intent.DestOutputProfile.N == 3
    assert "sRGB" in str(intent.OutputConditionIdentifier)
    assert tag_problems(pdf) == []  # as accessible as the PDF/UA edition: same structure, same artifacts


@pytest.mark.slow
@pytest.mark.parametrize("name, audience", EDITIONS)
def test_the_copy_carries_the_content_files_the_edition_was_made_from(built_packs, name, audience):
    pack = built_packs[name]
    pdf = pikepdf.open(files(pack, audience)[1])
    manifest, problems = read_manifest(pack / "build")
    assert problems == []
    inputs = manifest.editions[audience].inputs
    expected = sorted(n for n in inputs if n.startswith("content/") and inputs[n] is not None and n not in PRIVATE)
    assert {"content/pack.yaml", "content/sources.yaml", "content/vocabulary.yaml",
            f"content/audiences/{audience}.yaml"} <= set(expected)
    assert sorted(pdf.attachments) == expected
    as_of = load_pack(pack).pack.as_of
    listed = [spec.objgen for spec in pdf.Root.AF]
    for name_in_pack, spec in pdf.attachments.items():
        data = spec.get_file().read_bytes()
        assert data == (pack / name_in_pack).read_bytes()
        assert hashlib.sha256(data).hexdigest() == inputs[name_in_pack]  # what the manifest says it was built from
        stream = spec.obj.EF.F
        assert bytes(stream.Params.CheckSum) == hashlib.md5(data).digest() and stream.Params.Size == len(data)
        assert stream.Subtype == "/application/yaml"
        assert stream.Params.ModDate == stream.Params.CreationDate == f"D:{as_of:%Y%m%d}000000Z"
        assert spec.obj.AFRelationship == "/Source" and str(spec.obj.UF) == name_in_pack
        assert listed.count(spec.obj.objgen) == 1, "each file listed once in the catalog's /AF"


@pytest.mark.slow
def test_the_default_edition_stays_pdf_ua_and_bears_no_attachments(built_packs):
    for name, audience in EDITIONS:
        pdf = pikepdf.open(files(built_packs[name], audience)[0])
        meta = pdf.open_metadata()
        assert meta.get("pdfuaid:part") == "1" and meta.get("pdfaid:part") is None
        assert "/OutputIntents" not in pdf.Root and len(pdf.attachments) == 0


# ---- building it ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_builds_are_byte_identical_and_the_default_pdf_is_the_one_a_plain_build_makes(editions_build, tmp_path):
    first = copy_pack("editions", tmp_path / "one")
    second = copy_pack("editions", tmp_path / "two")
    for pack in (first, second):
        r = brief("build", "-C", str(pack), "-a", "staff", "--archival")
        assert r.returncode == 0, r.stderr
    (pdf, archival), (_, again) = files(first, "staff"), files(second, "staff")
    assert archival.read_bytes() == again.read_bytes()
    assert pdf.read_bytes() == files(editions_build.pack, "staff")[0].read_bytes()
    assert f"{archival.name}  archival copy (PDF/A-3u, content files attached)" in r.stdout
    record = read_manifest(first / "build")[0].editions["staff"]
    entry = next(f for f in record.files if f.path.endswith(SUFFIX))
    assert entry.sha256 == hashlib.sha256(archival.read_bytes()).hexdigest()
    assert entry.pages == record.file("pdf").pages == len(pikepdf.open(archival).pages)
    assert record.file("pdf").path == f"staff/{pdf.name}"  # what publish and mail take is the PDF/UA edition


@pytest.mark.slow
def test_the_flag_and_the_profile_setting_in_incremental_builds(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack")
    profile = pack / "content" / "audiences" / "staff.yaml"

    def run(*args: str) -> dict:
        r = brief("build", "-C", str(pack), "-a", "staff", "--json", *args)
        assert r.returncode == 0, r.stderr
        (edition,) = json.loads(r.stdout)["editions"]
        return {"status": edition["status"], "archival": files(pack, "staff")[1].is_file()}

    assert run() == {"status": "built", "archival": False}
    assert run("--archival") == {"status": "built", "archival": True}  # asked for, so the edition is rebuilt
    assert run() == {"status": "skipped", "archival": True}  # still matches its inputs: kept
    assert run("--archival") == {"status": "skipped", "archival": True}
    # A changed vocabulary rebuilds the edition (its labels print), and the copy carries the new file.
    vocabulary = pack / "content" / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "\n# revised\n", encoding="utf-8")
    profile.write_text(profile.read_text(encoding="utf-8") + "archival: true\n", encoding="utf-8")
    assert run() == {"status": "built", "archival": True}
    with pikepdf.open(files(pack, "staff")[1]) as pdf:
        assert pdf.attachments["content/vocabulary.yaml"].get_file().read_bytes().endswith(b"# revised\n")
    # Without the setting or the flag, a rebuild removes the copy rather than leave one of older content.
    profile.write_text(profile.read_text(encoding="utf-8").replace("archival: true\n", ""), encoding="utf-8")
    assert run() == {"status": "built", "archival": False}
    assert not any(f.path.endswith(SUFFIX) for f in read_manifest(pack / "build")[0].editions["staff"].files)


def test_a_bad_profile_setting_names_its_line(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack")
    profile = pack / "content" / "audiences" / "staff.yaml"
    profile.write_text(profile.read_text(encoding="utf-8") + "archival: sometimes\n", encoding="utf-8")
    r = brief("check", "-C", str(pack))
    assert r.returncode == 4 and "content/audiences/staff.yaml:" in r.stdout + r.stderr
    assert "archival" in r.stdout + r.stderr and "Traceback" not in r.stderr


# ---- what goes in ---------------------------------------------------------------------------------

def test_mailing_lists_are_never_attached_and_types_do_not_depend_on_the_machine(tmp_path):
    names = ["content/pack.yaml", "content/distribution.yaml", "content/recipients.csv", "content/audiences/a.yaml",
             "templates/brief.css", "content/missing.yaml", "content/pack.yaml"]
    for name in set(names) - {"content/missing.yaml"}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x: 1\n", encoding="utf-8")
    chosen = attachable([Input(n, tmp_path / n) for n in names])
    assert [i.name for i in chosen] == ["content/audiences/a.yaml", "content/pack.yaml"]
    assert [mime_type(n) for n in ("a.yaml", "b.YML", "c.csv", "d.bin")] == [
        "application/yaml", "application/yaml", "text/csv", "application/octet-stream"]


def test_build_help_names_the_option():
    r = brief("build", "--help")
    assert "--archival" in r.stdout and "PDF/A-3" in r.stdout
