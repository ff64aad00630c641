"""Recipients as content, personalised covers declared in profiles, and how work splits into shards.

Fast: nothing here prints a PDF. Bad input is tried on a copy of the treaty test pack (a topic of
its own, with a cover on its `officials` profile) with each case's files from
tests/fixtures/recipients/<case>/ laid over it; `brief build` must name the file and line, exit 4
and write nothing.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from brief.cli import main
from brief.content.recipients import load_recipients
from brief.edition.checks import load_pack
from brief.edition.covers import render_covers
from brief.errors import ContentError, UsageError
from brief.output.shard import Shard, assign, owners, parse_shard

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TREATY = TESTS / "packs" / "treaty"
CASES = TESTS / "fixtures" / "recipients"
HEADER = "id,name,organisation,email,audience\n"


def treaty_copy(tmp_path: Path, case: str | None = None) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(TREATY / "content", pack / "content")
    if case:
        shutil.copytree(CASES / case, pack, dirs_exist_ok=True)
    return pack


def write(pack: Path, text: str, name: str = "recipients.csv") -> Path:
    path = pack / "content" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return pack


# ---- reading the list ----------------------------------------------------------------------

def test_the_sample_lists_load_with_their_lines_and_extra_columns():
    sta = load_recipients(REPO, ["congress", "journalists", "universities"])
    assert [r.id for r in sta] == ["sample-ca-00", "sample-tx-00", "sample-ma-senate"]
    first = sta[0]
    assert (first.file, first.line) == ("content/recipients.csv", 5)  # after three comment lines and the header
    assert first.state == "CA" and first.fields == {"focus": "basic-research", "sample": "yes"}
    assert sta[2].district is None and sta[2].salutation is None  # empty cells are absent values
    treaty = load_pack(TREATY).recipients
    assert {r.audience for r in treaty} == {"officials"} and len(treaty) == 4
    assert treaty[0].organisation == "Kaldera Ministry of Foreign Affairs, Verification Office"  # a quoted comma


def test_no_list_is_no_recipients(tmp_path):
    assert load_recipients(tmp_path, ["x"]) == ()


def test_a_crm_export_header_is_read_as_written(tmp_path):
    # "Office" is the organisation, headings are matched without case, "First Name" becomes first_name.
    write(tmp_path, "\ufeffID,Name,Office,E-mail,Audience,First Name\n"
                    "a-1,Jo Smith,Office of Jo,jo@example.org,x,Jo\n".replace("E-mail", "Email"))
    (r,) = load_recipients(tmp_path, ["x"])
    assert (r.organisation, r.fields, r.line) == ("Office of Jo", {"first_name": "Jo"}, 2)


def test_a_yaml_list_is_read_with_its_lines(tmp_path):
    write(tmp_path, "recipients:\n  - id: a-1\n    name: Jo\n    organisation: O\n    email: jo@example.org\n"
                    "    audience: x\n  - id: a-2\n    name: Al\n    organisation: O\n    email: al@example.org\n"
                    "    audience: x\n    desk: legal\n", "recipients.yaml")
    rows = load_recipients(tmp_path, ["x"])
    assert [(r.id, r.line, r.file) for r in rows] == [("a-1", 2, "content/recipients.yaml"),
                                                      ("a-2", 7, "content/recipients.yaml")]
    assert rows[1].fields == {"desk": "legal"}


def test_every_problem_is_reported_at_once_in_line_order(tmp_path):
    write(tmp_path, HEADER + "Bad Id,Jo,O,jo@example.org,x\n"
                             "a-2,,O,not-an-address,x\n"
                             "a-3,Al,O,al@example.org,y\n"
                             "a-3,Al,O,al@example.org,x\n"
                             "a-5,Al,O,al@example.org,x,extra\n")
    with pytest.raises(ContentError) as caught:
        load_recipients(tmp_path, ["x"])
    text = caught.value.message
    for expected in ("content/recipients.csv:2: id: 'Bad Id' is not a valid id",
                     "content/recipients.csv:3: name: required field 'name' is empty",
                     "content/recipients.csv:3: email: 'not-an-address' is not an email address",
                     "content/recipients.csv:4: audience: unknown audience 'y'; known audiences: x",
                     "content/recipients.csv:5: id: duplicate id 'a-3' (first at line 4)",
                     "content/recipients.csv:6: 6 cells for 5 columns"):
        assert expected in text
    assert text.endswith("6 problems found; nothing was built")


def test_a_semicolon_file_is_named_as_such(tmp_path):
    write(tmp_path, "id;name;organisation;email;audience\na;b;c;d@e.org;x\n")
    with pytest.raises(ContentError, match="separate columns with semicolons"):
        load_recipients(tmp_path, ["x"])


def test_both_a_csv_and_a_yaml_list_is_refused(tmp_path):
    write(tmp_path, HEADER)
    write(tmp_path, "recipients: []\n", "recipients.yaml")
    with pytest.raises(ContentError, match="keep one list of recipients"):
        load_recipients(tmp_path, ["x"])


@pytest.mark.parametrize(("case", "expected"), [
    ("bad_email", "content/recipients.csv:4: email: 'b.otto-at-example.org' is not an email address"),
    ("missing_field", "content/recipients.csv:3: name: required field 'name' is empty; fill it in"),
    ("duplicate_id", "content/recipients.csv:4: id: duplicate id 'kal-verif-01' (first at line 2)"),
    ("unknown_audience", "content/recipients.csv:3: audience: unknown audience 'diplomats'; known audiences: "
                         "officials, press, think-tanks"),
    ("latin1", "content/recipients.csv:3: not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
    ("wrong_header", "content/recipients.csv:1: header: missing id, name, organisation, email, audience (it seems "
                     "to separate columns with semicolons: save it with commas); expected the columns id, name, "
                     "organisation, email, audience"),
    ("unsafe_id", "content/recipients.csv:2: id: '../../etc/x' is not a valid id; use lower-case letters, digits "
                  "and hyphens (it names the recipient's PDF file)"),
    ("unknown_cover", "content/audiences/officials.yaml:17:13: cover.template: unknown cover 'letterhead'; "
                      "built-in covers: standard; this pack's: none"),
    ("unknown_field", "content/audiences/officials.yaml:17:23: cover.fields[1]: unknown recipient field 'seniority'; "
                      "recipients have: id, name, organisation, email, audience, state, district, committee, "
                      "salutation, desk"),
    ("cover_template_error", "templates/covers/standard.html.j2:6: cover template error: "),
])
def test_bad_input_names_its_place_and_nothing_is_built(tmp_path, case, expected):
    pack = treaty_copy(tmp_path, case)
    result = CliRunner().invoke(main, ["build", "-C", str(pack), "--all"])
    assert result.exit_code == 4, result.output
    assert expected in result.output
    built = [p for p in (pack / "build").rglob("*") if p.is_file() and p.name != ".brief.lock"]
    assert built == []


# ---- covers ---------------------------------------------------------------------------------

def test_a_cover_names_its_recipient_and_cites_its_note():
    content = load_pack(TREATY)
    covers = render_covers(content, "officials")
    assert sorted(covers) == ["kal-def-01", "kal-legal-01", "kal-pm-01", "kal-verif-01"]
    html = covers["kal-verif-01"]
    assert "<h1>Kaldera Ministry of Foreign Affairs, Verification Office</h1>" in html
    assert "Dear Ms Korval, enclosed" in html and "Attention: Ansa Korval" in html
    assert "<dt>Committee</dt><dd>Treaty compliance</dd>" in html
    # The note for the recipient's desk, with its source listed on the cover itself.
    assert "What the suspension means for verification" in html
    assert "Statement on the suspension of Zarovia" in html and "Cited at paras. 3–4" in html
    assert "The date that matters" in covers["kal-legal-01"]
    assert "<dt>" not in covers["kal-legal-01"]  # no committee: no empty field


def test_a_recipient_whose_group_has_no_note_is_a_warning_not_an_error(tmp_path):
    pack = treaty_copy(tmp_path)
    csv = (pack / "content" / "recipients.csv").read_text(encoding="utf-8")
    (pack / "content" / "recipients.csv").write_text(csv.replace(",legal\n", ",treasury\n"), encoding="utf-8")
    content = load_pack(pack)
    (warning,) = [w for w in content.warnings if "recipient_notes" in w.message]
    assert str(warning).startswith("content/recipients.csv:4: desk: 2 'officials' recipient(s) have no note")
    assert "treasury (2)" in warning.message
    assert "The date that matters" not in render_covers(content, "officials")["kal-legal-01"]


def test_notes_by_without_a_notes_file_is_an_error(tmp_path):
    pack = treaty_copy(tmp_path)
    (pack / "content" / "recipient_notes.yaml").unlink()
    with pytest.raises(ContentError, match=r"officials.yaml:\d+:\d+: cover.notes_by: notes_by needs "
                                           r"content/recipient_notes.yaml"):
        load_pack(pack)


def test_a_note_citing_an_unknown_source_is_an_error(tmp_path):
    pack = treaty_copy(tmp_path)
    notes = pack / "content" / "recipient_notes.yaml"
    notes.write_text(notes.read_text(encoding="utf-8").replace("source: extension-2021", "source: nowhere"),
                     encoding="utf-8")
    with pytest.raises(ContentError, match=r"recipient_notes.yaml:\d+:\d+: .*cites unknown source 'nowhere'"):
        load_pack(pack)


def test_nothing_in_the_built_in_cover_names_a_topic():
    cover = (REPO / "templates" / "editions" / "covers" / "standard.html.j2").read_text(encoding="utf-8")
    for word in ("congress", "representative", "senator", "china", "treaty"):
        assert word not in cover.lower()


# ---- shards ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["0/0", "3/2", "0/3", "x", "1/", "/2", "-1/2", "1/2/3", ""])
def test_a_bad_shard_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


def test_bad_shards_exit_2_on_the_command_line(tmp_path):
    for text, why in (("3/2", "runs from 1 to 2"), ("0/0", "at least one shard")):
        result = CliRunner().invoke(main, ["build", "-C", str(tmp_path), "--all", "--shard", text])
        assert result.exit_code == 2 and why in result.output


ITEMS = [("edition:a", 1.4), ("edition:b", 2.0), ("edition:c", 1.4)] + [(f"recipient:a/r{i:03d}", 0.05)
                                                                         for i in range(535)]


def test_shards_cover_every_item_once_and_balance_the_cost():
    for count in (1, 2, 3, 4, 7):
        parts = [assign(ITEMS, Shard(i, count)) for i in range(1, count + 1)]
        assert sum(len(p) for p in parts) == len(ITEMS) and set().union(*parts) == {k for k, _ in ITEMS}
        cost = dict(ITEMS)
        loads = [sum(cost[k] for k in p) for p in parts]
        assert max(loads) - min(loads) <= max(cost.values())  # greedy, costliest first: within one item


def test_the_split_is_the_same_in_another_process_and_any_order():
    here = owners(ITEMS, 4)
    assert owners(list(reversed(ITEMS)), 4) == here
    code = ("import json, sys; from brief.output.shard import owners; "
            "print(json.dumps(owners([tuple(x) for x in json.loads(sys.argv[1])], 4)))")
    other = subprocess.run([sys.executable, "-c", code, json.dumps(ITEMS)], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert json.loads(other.stdout) == here


# ---- deployment recipes ---------------------------------------------------------------------

def _brief_commands(text: str) -> list[list[str]]:
    """Return every `brief ...` command line in a shell script, as words (variables left as written)."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        words = line.split()
        for i, word in enumerate(words):
            if word.endswith("brief") and i + 1 < len(words) and words[i + 1] in main.commands:
                found.append(words[i + 1:])
    return found


