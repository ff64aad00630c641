"""`brief publish`: versioned, verifiable, atomic releases, an index and an Atom feed."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief import JSON_FORMAT_VERSION
from brief.cli import main
from brief.commands.publish import run_publish
from brief.output import atomic as atomic_module
from brief.publish import release as release_module
from helpers import fakebuild

ATOM = "{http://www.w3.org/2005/Atom}"
RELEASE = "2025-03-01-e1"
PDF = f"water-council-{RELEASE}.pdf"
HTML = f"water-council-{RELEASE}.html"
AFTER_EMBARGO = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # 09:00-05:00: the publish fixture's embargo
BEFORE_EMBARGO = datetime(2025, 3, 3, 13, 59, tzinfo=UTC)


@pytest.fixture
def pack(tmp_path):
    p = fakebuild.copy_pack("minimal", tmp_path / "pack")
    fakebuild.fake_build(p)
    return p


def cli(*args: str):
    return CliRunner().invoke(main, ["publish", *args])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def set_pack_field(pack: Path, key: str, value: str) -> None:
    path = pack / "content" / "pack.yaml"
    lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def test_publish_writes_a_verifiable_release(pack):
    result = cli("-C", str(pack))
    assert result.exit_code == 0, result.output
    assert f"wrote release build/dist/{RELEASE}/" in result.output
    folder = pack / "build" / "dist" / RELEASE
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "SHA256SUMS", "content.snapshot.json", "fonts/Body.woff2", "manifest.json", "style.css", HTML, PDF]
    assert (folder / PDF).read_bytes() == (pack / "build" / "council" / "water-council.pdf").read_bytes()
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines() == [
        f"{n}: OK" for n in sorted(["content.snapshot.json", "fonts/Body.woff2", "manifest.json", "style.css", HTML,
                                    PDF])]

    manifest = json.loads((folder / "manifest.json").read_text())
    built = json.loads((pack / "build" / "manifest.json").read_text())["editions"]["council"]
    pdf = next(f for f in manifest["files"] if f["file"] == PDF)
    assert pdf == {"file": PDF, "audience": "council", "title": "Council brief", "type": "application/pdf",
                   "sha256": next(f["sha256"] for f in built["files"] if f["path"].endswith(".pdf")),
                   "bytes": (folder / PDF).stat().st_size, "pages": 2,
                   "source_hash": built["source_hash"]}
    assert manifest["release"] == RELEASE and manifest["edition"] == 1 and manifest["as_of"] == "2025-03-01"
    assert not [p for p in (pack / "build" / "dist").iterdir() if p.name.startswith(".")]


def test_tampered_release_fails_sha256sum(pack):
    assert run_publish(pack) == 0
    folder = pack / "build" / "dist" / RELEASE
    (folder / PDF).write_bytes((folder / PDF).read_bytes() + b"x")
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode != 0 and f"{PDF}: FAILED" in check.stdout


def test_feed_is_atom_with_enclosures_and_stable_ids(pack):
    assert run_publish(pack) == 0
    feed = ET.parse(pack / "build" / "dist" / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id").startswith("urn:sha256:")
    assert feed.findtext(f"{ATOM}updated") == "2025-03-01T00:00:00Z"
    assert feed.findtext(f"{ATOM}title") == "Municipal Water Compact: releases"
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "Example Policy Lab"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    release = json.loads((pack / "build" / "dist" / RELEASE / "manifest.json").read_text())
    assert entry.findtext(f"{ATOM}id") == release["id"]
    assert entry.findtext(f"{ATOM}updated") == "2025-03-01T00:00:00Z"
    enclosures = [link.attrib for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    size = (pack / "build" / "dist" / RELEASE / PDF).stat().st_size
    assert enclosures == [{"rel": "enclosure", "type": "application/pdf", "length": str(size),
                           "title": "Council brief", "href": f"{RELEASE}/{PDF}"}]
    assert any(link.get("rel") == "alternate" for link in entry.findall(f"{ATOM}link"))


def test_index_lists_releases_newest_first(pack):
    assert run_publish(pack) == 0
    set_pack_field(pack, "edition", "2")
    fakebuild.fake_build(pack)
    assert run_publish(pack) == 0
    set_pack_field(pack, "as_of", "2025-04-15")
    set_pack_field(pack, "edition", "3")
    fakebuild.fake_build(pack)
    assert run_publish(pack) == 0
    dist = pack / "build" / "dist"
    html = (dist / "index.html").read_text()
    order = [html.index(f'id="r-{r}"') for r in ("2025-04-15-e3", "2025-03-01-e2", "2025-03-01-e1")]
    assert order == sorted(order)
    assert '<html lang="en">' in html and '<th scope="col">' in html and "<caption>" in html
    assert 'href="2025-04-15-e3/water-council-2025-04-15-e3.pdf"' in html
    feed = ET.parse(dist / "feed.xml").getroot()
    assert [e.findtext(f"{ATOM}updated") for e in feed.findall(f"{ATOM}entry")] == [
        "2025-04-15T00:00:00Z", "2025-03-01T00:00:00Z", "2025-03-01T00:00:00Z"]
    assert feed.findtext(f"{ATOM}updated") == "2025-04-15T00:00:00Z"
    ids = [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
    assert len(set(ids)) == 3


def test_titles_are_escaped_in_index_and_feed(tmp_path):
    p = fakebuild.copy_pack("minimal", tmp_path / "pack")
    set_pack_field(p, "title", '"Water & <script>alert(1)</script> Compact"')
    fakebuild.fake_build(p)
    assert run_publish(p) == 0
    html = (p / "build" / "dist" / "index.html").read_text()
    assert "<script>" not in html and "Water &amp; &lt;script&gt;alert(1)&lt;/script&gt; Compact" in html
    feed = ET.parse(p / "build" / "dist" / "feed.xml").getroot()  # still well-formed XML
    assert feed.findtext(f"{ATOM}title") == "Water & <script>alert(1)</script> Compact: releases"


def test_same_content_twice_is_nothing_to_publish(pack):
    assert run_publish(pack) == 0
    before = tree(pack / "build" / "dist")
    result = cli("-C", str(pack))
    assert result.exit_code == 0, result.output  # nothing new is success: build && publish composes
    assert "nothing new to publish" in result.output
    assert cli("-C", str(pack), "--exit-unchanged").exit_code == 3  # for scripts that act only on change
    assert tree(pack / "build" / "dist") == before


def test_release_and_listing_are_the_same_bytes_on_another_machine(pack, tmp_path):
    other = fakebuild.copy_pack("minimal", tmp_path / "elsewhere" / "pack")
    fakebuild.fake_build(other)
    assert run_publish(pack) == 0 and run_publish(other) == 0
    assert tree(pack / "build" / "dist") == tree(other / "build" / "dist")


def test_changed_content_with_the_same_edition_number_is_refused(pack):
    assert run_publish(pack) == 0
    before = tree(pack / "build" / "dist")
    assessments = pack / "content" / "assessments.yaml"
    assessments.write_text(assessments.read_text().replace("drinking water", "drinking water only"))
    fakebuild.fake_build(pack)
    result = cli("-C", str(pack))
    assert result.exit_code == 4, result.output
    assert f"content/pack.yaml:5:10: edition: edition 1 as of 2025-03-01 was already published in " \
           f"build/dist/{RELEASE}/ with different content" in result.output
    assert "raise 'edition:'" in result.output
    assert tree(pack / "build" / "dist") == before


def test_missing_build_says_to_build_first(tmp_path):
    p = fakebuild.copy_pack("minimal", tmp_path / "pack")
    result = cli("-C", str(p))
    assert result.exit_code == 2
    assert "nothing is built yet (build/manifest.json is missing); run `brief build --all` first" in result.output
    assert not (p / "build").exists()


def test_stale_build_says_what_changed(pack):
    (pack / "content" / "assessments.yaml").write_text(
        (pack / "content" / "assessments.yaml").read_text().replace("high", "moderate"))
    result = cli("-C", str(pack))
    assert result.exit_code == 2
    assert "changed since the build: council (content/assessments.yaml)" in result.output
    assert "run `brief build --all` first" in result.output
    assert not (pack / "build" / "dist").exists()


def test_new_audience_not_built_yet(pack):
    src = pack / "content" / "audiences" / "council.yaml"
    (pack / "content" / "audiences" / "board.yaml").write_text(src.read_text().replace("name: council", "name: board"))
    result = cli("-C", str(pack))
    assert result.exit_code == 2 and "not built: board" in result.output


def test_corrupted_manifest_warns_and_asks_for_a_build(pack):
    (pack / "build" / "manifest.json").write_text("{oops")
    result = cli("-C", str(pack))
    assert result.exit_code == 2
    assert "not a valid brief manifest" in result.output and "not built: council" in result.output


def test_dry_run_changes_nothing(pack):
    before = tree(pack / "build")
    result = cli("-C", str(pack), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would write build/dist/{RELEASE}/{PDF}" in result.output
    assert "would write build/dist/feed.xml" in result.output
    assert tree(pack / "build") == before


def test_json_summary(pack):
    result = cli("-C", str(pack), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["status"] == "published" and summary["release"] == RELEASE and summary["exit_code"] == 0
    assert str(pack / "build" / "dist" / "feed.xml") in summary["written"]
    again = json.loads(cli("-C", str(pack), "--json").stdout)
    assert again["status"] == "unchanged" and again["exit_code"] == 0 and again["written"] == []
    assert summary["format_version"] == again["format_version"] == JSON_FORMAT_VERSION


def test_json_summary_on_error(tmp_path):
    p = fakebuild.copy_pack("minimal", tmp_path / "pack")
    result = cli("-C", str(p), "--json")
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert summary["status"] == "error" and "brief build --all" in summary["error"]


def test_quiet_prints_nothing_on_success(pack):
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--quiet"])
    assert result.exit_code == 0 and result.output == ""


def test_failed_release_write_leaves_nothing_half_written(pack, monkeypatch):
    real = atomic_module.write_bytes_atomic

    def full_on_sums(path, data):
        if Path(path).name == "SHA256SUMS":
            raise atomic_module.write_error(path, OSError(28, "No space left on device"))
        return real(path, data)

    monkeypatch.setattr(release_module, "write_bytes_atomic", full_on_sums)
    assert run_publish(pack) == 5
    monkeypatch.undo()
    dist = pack / "build" / "dist"
    assert list(dist.iterdir()) == []  # no release, no temporary folder, no index pointing at nothing
    assert run_publish(pack) == 0
    assert (dist / RELEASE / "SHA256SUMS").exists()


def test_leftovers_of_a_killed_run_are_cleaned(pack):
    dist = pack / "build" / "dist"
    (dist / f".{RELEASE}.tmp-0badf00d").mkdir(parents=True)
    (dist / f".{RELEASE}.tmp-0badf00d" / PDF).write_bytes(b"%PDF half")
    (dist / ".feed.xml.tmp-12345678").write_text("<feed")
    result = cli("-C", str(pack))
    assert result.exit_code == 0, result.output
    assert "left by an interrupted run" in result.output
    assert sorted(p.name for p in dist.iterdir()) == [RELEASE, "feed.xml", "index.html"]


def test_embargoed_edition_is_held_until_it_lifts(tmp_path):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(p)
    assert run_publish(p, now=BEFORE_EMBARGO) == 0  # held is not a failure
    assert run_publish(p, now=BEFORE_EMBARGO, exit_unchanged=True) == 3
    assert not (p / "build" / "dist").exists()
    assert run_publish(p, now=AFTER_EMBARGO) == 0
    assert (p / "build" / "dist" / "2025-03-01-e2" / "water-press-2025-03-01-e2.pdf").exists()


def test_embargo_message_says_when_it_lifts(tmp_path, capsys):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(p)
    assert run_publish(p, now=datetime(2025, 3, 1, 12, 0, tzinfo=UTC), exit_unchanged=True) == 3
    out = capsys.readouterr().out
    assert ("edition 2 is under embargo until 2025-03-03 09:00-05:00 (2025-03-03 14:00 UTC), 2 days 2 h from now; "
            "nothing was published or sent") in out
    assert "--ignore-embargo" in out


def test_ignore_embargo_publishes_early_with_a_warning(tmp_path, capsys):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(p)
    assert run_publish(p, now=BEFORE_EMBARGO, ignore_embargo=True) == 0
    assert "warning: publishing before the embargo" in capsys.readouterr().err
    release = json.loads((p / "build" / "dist" / "2025-03-01-e2" / "manifest.json").read_text())
    assert release["embargo"] == "2025-03-03T09:00:00-05:00"
    assert "Embargo" in (p / "build" / "dist" / "index.html").read_text()


def test_publish_does_not_import_weasyprint(pack):
    code = ("import sys; from brief.commands.publish import run_publish; "
            f"rc = run_publish({str(pack)!r}, quiet=True); "
            "assert 'weasyprint' not in sys.modules, 'weasyprint imported'; sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


BAD = Path(__file__).parent / "fixtures" / "publish" / "bad-address-distribution.yaml"


@pytest.mark.parametrize("command", [["check"], ["publish"], ["publish", "--send"]])
def test_bad_recipient_address_is_a_content_error_with_its_line(tmp_path, command):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    (p / "content" / "distribution.yaml").write_text(BAD.read_text())
    result = CliRunner().invoke(main, [*command, "-C", str(p)])
    assert result.exit_code == 4, result.output
    assert "content/distribution.yaml:7:14: lists.council[1].email: 'alan at council.example.org' is not an " \
           "email address" in result.output


def test_feed_links_are_absolute_when_the_site_url_is_set(pack):
    assert run_publish(pack, env={"BRIEF_PUBLISH_URL": "https://briefs.example.org/water"}) == 0
    text = (pack / "build" / "dist" / "feed.xml").read_text()
    feed = ET.fromstring(text)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}base") == "https://briefs.example.org/water/"
    self_link = [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link == ["https://briefs.example.org/water/feed.xml"]


def test_bad_site_url_is_refused_before_writing(pack):
    assert run_publish(pack, env={"BRIEF_PUBLISH_URL": "javascript:alert(1)"}) == 2
    assert not (pack / "build" / "dist").exists()


SCHEDULED = Path(__file__).parents[1] / "deploy" / "brief-scheduled"
FAKE_BRIEF = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$1" in build) exit "$BUILD_RC";; publish) exit "$PUBLISH_RC";; esac
"""


