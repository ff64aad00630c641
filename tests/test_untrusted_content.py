"""A pack is untrusted input: what cannot be right is refused with its place, exit 4, no traceback, nothing read
that should not be (files outside the pack, devices, huge files) and nothing echoed from such files."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief.cli import main
from brief.content.yamlload import MAX_FILE_BYTES, SNIPPET_WIDTH
from brief.edition.checks import load_pack
from helpers import copy_pack

CASES = Path(__file__).parent / "fixtures" / "untrusted"  # <case>/content/... laid over the minimal pack

_FINITE = "figures[0].value: must be a finite number, not {!r}; write the value in digits"
_SWAP = ("content/versions.yaml:28:20: versions[1].provisions[0].replaces[0]: provisions 'scope' and 'term' of "
         "version 'compact-2025' replace one another ('scope' replaces 'term'; 'term' replaces 'scope'), so each row "
         "would merge their old texts; a provision that keeps its key needs no 'replaces': remove the wrong one")
_CYCLE = ("content/versions.yaml:32:20: versions[1].provisions[0].replaces[0]: provisions 'scope', 'term' and "
          "'disputes' of version 'compact-2025' replace one another ('scope' replaces 'disputes'; 'term' replaces "
          "'scope'; 'disputes' replaces 'term'), so each row would merge their old texts; a provision that keeps its "
          "key needs no 'replaces': remove the wrong one")

# case: the exact first line `brief check` prints (the only problem in each case).
REFUSED = {
    "nan_value": "content/figures.yaml:5:12: " + _FINITE.format("nan"),
    "inf_value": "content/figures.yaml:5:12: " + _FINITE.format("inf"),
    "negative_inf_value": "content/figures.yaml:5:12: " + _FINITE.format("-inf"),
    "overflow_value": "content/figures.yaml:5:12: " + _FINITE.format("1e999"),
    "underscore_int": "content/pack.yaml:5:10: edition: '1_000' has an underscore; write digits only (1000, not 1_000)",
    "underscore_priority": "content/assessments.yaml:7:15: assessments[0].priority: '0_1' has an underscore; "
                           "write digits only (1000, not 1_000)",
    "bidi_override": "content/assessments.yaml:3:15: assessments[0].headline: contains the invisible character "
                     "U+202E (RIGHT-TO-LEFT OVERRIDE) at position 5; delete it",
    "bidi_isolate": "content/assessments.yaml:4:11: assessments[0].body: contains the invisible character U+2066 "
                    "(LEFT-TO-RIGHT ISOLATE) at position 12; delete it",
    "arabic_letter_mark": "content/pack.yaml:6:15: organisation: contains the invisible character U+061C "
                          "(ARABIC LETTER MARK) at position 8; delete it",
    "direction_mark_in_email": "content/pack.yaml:11:12: contacts[0].email: contains the invisible character U+200E "
                               "(LEFT-TO-RIGHT MARK) at position 16; delete it",
    "zero_width_in_id": "content/assessments.yaml:2:9: assessments[0].id: contains the invisible character U+200B "
                        "(ZERO WIDTH SPACE) at position 5; delete it",
    "zero_width_joiner": "content/sources.yaml:8:12: sources[1].title: contains the invisible character U+200D "
                         "(ZERO WIDTH JOINER) at position 6; delete it",
    "bom_in_value": "content/sources.yaml:10:16: sources[1].publisher: contains the invisible character U+FEFF "
                    "(ZERO WIDTH NO-BREAK SPACE) at position 5; delete it",
    "replaces_swap": _SWAP,
    "replaces_cycle": _CYCLE,
    "reserved_all": "content/audiences/all.yaml:1:7: name: 'all' is reserved (it is the tag meaning every audience); "
                    "choose another name and rename the file to match",
    "repeated_section": "content/audiences/council.yaml:15:5: sections[4]: section 'assessments' is listed twice "
                        "(first at line 11); list each section once, with all its options there",
    "long_line": "content/assessments.yaml:5:17: assessments[0].confidence: '" + "very " * 15 + "ve\u2026' is not one "
                 "of high, moderate, low",
}
# case: the warning `brief check` prints (the pack is valid).
WARNED = {
    "uncited_source": "warning: content/sources.yaml:13:5: sources[2]: source 'unused-report' is cited nowhere; "
                      "cite it or remove it",
}


def pack_with(tmp_path: Path, case: str | None = None) -> Path:
    """Copy the minimal pack to tmp_path/pack and lay the case's files over it."""
    pack = copy_pack("minimal", tmp_path / "pack")
    if case is not None:
        shutil.copytree(CASES / case, pack, dirs_exist_ok=True)
    return pack


def check(pack: Path):
    return CliRunner().invoke(main, ["check", "-C", str(pack)])