def _check_options(words: list[str]) -> None:
    command = main.commands[words[0]]
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for word in words[1:]:
        if word.startswith("-"):
            assert word.split("=")[0] in names, f"brief {words[0]} has no option {word}"


def _scripts(node) -> list[str]:
    """Return the shell scripts a workflow's `run:` steps or a container's `args:` hold."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key in ("run", "args"):
                found += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
            found += _scripts(value)
        return found
    if isinstance(node, list):
        return [s for v in node for s in _scripts(v)]
    return []


def test_the_github_actions_recipe_runs_shards_then_merges():
    workflow = yaml.safe_load((REPO / "deploy" / "github-shards.yml").read_text(encoding="utf-8"))
    shards = workflow["jobs"]["shard"]
    assert shards["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert "shard" in workflow["jobs"]["merge"]["needs"]
    commands = _brief_commands("\n".join(_scripts(workflow)))
    assert [c[0] for c in commands].count("build") >= 2
    assert any("--shard" in c and "${{ matrix.shard }}/4" in " ".join(c) for c in commands)
    assert any("--merge" in c for c in commands)
    for words in commands:
        _check_options(words)


def test_the_kubernetes_recipe_takes_the_shard_from_the_completion_index():
    shards = list(yaml.safe_load_all((REPO / "deploy" / "k8s-shards.yaml").read_text(encoding="utf-8")))
    (job,) = [d for d in shards if d["kind"] == "Job"]
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 4
    assert "--shard $((JOB_COMPLETION_INDEX + 1))/4" in "\n".join(_scripts(job))  # 0-based index, 1-based shard
    (merge,) = yaml.safe_load_all((REPO / "deploy" / "k8s-merge.yaml").read_text(encoding="utf-8"))
    claims = [v["persistentVolumeClaim"]["claimName"] for d in (job, merge)
              for v in d["spec"]["template"]["spec"]["volumes"]]
    assert claims == ["brief-build", "brief-build"]  # the merge reads what the shards wrote
    commands = _brief_commands("\n".join(_scripts(shards) + _scripts(merge)))
    assert any("--shard" in c for c in commands) and any("--merge" in c for c in commands)
    for words in commands:
        _check_options(words)


def test_a_cover_that_loads_a_file_outside_the_pack_is_refused_before_anything_is_built(tmp_path):
    pack = treaty_copy(tmp_path, "cover_loads_outside")
    result = CliRunner().invoke(main, ["build", "-C", str(pack), "--all"])
    assert result.exit_code == 5, result.output
    assert "officials cover of kal-verif-01: <img src=\"file:///etc/passwd\"> loads a file outside the pack" \
        in result.output
    assert [p for p in (pack / "build").rglob("*") if p.is_file() and p.name != ".brief.lock"] == []
