"""Content loading and validation: every bad input gets file:line, the field, and a non-zero exit."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from brief.cli import main
from brief.edition.checks import load_pack
from brief.errors import ContentError
from helpers import FIXTURES, REPO, copy_pack

MINIMAL = FIXTURES / "minimal"

# Each case is a directory under fixtures/bad/ whose content/ files replace the
# minimal pack's (copy_pack lays it over a copy); the expected line is the first line `brief check` prints.
BAD = {
    "malformed": "content/assessments.yaml:5:1: malformed YAML: found unexpected end of stream while scanning "
                 "a quoted scalar that starts at line 3",
    "duplicate_key": "content/pack.yaml:6:1: title: duplicate key 'title' (first set at line 1); keep one",
    "alias": "content/sources.yaml:3:12: anchor '&t' is not allowed; write the value out in full",
    "python_tag": "content/assessments.yaml:3:15: assessments[0].headline: tag '!!python/object/apply:os.system' "
                  "is not allowed",
    "wrong_type": "content/pack.yaml:4:10: edition: 'first' is not a whole number",
    "unknown_enum": "content/assessments.yaml:5:17: assessments[0].confidence: 'certain' is not one of high, "
                    "moderate, low",
    "missing_field": "content/assessments.yaml:2:5: assessments[0].body: required field 'body' is missing; add it",
    "unknown_field": "content/assessments.yaml:6:5: assessments[0].confidance: unknown field 'confidance'",
    "unknown_source": "content/assessments.yaml:8:9: assessments[0].sources[1]: cites unknown source 'council-2026'",
    "duplicate_id": "content/assessments.yaml:7:9: assessments[1].id: duplicate assessment id 'narrower' "
                    "(first used at line 2)",
    "missing_section": "content/audiences/council.yaml:7:5: sections[1]: unknown section 'assesments'; known sections: "
                       "bottom_line, assessments,",
    "impossible_date": "content/pack.yaml:3:8: as_of: '2024-02-30' is not a real date (day is out of range for month)",
    "empty_file": "content/figures.yaml:1:1: file is empty; it must hold a mapping of keys to values",
    "non_utf8": "content/glossary.yaml:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
    "not_mapping": "content/glossary.yaml:1:1: the file must be a mapping of keys to values (key: value), not a list",
}


def test_every_bad_case_has_a_fixture_and_an_expectation():
    assert sorted(p.name for p in (FIXTURES / "bad").iterdir()) == sorted(BAD)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_reported_with_its_place(tmp_path, case):
    result = CliRunner().invoke(main, ["check", "-C", str(copy_pack("minimal", tmp_path / "pack", case))])
    assert result.exit_code == 4, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(BAD[case]), first
    assert result.output.rstrip().endswith("nothing was built")
    assert isinstance(result.exception, SystemExit)  # reported, not a traceback


def test_every_problem_in_one_run(tmp_path):
    # Three files broken in three ways: all three reported, then one exit.
    pack = copy_pack("minimal", tmp_path / "pack", "unknown_enum", "impossible_date", "not_mapping")
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert "content/pack.yaml:3:8: as_of:" in result.output
    assert "content/assessments.yaml:5:17: assessments[0].confidence:" in result.output
    assert "content/glossary.yaml:1:1: the file must be a mapping" in result.output
    assert "3 problems found; nothing was built" in result.output


def test_snippet_shows_the_offending_line(tmp_path):
    result = CliRunner().invoke(main, ["check", "-C", str(copy_pack("minimal", tmp_path / "pack", "unknown_enum"))])
    assert result.output.splitlines()[1].strip() == "confidence: certain"


def test_real_process_exits_non_zero_without_traceback(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack", "python_tag")
    proc = subprocess.run([sys.executable, "-m", "brief", "check", "-C", str(pack)], capture_output=True, text=True)
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert "!!python/object/apply:os.system" in proc.stderr


def test_scalars_stay_as_typed(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    text = (pack / "content/pack.yaml").read_text()
    text = text.replace("title: Municipal Water Compact", "title: NO").replace("organisation: Example Policy Lab",
                                                                                "organisation: 1.10")
    (pack / "content/pack.yaml").write_text(text + "keywords: [012345, 1:30, yes]\n")
    content = load_pack(pack)
    assert content.pack.title == "NO"
    assert content.pack.organisation == "1.10"
    assert content.pack.keywords == ["012345", "1:30", "yes"]


def test_empty_value_is_an_error_not_the_text_none(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/pack.yaml"
    path.write_text(path.read_text().replace("subtitle: What the 2025 revision changes", "subtitle:"))
    load_pack(pack)  # optional field left empty is fine: it means "not set"
    path.write_text(path.read_text().replace("topic: Regional water-sharing agreement between two cities", "topic:"))
    with pytest.raises(ContentError) as err:
        load_pack(pack)
    assert "content/pack.yaml:3:7: topic: empty value" in str(err.value)


def test_missing_required_file_and_not_a_pack(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    (pack / "content/sources.yaml").unlink()
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert "content/sources.yaml: required file is missing" in result.output
    result = CliRunner().invoke(main, ["check", "-C", str(tmp_path)])
    assert result.exit_code == 2  # a wrong -C is a usage error, not bad content
    assert f"{tmp_path}: no content/ directory here; run brief in a pack directory or pass -C PACK_DIR" in result.output
    result = CliRunner().invoke(main, ["check", "-C", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere: no such directory" in result.output


def test_control_characters_and_line_breaks_are_refused_where_typed(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/pack.yaml"
    # A YAML escape gets the character past the parser; the model still refuses it.
    text = path.read_text().replace("title: Municipal Water Compact", 'title: "Municipal\\x0cWater Compact"')
    text = text.replace("organisation: Example Policy Lab", 'organisation: "Example\\nPolicy Lab"')
    path.write_text(text.replace("email: ada@example.org", "email: adá@example.org"))
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert ("content/pack.yaml:1:8: title: contains the invisible control character U+000C at position 10; "
            "delete it") in result.output
    assert "organisation: must be a single line; remove the line break" in result.output
    assert "contacts[0].email: 'adá@example.org' is not an email address" in result.output


def test_deep_nesting_is_a_problem_not_a_crash(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    with open(pack / "content/pack.yaml", "a") as f:
        f.write("keywords: " + "[" * 3000 + "]" * 3000 + "\n")
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert "content/pack.yaml:1:1: nested too deeply to be content" in result.output


def test_profile_rules(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    profile = pack / "content/audiences/council.yaml"
    text = profile.read_text().replace("  - kind: changes\n    mode: summary\n",
                                       "  - kind: sources\n    mode: summary\n")
    profile.write_text(text.replace("bottom_line:\n  text: The 2025 revision keeps the compact but limits it to "
                                    "drinking water.\n  sources: [council-2025]\n", ""))
    (pack / "content/audiences/dist.yaml").write_text(profile.read_text().replace("name: council", "name: dist"))
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    out = result.output
    assert "content/audiences/dist.yaml:1:7: name: 'dist' is reserved" in out
    assert ("content/audiences/council.yaml:10:5: sections[2].mode: 'mode' has no effect on a 'sources' section; "
            "it applies to: changes") in out
    assert "sections[0]: the profile lists a 'bottom_line' section but has no 'bottom_line:' text" in out
    (pack / "content/audiences/old.yml").write_text("name: old\n")
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert "content/audiences/old.yml: profiles end in .yaml; rename it to old.yaml" in result.output


def test_raw_control_character_in_a_file_is_placed(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/pack.yaml"
    path.write_text(path.read_text().replace("Example Policy Lab", "Example\x0cPolicy Lab"))
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert ("content/pack.yaml:6:22: the invisible control character U+000C is not allowed in YAML; "
            "delete it") in result.output


def test_changes_needs_two_versions(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/versions.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("  - id: compact-2025")])
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert ("content/audiences/council.yaml:12:5: sections[2]: a 'changes' section compares two versions, but "
            "content/versions.yaml has only one") in result.output


def test_check_summarises_a_pack_other_than_sta():
    result = CliRunner().invoke(main, ["check", "-C", str(MINIMAL)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Municipal Water Compact — edition 1, as of 2025-03-01")
    assert re.search(r"^  versions +2$", result.output, re.M)
    assert "audiences: council" in result.output
    assert result.output.rstrip().endswith("ok: content is valid")


def test_conflicting_figures_are_kept_and_warned(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/figures.yaml"
    path.write_text(path.read_text() + """  - id: users-gazette
    quantity: households-served
    label: Households served by the compact
    value: 90000
    qualifier: over
    unit: households
    sources: [gazette]