def refused(result) -> list[str]:
    """Assert the run refused the pack the way brief reports bad content; return the output's lines."""
    assert result.exit_code == 4, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # reported, not raised
    assert "Traceback" not in result.output
    assert result.output.rstrip().endswith("nothing was built")
    return result.output.splitlines()


def test_every_case_has_a_fixture_and_an_expectation():
    assert sorted(p.name for p in CASES.iterdir()) == sorted(REFUSED | WARNED)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_with_its_place(tmp_path, case):
    lines = refused(check(pack_with(tmp_path, case)))
    assert lines[0] == REFUSED[case]
    assert lines[-1] == "1 problem found; nothing was built"


@pytest.mark.parametrize("case", sorted(WARNED))
def test_warnings_leave_the_pack_valid(tmp_path, case):
    result = check(pack_with(tmp_path, case))
    assert result.exit_code == 0, result.output
    assert WARNED[case] in result.output.splitlines()
    assert result.output.rstrip().endswith("ok: content is valid")


def test_the_minimal_pack_has_no_uncited_source(tmp_path):
    assert load_pack(pack_with(tmp_path)).warnings == []


def test_invisible_characters_are_shown_not_printed_in_the_snippet(tmp_path):
    lines = refused(check(pack_with(tmp_path, "bidi_override")))
    assert lines[1].strip() == "headline: The <U+202E>revision narrows the compact to drinking water."
    assert "\u202e" not in "".join(lines)


def test_a_byte_order_mark_at_the_start_of_a_file_is_encoding_not_content(tmp_path):
    pack = pack_with(tmp_path)
    path = pack / "content/pack.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_pack(pack).pack.title == "Municipal Water Compact"
    # Columns on the first line do not count the mark.
    path.write_bytes(path.read_bytes().replace(b"title: Municipal Water Compact", b'title: "A\\x0cB"'))
    assert refused(check(pack))[0].startswith("content/pack.yaml:1:8: title: contains the invisible control")


# ---- files: inside the pack, regular, bounded ------------------------------------

OUTSIDE = ("leads outside the pack (to {}); brief reads only files inside the pack directory: copy the file in "
           "instead of linking to it")


@pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="needs /etc/passwd")
def test_a_link_to_a_file_outside_the_pack_is_not_read(tmp_path):
    pack = pack_with(tmp_path)
    (pack / "content/glossary.yaml").symlink_to("/etc/passwd")
    lines = refused(check(pack))
    assert lines[0] == "content/glossary.yaml: " + OUTSIDE.format(os.path.realpath("/etc/passwd"))
    first = Path("/etc/passwd").read_text().splitlines()[0]
    assert first not in "\n".join(lines) and "root:" not in "\n".join(lines)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("name", ["glossary.yaml", "audiences/zero.yaml"])
