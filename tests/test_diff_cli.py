"""Tests for `brief diff`: every output format, errors, and packs the loader rejects."""
from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from brief.cli import main
from helpers import copy_pack

ROOT = Path(__file__).parent
MINIMAL = ROOT / "fixtures" / "minimal"
VERSIONS = ROOT / "fixtures" / "versions"
RENEWAL = VERSIONS / "renewal"
STAGED = VERSIONS / "staged"  # proposal → Parliament position (oversight not stated) → final act
SCHEMA = json.loads((ROOT.parent / "src" / "brief" / "compare" / "diff.schema.json").read_text())
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(*args: str, pack: Path = MINIMAL):
    return CliRunner().invoke(main, ["diff", "-C", str(pack), *args])


def outputs(*args: str, pack: Path) -> dict[str, str]:
    """Return the output of every format for one comparison."""
    out = {}
    for fmt in ("text", "md", "html", "json"):
        r = run("--format", fmt, *args, pack=pack)
        assert r.exit_code == 0, r.output
        out[fmt] = r.stdout
    return out


def text_block(out: str, key: str) -> list[str]:
    """Return a row of the text format: its head line and the indented lines under it."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"  \S {re.escape(key)}[ :]", line))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return lines[start:end]


def md_row(out: str, key: str) -> str:
    (line,) = [x for x in out.splitlines() if x.startswith("| ") and f"(`{key}`" in x]
    return line


def html_row(out: str, key: str) -> dict[str, str]:
    """Return a row of the HTML table: its class, its heading and its cells' markup."""
    (m,) = re.finditer(r'<tr class="(?P<cls>[^"]*)">\n<th scope="row">(?P<label>[^\n]*)<br><span class="key">'
                       + re.escape(key) + r'</span></th>\n(?P<cells>.*?)\n</tr>', out, re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", m["cells"])
    return {"class": m["cls"], "label": m["label"], "cells": cells, "all": m[0]}


def json_row(out: str, key: str) -> dict:
    (row,) = [r for r in json.loads(out)["rows"] if r["key"] == key]
    return row


# ---- text ----------------------------------------------------------------------

def test_text_shows_header_summary_redline_and_sources():
    r = run()
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[:2] == ["Municipal Water Compact", "2015 compact → 2025 revision"]
    assert "1 provision narrowed" in lines
    assert "  ~ scope: narrowed" in lines
    assert "      Drinking water [-and irrigation-] supply shared between both cities." in lines
    assert "      sources: 2015 compact [gazette]; 2025 revision [council-2025]" in lines
    assert not ANSI.search(r.stdout)  # not a terminal: plain


def test_text_colour_on_request_styles_edits_instead_of_bracketing():
    r = run("--color")
    assert r.exit_code == 0
    assert "\x1b[31m\x1b[9mand\x1b[0m" in r.stdout  # red, struck through
    assert "[-" not in r.stdout
    assert ANSI.sub("", r.stdout).startswith("Municipal Water Compact\n")


def test_no_color_forces_plain():
    r = run("--no-color")
    assert not ANSI.search(r.stdout) and "[-and irrigation-]" in r.stdout


def test_text_marks_every_kind_of_row_and_unstated_sides():
    r = run(pack=RENEWAL)
    out = r.stdout
    assert r.exit_code == 0, r.output
    assert "  ~ screening: strengthened\n" \
           "      2020 renewal: Each party screens joint projects for dual-use risk before approval.\n" \
           "      2015 extension: not stated in sources\n" in out
    assert "  - data-sharing: removed\n      2015 extension: Parties share research data on request.\n" in out
    assert "  ? military: not described\n      2015 extension: Research with military applications is excluded.\n" \
           "      2020 renewal: not stated in sources\n" in out
    assert "  ~ ip-patents (was ip): clarified\n" in out
    assert "  = joint-board (was board): unchanged  2015 extension [accord-2010]; 2020 renewal\n" in out
    assert "      sources: 2015 extension [accord-2010, art. 1]; 2020 renewal [accord-2020, art. 1]\n" \
           "        [analysis-2020, p. 2]\n" in out  # wrapped, with a hanging indent
    assert "  analysis-2020   What the renewed accord changes. R. Analyst, Example Institute.\n" in out
    assert max(len(line) for line in out.splitlines()) <= 88
    # Marks for what is known without a stated change, from the staged pack.
    out = run("position", "final", pack=STAGED).stdout
    assert "  * oversight: first described\n" in out and "  : scope: with no change stated\n" in out
    assert "  + register: added\n" in out


def test_same_version_says_no_differences():
    r = run("compact-2025", "compact-2025")
    assert r.exit_code == 0
    assert r.stdout.startswith("No differences: FROM and TO are the same version (compact-2025, 2025 revision).")


def test_backwards_comparison_warns_on_stderr():
    r = run("compact-2025", "compact-2015")
    assert r.exit_code == 0
    assert "warning: FROM 'compact-2025' (2025-02-10) is dated after TO 'compact-2015'" in r.stderr
    assert "  ~ scope: broadened" in r.stdout
    assert "{+and irrigation+}" in r.stdout


# ---- Markdown --------------------------------------------------------------------

def test_markdown_table_per_area_with_redlines():
    r = run("--format", "md")
    assert r.exit_code == 0
    out = r.stdout
    assert out.startswith("# Municipal Water Compact: 2015 compact → 2025 revision\n")
    assert "**Summary:** 1 provision narrowed" in out
    assert "## Scope\n\n| Change | From: 2015 compact | To: 2025 revision | Sources |\n|---|---|---|---|\n" in out
    assert "| Narrowed (`scope`) | Drinking water ~~and irrigation~~ supply shared between both cities. " \
           "| Drinking water supply shared between both cities. |" in out


def test_markdown_says_not_stated_and_escapes_table_breakers(tmp_path):
    out = run("--format", "md", pack=RENEWAL).stdout
    assert "| Strengthened (`screening`) | *not stated in sources* | Each party screens" in out
    assert ("| Not described (`military`) | Research with military applications is excluded. "
            "| *not stated in sources* |") in out
    pack = _hostile_pack(tmp_path)
    out = run("--format", "md", pack=pack).stdout
    assert "a \\| b \\*c\\* \\<script\\>" in out
    for line in out.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5  # four cells, no stray pipes


# ---- JSON ----------------------------------------------------------------------

def _pairs():
    """Every (pack, FROM, TO) the fixtures offer, forwards, backwards and each version with itself."""
    yield MINIMAL, ()
    for pack, ids in ((MINIMAL, ("compact-2015", "compact-2025")),
                      (RENEWAL, ("accord-2010", "extension-2015", "accord-2020")),
                      (STAGED, ("proposal", "position", "final"))):
        for a in ids:
            for b in ids:
                yield pack, (a, b)


@pytest.mark.parametrize("pack, args", list(_pairs()), ids=lambda x: x.name if isinstance(x, Path) else "-".join(x))
def test_json_validates_against_the_schema(pack, args):
    r = run("--format", "json", *args, pack=pack)
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    jsonschema.validate(data, SCHEMA)
    # Every count is a count of rows: together they are all the rows, each as often as its label.
    counts = dict(data["counts"])
    unstated = counts.pop("not_stated")
    assert sum(counts.values()) == len(data["rows"])
    assert unstated == sum(not r["from_stated"] or not r["to_stated"] for r in data["rows"])
    # A redline only between two quoted texts; it rebuilds both.
    for row in data["rows"]:
        if row["redline"]:
            assert row["from_form"] == row["to_form"] == "text"
            assert "".join(x["text"] for x in row["redline"] if x["op"] != "insert") == row["from_text"]
            assert "".join(x["text"] for x in row["redline"] if x["op"] != "delete") == row["to_text"]


def test_docs_carry_the_same_schema():
    docs = (ROOT.parent / "docs" / "diff.md").read_text()
    block = docs.split("## JSON Schema", 1)[1].split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == SCHEMA


def test_json_content():
    data = json.loads(run("--format", "json").stdout)
    assert data["agreement"] == "Municipal Water Compact"
    assert data["format_version"] == 2
    assert data["from"]["id"] == "compact-2015" and data["from"]["dates"] == [{"kind": "signed", "date": "2015-06-01"}]
    assert data["summary"] == "1 provision narrowed" and data["counts"]["narrowed"] == 1
    (row,) = data["rows"]
    assert row["change"] == "changed" and row["effect"] == "narrows" and row["from_stated"] is True
    assert row["from_form"] == row["to_form"] == "text" and row["steps"] == []
    assert {"op": "delete", "text": "and irrigation "} in row["redline"]
    assert row["from_sources"] == [{"source": "gazette", "locator": None}]
    assert [s["id"] for s in data["sources"]] == ["gazette", "council-2025"]


def test_json_renewal_validates_and_marks_unstated_sides():
    data = json.loads(run("--format", "json", pack=RENEWAL).stdout)
    jsonschema.validate(data, SCHEMA)
    rows = {r["key"]: r for r in data["rows"]}
    assert rows["screening"]["from_stated"] is False and rows["screening"]["from_text"] is None
    assert rows["screening"]["change"] == "changed" and rows["screening"]["effect"] == "strengthens"
    assert rows["military"]["to_stated"] is False and rows["military"]["change"] == "not described"
    assert rows["data-sharing"]["change"] == "removed"
    assert rows["data-sharing"]["to_sources"] == [{"source": "analysis-2020", "locator": "p. 3"}]
    assert rows["ip-patents"]["renamed"] is True and rows["ip-patents"]["from_key"] == "ip"
    assert data["from"]["not_stated"] == ["security"] and data["to"]["not_stated"] == ["exclusions"]


def test_json_same_version_keeps_stdout_parseable():
    r = run("--format", "json", "compact-2015", "compact-2015")
    data = json.loads(r.stdout)
    assert data["same_version"] is True and data["identical"] is True
    assert "No differences" in r.stderr


# ---- HTML ----------------------------------------------------------------------

class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.open: list[str] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "link", "col"):  # void elements never close
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        for tag in self.open:
            self.text[tag] = self.text.get(tag, "") + data