@pytest.mark.parametrize("build_rc,publish_rc,send,expected,calls", [
    (0, 0, "1", 0, 2),   # brief exits 0 for "nothing to do" too, so an unchanged pack is success
    (0, 0, "0", 0, 2),
    (3, 0, "1", 3, 1),   # 3 only comes with --exit-unchanged, which the script does not pass: not success
    (5, 0, "1", 5, 1),   # a failed build publishes nothing
    (4, 0, "1", 4, 1),
    (0, 7, "1", 7, 2),
    (0, 6, "1", 6, 2),
])
def test_scheduled_run_script(tmp_path, build_rc, publish_rc, send, expected, calls):
    fake = tmp_path / "brief"
    fake.write_text(FAKE_BRIEF)
    fake.chmod(0o755)
    log = tmp_path / "calls"
    env = {"PATH": "/usr/bin:/bin", "BRIEF": str(fake), "CALLS": str(log), "BUILD_RC": str(build_rc),
           "PUBLISH_RC": str(publish_rc), "BRIEF_SEND": send}
    run = subprocess.run([str(SCHEDULED), "/srv/pack"], env=env, capture_output=True, text=True)
    assert run.returncode == expected, run.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == calls
    assert lines[0] == "build -C /srv/pack --all --quiet --wait 600"
    if calls == 2:
        assert lines[1] == ("publish -C /srv/pack --send --quiet --wait 600" if send == "1"
                            else "publish -C /srv/pack --quiet --wait 600")