def test_a_link_to_a_device_is_not_read(tmp_path, name):
    # In a process of its own, with a memory cap and a timeout: reading /dev/zero would never end.
    pack = pack_with(tmp_path)
    (pack / "content" / name).symlink_to("/dev/zero")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31)); "
            "from brief.cli import main; sys.argv = ['brief', 'check', '-C', sys.argv[1]]; main()")
    proc = subprocess.run([sys.executable, "-c", code, str(pack)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0] == f"content/{name}: " + OUTSIDE.format(os.path.realpath("/dev/zero"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_special_files_are_not_read(tmp_path):
    pack = pack_with(tmp_path)
    os.mkfifo(pack / "content/glossary.yaml")  # opening it to read would wait for a writer forever
    (pack / "content/audiences/folder.yaml").mkdir()
    out = refused(check(pack))
    assert "content/glossary.yaml: is a named pipe, not a regular file; brief reads only plain files here" in out
    assert "content/audiences/folder.yaml: is a directory, not a regular file; brief reads only plain files here" in out


def test_a_dangling_link_is_named_as_one(tmp_path):
    pack = pack_with(tmp_path)
    (pack / "content/glossary.yaml").symlink_to("nowhere.yaml")
    target = os.path.realpath(pack / "content/nowhere.yaml")
    assert refused(check(pack))[0] == (f"content/glossary.yaml: is a symbolic link to {target}, which cannot be read "
                                      "(No such file or directory); fix or remove the link")


def test_links_that_stay_inside_the_pack_are_followed(tmp_path):
    pack = pack_with(tmp_path)
    (pack / "shared").mkdir()
    (pack / "content/figures.yaml").rename(pack / "shared/figures.yaml")
    (pack / "content/figures.yaml").symlink_to("../shared/figures.yaml")
    assert len(load_pack(pack).figures) == 1


def test_a_content_folder_linked_from_elsewhere_is_outside_the_pack(tmp_path):
    elsewhere = pack_with(tmp_path)
    pack = tmp_path / "linked"
    pack.mkdir()
    (pack / "content").symlink_to(elsewhere / "content")
    lines = refused(check(pack))
    assert lines[0] == "content/pack.yaml: " + OUTSIDE.format(os.path.realpath(elsewhere / "content/pack.yaml"))


def test_a_file_over_the_limit_is_not_read(tmp_path):
    pack = pack_with(tmp_path)
    with open(pack / "content/glossary.yaml", "wb") as f:  # sparse: the size is all that matters
        f.truncate(MAX_FILE_BYTES + 1)
    assert MAX_FILE_BYTES == 5 * 1024 * 1024
    assert refused(check(pack))[0] == ("content/glossary.yaml: is 5,242,881 bytes, over the 5 MB limit for a file "
                                       "brief reads from a pack; trim it or split it")


def test_a_file_at_the_limit_is_read(tmp_path):
    pack = pack_with(tmp_path)
    text = "terms:\n  - term: water\n    definition: "
    (pack / "content/glossary.yaml").write_text(text + "x" * (MAX_FILE_BYTES - len(text) - 1) + "\n")
    assert len(load_pack(pack).terms) == 1


def test_a_source_copy_must_be_a_bounded_file_inside_the_pack(tmp_path):
    pack = pack_with(tmp_path)
    sources = pack / "content/sources.yaml"
    sources.write_text(sources.read_text().replace("    kind: news\n", "    kind: news\n    file: copy.pdf\n"))
    (pack / "copy.pdf").symlink_to("/etc/passwd" if Path("/etc/passwd").exists() else "/")
    lines = refused(check(pack))
    assert lines[:2] == ["content/sources.yaml:13:11: sources[1].file: 'copy.pdf' is not a file inside the pack",
                         "    file: copy.pdf"]
    (pack / "copy.pdf").unlink()
    with open(pack / "copy.pdf", "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    assert refused(check(pack))[0] == ("content/sources.yaml:13:11: sources[1].file: 'copy.pdf' is 5,242,881 bytes, "
                                       "over the 5 MB limit for a file brief reads from a pack; keep a smaller copy, "
                                       "or give only the source's url:")


def test_a_snippet_is_cut_to_a_readable_width(tmp_path):
    pack = pack_with(tmp_path)
    line = "    bogus: " + "z" * (1 << 20)
    (pack / "content/glossary.yaml").write_text(f"terms:\n  - term: x\n    definition: {'y' * (1 << 20)}\n{line}\n")
    lines = refused(check(pack))
    assert lines[0].startswith("content/glossary.yaml:4:5: terms[0].bogus: unknown field 'bogus'")
    assert lines[1] == "    " + line.strip()[: SNIPPET_WIDTH - 4] + "\u2026"
    assert len(result_text := "\n".join(lines)) < 1000, len(result_text)


def test_a_snippet_shows_the_part_of_a_long_line_where_the_problem_is(tmp_path):
    pack = pack_with(tmp_path)
    path = pack / "content/assessments.yaml"
    tags = ", ".join(["all"] * 2000)
    path.write_text(path.read_text().replace("audiences: [all]", f"audiences: [{tags}, nobody]"))
    lines = refused(check(pack))
    assert lines[0].startswith("content/assessments.yaml:6:10017: assessments[0].audiences[2000]: unknown audience "
                               "'nobody'")
    assert lines[1].startswith("    \u2026") and lines[1].endswith("all, nobody]")
    assert len(lines[1].strip()) <= SNIPPET_WIDTH + 2


def test_refused_in_a_real_process_without_traceback(tmp_path):
    pack = pack_with(tmp_path, "bidi_override")
    proc = subprocess.run([sys.executable, "-m", "brief", "check", "-C", str(pack)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0] == REFUSED["bidi_override"]


@pytest.mark.parametrize("text, message", [
    ("keywords: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply to be content"),
    ("title: [unclosed\n", "malformed YAML"),
    ("title: a\ntitle: b\n", "duplicate key 'title'"),
])
def test_yaml_messages_are_the_same_with_and_without_libyaml(tmp_path, monkeypatch, text, message):
    import importlib

    import yaml

    from brief.content import yamlload

    path = tmp_path / "pack.yaml"
    path.write_text(text)
    with_c = [str(p) for p in yamlload.load(path, "content/pack.yaml", tmp_path)[1]]
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    pure = importlib.reload(yamlload)
    try:
        assert pure._Base is yaml.SafeLoader
        without_c = [str(p) for p in pure.load(path, "content/pack.yaml", tmp_path)[1]]
    finally:
        monkeypatch.undo()
        importlib.reload(yamlload)
    # The place and the kind of problem are brief's; a syntax error's own wording is the parser's.
    assert with_c and message in with_c[0] and message in without_c[0]
    assert [m.split(": ", 1)[0] for m in with_c] == [m.split(": ", 1)[0] for m in without_c]