def test_html_is_a_standalone_accessible_document():
    r = run("--format", "html")
    assert r.exit_code == 0
    html = r.stdout
    assert html.startswith("<!DOCTYPE html>")
    parser = _Tags()
    parser.feed(html.split("\n", 1)[1])  # nesting is checked tag by tag
    tags = parser.tags
    assert ("html", {"lang": "en"}) in tags
    assert any(t == "caption" for t, _ in tags) and parser.text["caption"] == "Scope"
    assert {a.get("scope") for t, a in tags if t == "th"} == {"col", "row"}
    assert '<del><span class="vh">deleted: </span>and irrigation</del>' in html
    assert "del { text-decoration: line-through" in html and "ins { text-decoration: underline" in html


def test_html_escapes_content_and_announces_insertions(tmp_path):
    html = run("--format", "html", pack=_hostile_pack(tmp_path)).stdout
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<ins><span class="vh">inserted: </span>' in html


def test_html_not_stated_and_language(tmp_path):
    html = run("--format", "html", pack=RENEWAL).stdout
    assert '<html lang="en-GB">' in html
    assert '<span class="none">not stated in sources</span>' in html


# ---- what a row says, in every format ----------------------------------------------
# docs/diff.md, "What a row says": each case is checked in text, Markdown, HTML and JSON.