""")
    content = load_pack(pack)
    assert [f.value for f in content.figures] == [120000, 90000]
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 0
    assert ("warning: content/figures.yaml:2:5: figures[0]: conflicting figures for 'households-served': "
            "about 120000 households (council-2025); over 90000 households (gazette)") in result.output


def test_cross_references_between_files(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    profile = pack / "content/audiences/council.yaml"
    profile.write_text(profile.read_text().replace("contact: desk", "contact: press")
                       + "compare: [compact-2015, compact-2030]\n")
    assessments = pack / "content/assessments.yaml"
    assessments.write_text(assessments.read_text().replace("audiences: [all]", "audiences: [councl]"))
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    out = result.output
    assert "content/audiences/council.yaml:5:10: contact: unknown contact 'press'; pack.yaml lists: desk" in out
    assert "compare[1]: unknown version 'compact-2030'; known: compact-2015, compact-2025" in out
    assert "assessments[0].audiences[0]: unknown audience 'councl'; known audiences: all, council" in out


def test_version_rules(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/versions.yaml"
    text = path.read_text()
    text = text.replace("        effect: narrows\n", "        effect: narrows\n        replaces: [scop]\n")
    text = text.replace("    signed: 2025-02-10\n", "    signed: 2025-02-10\n    expires: 2024-01\n")
    path.write_text(text)
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 4
    assert "versions[1].expires: expires (2024-01) is before signed (2025-02-10)" in result.output
    assert ("versions[1].provisions[0].replaces[0]: replaces 'scop', which is not a provision of the previous "
            "version 'compact-2015'; known: scope") in result.output


def test_sta_pack_validates_and_shows_the_protocol_conflict():
    # The shipped pack is part of the product: missing or broken, this fails (it never skips).
    assert (REPO / "content/pack.yaml").is_file(), f"the STA pack is missing: no {REPO / 'content/pack.yaml'}"
    result = CliRunner().invoke(main, ["check", "-C", str(REPO)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    protocol = [w for w in warnings if "conflicting figures" in w and "protocol" in w]
    assert protocol, result.output
    assert "nearly 100" in protocol[0] and "over 40" in protocol[0]


def test_source_newer_than_the_pack_is_warned(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content/sources.yaml"
    path.write_text(path.read_text().replace("date: 2025-02-10", "date: 2025-04-01"))
    result = CliRunner().invoke(main, ["check", "-C", str(pack)])
    assert result.exit_code == 0
    assert ("warning: content/sources.yaml:5:11: sources[0].date: dated 2025-04-01, after the pack's as_of "
            "(2025-03-01)") in result.output