def test_publish_from_another_working_directory_than_the_build(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fakebuild.copy_pack("minimal", Path("pack"))
    fakebuild.fake_build(Path("pack"))  # recorded with relative paths, from tmp_path
    monkeypatch.chdir(tmp_path / "pack")
    assert run_publish(Path(".")) == 0
    assert (tmp_path / "pack" / "build" / "dist" / RELEASE / PDF).exists()


def test_html_editions_keep_their_stylesheets_and_fonts(tmp_path):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(p)
    assert run_publish(p, now=AFTER_EMBARGO) == 0
    folder = p / "build" / "dist" / "2025-03-01-e2"
    html = (folder / "water-press-2025-03-01-e2.html").read_text()
    assert "href=style.css" in html
    assert (folder / "style.css").read_bytes() == fakebuild.STYLE  # one copy, shared by both editions
    assert (folder / "fonts" / "Body.woff2").read_bytes() == fakebuild.FONT
    release = json.loads((folder / "manifest.json").read_text())
    assert [a["file"] for a in release["assets"]] == ["content.snapshot.json", "fonts/Body.woff2", "style.css"]
    assert {f["file"] for f in release["files"]} == {
        "water-council-2025-03-01-e2.pdf", "water-council-2025-03-01-e2.html",
        "water-press-2025-03-01-e2.pdf", "water-press-2025-03-01-e2.html"}


def test_editions_whose_assets_differ_under_one_name_are_refused(tmp_path):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(p, style={"press": b"body { color: red; }\n"})
    result = cli("-C", str(p))
    assert result.exit_code == 2
    assert "two different files would be published as style.css" in result.output
    assert not (p / "build" / "dist").exists()


def test_template_override_added_after_the_build_makes_publish_ask_for_a_build(pack):
    # The build would re-render with it, so publish must not release the editions made without it.
    (pack / "templates" / "print.css").write_text("@page { size: A5 }\n")
    result = cli("-C", str(pack))
    assert result.exit_code == 2, result.output
    assert "changed since the build: council (templates/print.css (now read from templates/print.css))" \
        in result.output
    assert "run `brief build --all` first" in result.output
    assert not (pack / "build" / "dist").exists()
    fakebuild.fake_build(pack)  # built again, with the override
    assert cli("-C", str(pack)).exit_code == 0


@pytest.mark.parametrize("damage,says", [
    (lambda f: (f / PDF).unlink(), f"{PDF} is missing"),
    (lambda f: (f / "style.css").write_text("p { color: red }\n"),
     "style.css differs from the release's manifest.json"),
    (lambda f: (f / "SHA256SUMS").write_text(""), "SHA256SUMS does not match the files of manifest.json"),
])
def test_damaged_release_is_not_reported_as_already_published(pack, damage, says):
    assert run_publish(pack) == 0
    folder = pack / "build" / "dist" / RELEASE
    damage(folder)
    result = cli("-C", str(pack))
    assert result.exit_code == 1, result.output
    assert "nothing new to publish" not in result.output
    assert f"build/dist/{RELEASE}/ is damaged: {says}" in result.output
    assert f"Delete the folder (rm -r build/dist/{RELEASE}) and run brief publish again" in result.output
    import shutil
    shutil.rmtree(folder)  # as the message says
    assert run_publish(pack) == 0
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_file_where_build_dist_should_be_is_a_build_error(pack):
    (pack / "build" / "dist").write_text("not a folder\n")
    result = cli("-C", str(pack))
    assert result.exit_code == 5, result.output
    message = result.output.replace("\n", " ")
    assert f"cannot create the folder {pack / 'build' / 'dist'}: " in message and "move it away" in message
    assert "Traceback" not in result.output
    assert (pack / "build" / "dist").read_text() == "not a folder\n"


def test_unwritable_build_dist_is_a_build_error(pack, monkeypatch):
    import errno

    dist = pack / "build" / "dist"
    real = Path.mkdir

    def refuse(self, *args, **kwargs):  # as for a build/ the user running brief cannot write (root can)
        if self == dist:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    result = cli("-C", str(pack))
    assert result.exit_code == 5, result.output
    assert f"cannot create the folder {dist}: permission denied" in result.output
    assert not dist.exists()


WORKFLOW = Path(__file__).parents[1] / "deploy" / "github-workflow.yml"


def workflow_step(name: str) -> dict:
    import yaml

    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
    return next(s for s in steps if s.get("name") == name)


@pytest.mark.parametrize("releases", [0, 1, 2])
def test_workflow_checksum_step_copes_with_any_number_of_releases(pack, releases):
    script = workflow_step("Verify the release checksums")["run"]
    dist = pack / "build" / "dist"
    if releases:
        assert run_publish(pack) == 0
        (dist / "fonts").mkdir()  # not a release: never checked
    if releases == 2:
        set_pack_field(pack, "edition", "2")
        fakebuild.fake_build(pack)
        assert run_publish(pack) == 0
    run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=pack,
                         capture_output=True, text=True)  # as GitHub Actions runs a step
    assert run.returncode == 0, run.stdout + run.stderr
    if releases:
        (dist / RELEASE / PDF).write_bytes(b"%PDF tampered")
        run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=pack,
                             capture_output=True, text=True)
        assert run.returncode != 0 and PDF in run.stdout + run.stderr


def test_workflow_upload_does_not_fail_when_the_embargo_holds_everything():
    assert workflow_step("Upload the PDFs")["with"]["if-no-files-found"] == "warn"