def test_stated_effect_without_earlier_text_is_never_added_in_any_format():
    # The 2020 renewal says screening was strengthened; the 2015 extension's sources do not
    # describe security. Strengthened, FROM not stated in sources: never "added".
    out = outputs(pack=RENEWAL)
    assert text_block(out["text"], "screening") == [
        "  ~ screening: strengthened",
        "      2020 renewal: Each party screens joint projects for dual-use risk before approval.",
        "      2015 extension: not stated in sources",
        "      sources: [accord-2020, art. 8]"]
    assert not re.search(r"^  \+ ", out["text"], re.M)
    assert md_row(out["md"], "screening") == (
        "| Strengthened (`screening`) | *not stated in sources* "
        "| Each party screens joint projects for dual-use risk before approval. | \\[accord-2020, art. 8\\] |")
    row = html_row(out["html"], "screening")
    assert (row["class"], row["label"]) == ("changed", "Strengthened")
    assert row["cells"][:2] == ['<span class="none">not stated in sources</span>',
                                "Each party screens joint projects for dual-use risk before approval."]
    row = json_row(out["json"], "screening")
    assert (row["change"], row["effect"], row["from_stated"], row["from_text"], row["redline"]) == (
        "changed", "strengthens", False, None, [])
    data = json.loads(out["json"])
    assert data["counts"]["added"] == 0 and data["counts"]["strengthened"] == 3
    for fmt in ("md", "html"):
        assert "Added" not in out[fmt] and 'class="added"' not in out[fmt]
    assert not any(r["change"] == "added" for r in data["rows"])
    assert "added" not in data["summary"]


def test_added_only_with_effect_adds_in_every_format():
    out = outputs("proposal", "final", pack=STAGED)
    assert text_block(out["text"], "register")[:2] == [
        "  + register: added", "      final act: The Commission keeps a public register of vetted researchers."]
    assert md_row(out["md"], "register").startswith("| Added (`register`) | *none* | The Commission keeps")
    assert html_row(out["html"], "register")["label"] == "Added"
    assert (json_row(out["json"], "register")["change"], json_row(out["json"], "register")["effect"]) == (
        "added", "adds")
    assert [r["key"] for r in json.loads(out["json"])["rows"] if r["change"] == "added"] == ["register"]


def test_removed_only_with_drops_else_not_described_in_every_format():
    # accord-2020 lists data-sharing under drops:, citing analysis-2020; military is just absent.
    out = outputs(pack=RENEWAL)
    assert text_block(out["text"], "data-sharing") == [
        "  - data-sharing: removed",
        "      2015 extension: Parties share research data on request.",
        "      sources: 2015 extension [accord-2010]; 2020 renewal [analysis-2020, p. 3]"]
    assert text_block(out["text"], "military") == [
        "  ? military: not described",
        "      2015 extension: Research with military applications is excluded.",
        "      2020 renewal: not stated in sources",
        "      sources: [accord-2010, art. 2]"]
    assert md_row(out["md"], "data-sharing") == (
        "| Removed (`data-sharing`) | Parties share research data on request. | *none* "
        "| 2015 extension \\[accord-2010\\]; 2020 renewal \\[analysis-2020, p. 3\\] |")
    assert md_row(out["md"], "military") == (
        "| Not described (`military`) | Research with military applications is excluded. "
        "| *not stated in sources* | \\[accord-2010, art. 2\\] |")
    removed, missing = html_row(out["html"], "data-sharing"), html_row(out["html"], "military")
    assert removed["label"] == "Removed" and missing["label"] == "Not described"
    assert '<span class="cite">[analysis-2020, p. 3]</span>' in removed["cells"][2]
    assert missing["cells"][1] == '<span class="none">not stated in sources</span>'
    assert "<del>" not in removed["all"] + missing["all"]
    assert json_row(out["json"], "data-sharing")["change"] == "removed"
    assert json_row(out["json"], "military")["change"] == "not described"
    assert [r["key"] for r in json.loads(out["json"])["rows"] if r["change"] == "removed"] == ["data-sharing"]
    assert "1 removed, 1 not described in the 2020 renewal" in json.loads(out["json"])["summary"]


def test_without_drops_nothing_is_removed_in_any_format(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(RENEWAL, pack)
    path = pack / "content" / "versions.yaml"
    text = path.read_text()
    drops = "    drops:\n      - key: data-sharing\n        sources: [{source: analysis-2020, locator: p. 3}]\n"
    assert drops in text
    path.write_text(text.replace(drops, ""))
    out = outputs(pack=pack)
    assert text_block(out["text"], "data-sharing")[0] == "  ? data-sharing: not described"
    assert not re.search(r"^  - ", out["text"], re.M)
    assert md_row(out["md"], "data-sharing").startswith("| Not described (`data-sharing`) |")
    assert "Removed" not in out["md"] and "Removed" not in out["html"]
    assert html_row(out["html"], "data-sharing")["label"] == "Not described"
    data = json.loads(out["json"])
    assert data["counts"]["removed"] == 0 and data["counts"]["not described"] == 2
    assert "removed" not in data["summary"]


@pytest.mark.parametrize("key, from_text, to_text, sources", [
    ("scope", "Covers online platforms that hold data on their users.",
     "Applies to very large online platforms and very large search engines.",
     ("proposal [explainer-2021, p. 1]", "final act [final-text, art. 1]")),
    # A description (the proposal's explainer) against a quoted text (the final act).
    ("data-access", "Researchers could ask platforms for data.",
     "Vetted researchers may request access to data held by a provider.",
     ("proposal [explainer-2021, p. 2]", "final act [final-text, art. 40]")),
])
def test_descriptions_are_shown_side_by_side_with_no_redline_in_every_format(key, from_text, to_text, sources):
    out = outputs("proposal", "final", pack=STAGED)
    block = text_block(out["text"], key)
    assert block[0] == f"  : {key}: with no change stated"
    assert f"proposal: {from_text}" in " ".join(x.strip() for x in block)
    assert f"final act: {to_text}" in " ".join(x.strip() for x in block)
    assert f"sources: {sources[0]}; {sources[1]}" in " ".join(x.strip() for x in block)
    assert not any(m in "\n".join(block) for m in ("[-", "-]", "{+", "+}"))
    # On a terminal, too, nothing in the row is struck through or underlined.
    raw = run("--color", "proposal", "final", pack=STAGED).stdout.splitlines()
    plain = [ANSI.sub("", x) for x in raw]
    start = plain.index(block[0])
    assert plain[start:start + len(block)] == block
    assert not any("\x1b[9m" in x or "\x1b[4m" in x for x in raw[start:start + len(block)])
    assert any("\x1b[9m" in x for x in raw)  # (the penalties row, two quoted texts, is)
    row = md_row(out["md"], key)
    assert row.startswith(f"| With no change stated (`{key}`) | {from_text} | {to_text} |")
    assert "~~" not in row and "**" not in row
    assert sources[0].replace("[", "\\[").replace("]", "\\]") in row
    html = html_row(out["html"], key)
    assert (html["class"], html["label"]) == ("restated", "With no change stated")
    assert html["cells"][:2] == [from_text, to_text]
    assert "<del>" not in html["all"] and "<ins>" not in html["all"]
    assert f'<span class="side">proposal:</span> <span class="cite">{sources[0].split(" ", 1)[1]}</span>' \
           in html["cells"][2]
    row = json_row(out["json"], key)
    assert (row["change"], row["effect"], row["redline"], row["from_text"], row["to_text"]) == (
        "restated", None, [], from_text, to_text)
    assert row["from_sources"] and row["to_sources"]


def test_unstated_area_in_between_is_neither_removed_nor_readded_in_any_format():
    # The Parliament position's sources do not describe oversight; the proposal and the final
    # act state the same text under the same key.
    out = outputs("proposal", "final", pack=STAGED)
    assert [x for x in out["text"].splitlines() if re.match(r"  \S oversight", x)] == [
        "  = oversight: unchanged  proposal [proposal-text, art. 30]; final act [final-text, art."]
    assert md_row(out["md"], "oversight") == (
        "| Unchanged (`oversight`) | *same text* | Each member state designates one supervisory authority. "
        "| proposal \\[proposal-text, art. 30\\]; final act \\[final-text, art. 49\\] |")
    row = html_row(out["html"], "oversight")
    assert (row["class"], row["label"]) == ("unchanged", "Unchanged")
    data = json.loads(out["json"])
    assert [(r["change"], r["from_key"], r["to_key"]) for r in data["rows"] if r["area"] == "oversight"] == [
        ("unchanged", "oversight", "oversight")]
    assert data["summary"] == "1 provision added, 1 renewed, 1 changed, 2 with no change stated; 1 unchanged"
    assert data["counts"]["removed"] == data["counts"]["not described"] == data["counts"]["first described"] == 0
    for fmt in ("text", "md", "html"):
        assert "Not stated" not in out[fmt]  # neither end leaves an area unstated


def test_different_effects_across_steps_name_each_step_in_every_format():
    out = outputs("proposal", "final", pack=STAGED)
    label = ("Changed (strengthened from proposal to Parliament position; "
             "weakened from Parliament position to final act)")
    assert md_row(out["md"], "penalties").startswith(
        f"| {label} (`penalties`) | Fines of up to ~~4~~% of annual turnover. "
        "| Fines of up to **5**% of annual turnover. |")
    row = html_row(out["html"], "penalties")
    assert (row["class"], row["label"]) == ("changed", label)
    row = json_row(out["json"], "penalties")
    assert (row["change"], row["effect"]) == ("changed", None)
    assert row["steps"] == [{"from": "proposal", "to": "Parliament position", "effect": "strengthens"},
                            {"from": "Parliament position", "to": "final act", "effect": "weakens"}]
    counts = json.loads(out["json"])["counts"]
    assert (counts["changed"], counts["strengthened"], counts["weakened"]) == (1, 0, 0)  # no single net effect
    text = " ".join(x.strip() for x in text_block(out["text"], "penalties")).lower()
    assert "~ penalties: " + label.lower() in text
    assert "fines of up to [-4-]{+5+}% of annual turnover." in text


def test_text_steps_keep_version_labels_and_wrap():
    out = run("proposal", "final", pack=STAGED).stdout
    assert "Parliament position to final act" in " ".join(text_block(out, "penalties"))
    assert max(len(line) for line in out.splitlines()) <= 88


def test_renews_reads_renewed_in_every_format():
    out = outputs("proposal", "final", pack=STAGED)
    assert text_block(out["text"], "review")[0] == "  ~ review: renewed"
    assert md_row(out["md"], "review").startswith("| Renewed (`review`) |")
    assert html_row(out["html"], "review")["label"] == "Renewed"
    row = json_row(out["json"], "review")
    assert (row["change"], row["effect"]) == ("changed", "renews")
    assert json.loads(out["json"])["counts"]["renewed"] == 1
    assert "changed (" not in out["text"].split("review:")[1][:40]


# ---- the documented examples -----------------------------------------------------

def _docs_block(heading: str, lang: str) -> str:
    docs = (ROOT.parent / "docs" / "diff.md").read_text()
    return docs.split(heading, 1)[1].split(f"```{lang}\n", 1)[1].split("\n```", 1)[0]


@pytest.mark.parametrize("heading, lang, args", [
    ("### `text` (default)", "text", ()),
    ("### `md`", "markdown", ("--format", "md")),
    ("### `json`", "json", ("--format", "json")),
])
def test_docs_examples_are_the_real_output(heading, lang, args):
    assert _docs_block(heading, lang) == run(*args).stdout.rstrip("\n")


def test_docs_html_example_is_the_real_body():
    body = run("--format", "html").stdout.split("<main>\n", 1)[1].split("\n</main>", 1)[0]
    assert _docs_block("### `html`", "html") == body


def test_docs_python_example_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT.parent)
    code = _docs_block("## From Python", "python")
    namespace: dict = {}
    exec(compile(code, "docs/diff.md", "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["c"].summary() == "1 provision narrowed"
    assert capsys.readouterr().out.startswith("changed narrows")


# ---- errors ----------------------------------------------------------------------

def test_unknown_version_exits_2_listing_the_known_ones():
    r = run("compact-1999")
    assert r.exit_code == 2
    assert "unknown version 'compact-1999'; known versions: compact-2015, compact-2025" in r.stderr


def test_pack_without_versions_file():
    r = run(pack=VERSIONS / "no-versions")
    assert r.exit_code == 2
    assert "versions.yaml does not exist" in r.stderr


@pytest.mark.parametrize("command", ["check", "diff"])
@pytest.mark.parametrize("pack, place, message", [
    ("bad-replaces", "content/versions.yaml:25:20:",
     "replaces 'intellectual-property', which is not a provision of the previous version 'accord-2010'"),
    ("bad-duplicate", "content/versions.yaml:26:14:", "duplicate provision key 'scope' in version 'accord-2020'"),
])
def test_loader_rejects_bad_versions_with_file_and_line(command, pack, place, message):
    r = CliRunner().invoke(main, [command, "-C", str(VERSIONS / pack)])
    assert r.exit_code == 4
    (line,) = [x for x in r.stderr.splitlines() if x.startswith(place)]
    assert message in line


def _hostile_pack(tmp_path: Path) -> Path:
    """Copy the minimal pack with provision text full of HTML and Markdown syntax."""
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content" / "versions.yaml"
    text = path.read_text()
    text = text.replace("Drinking water supply shared between both cities.",
                        '"Drinking water supply shared between both cities: a | b *c* <script>alert(1)</script>."')
    path.write_text(text)
    return pack
