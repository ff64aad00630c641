"""Any topic, any organisation: a pack's own vocabulary, layouts, numbers and dates, `brief new` and `brief schema`."""
from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml
from babel import Locale
from click.testing import CliRunner

from brief.cli import main
from brief.content.model import PartialDate
from brief.edition.checks import load_pack
from brief.edition.render import render_html
from brief.edition.tailor import tailor
from brief.edition.wording import Wording
from helpers import copy_pack

REPO = Path(__file__).resolve().parents[1]


def brief(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def check(pack: Path):
    return brief("check", "-C", pack)


# ---- the vocabulary ----------------------------------------------------------------

def write_vocabulary(pack: Path, text: str) -> None:
    (pack / "content" / "vocabulary.yaml").write_text(text, encoding="utf-8")


def test_a_declared_area_replaces_the_built_in_list_and_prints_its_label(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    write_vocabulary(pack, "areas:\n  - {key: scope, label: What is shared}\n  - term\n")
    content = load_pack(pack)
    assert content.vocabulary.keys("areas") == ("scope", "term")
    html = render_html(content, tailor(content, content.audiences["council"])).html
    assert "What is shared" in html


def test_an_area_the_vocabulary_does_not_declare_is_refused_with_the_allowed_ones_and_where(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    write_vocabulary(pack, "# the pack's areas\nareas: [limits, verification]\n")
    r = check(pack)
    assert r.exit_code == 4
    assert ("versions[0].provisions[0].area: 'scope' is not one of this pack's areas: "
            "limits, verification (declared in content/vocabulary.yaml:2); use one of them, or add it to 'areas' "
            "in content/vocabulary.yaml") in r.output


def test_an_unknown_vocabulary_key_and_an_item_declared_twice_are_refused(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    write_vocabulary(pack, "areas: [scope, term, scope]\nregions: [north]\n")
    r = check(pack)
    assert r.exit_code == 4
    assert "content/vocabulary.yaml:2:1: regions: unknown field 'regions'" in r.output
    write_vocabulary(pack, "areas: [scope, term, scope]\n")
    r = check(pack)
    assert r.exit_code == 4
    assert "content/vocabulary.yaml:1:22: areas[2]: 'scope' is declared twice in 'areas' (first at line 1)" in r.output


def test_a_version_kind_status_and_date_kind_of_the_packs_own(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    write_vocabulary(pack, "areas: [scope, term]\nversion_kinds: [original, renewal, suspension]\n"
                           "version_statuses: [{key: in force, role: current}, {key: suspended, role: ended},"
                           " {key: superseded, role: ended}]\n"
                           "date_kinds: [{key: signed, role: start}, {key: suspended on, role: end}]\n")
    versions = pack / "content" / "versions.yaml"
    text = versions.read_text()
    versions.write_text(text.replace("    status: in force\n", "    status: suspended\n    dates:\n"
                                     "      suspended on: 2025-06-01\n    kind: suspension\n", 1)
                        .replace("    kind: renewal\n", "", 1))
    r = check(pack)
    assert r.exit_code == 0, r.output


def test_a_regulation_has_a_subject_staged_dates_and_stakeholders_without_a_country(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    write_vocabulary(pack, "areas: [scope, term]\ndate_kinds: [{key: adopted, role: milestone}, "
                           "{key: applies from, role: start}]\n")
    versions = pack / "content" / "versions.yaml"
    text = versions.read_text().replace("agreement:", "subject:")
    text = text.replace("signed: 2015-06-01", "dates: {adopted: 2015-06-01}")
    staged = "dates:\n      adopted: 2025-02-10\n      applies from: [2025-08-02, 2026-08-02]"
    text = text.replace("signed: 2025-02-10", staged)
    versions.write_text(text)
    content = load_pack(pack)
    last = content.versions.versions[-1]
    assert [k for k, _ in last.milestones()] == ["adopted", "applies from", "applies from"]
    assert content.versions.name == "Municipal Water Compact"


# ---- layouts ------------------------------------------------------------------------

def test_a_profile_naming_a_missing_layout_fails_check_listing_the_built_in_and_the_packs(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    (pack / "templates" / "layouts").mkdir(parents=True)
    (pack / "templates" / "layouts" / "memo.html.j2").write_text('{% extends "base.html.j2" %}\n')
    profile = pack / "content" / "audiences" / "council.yaml"
    profile.write_text(profile.read_text().replace("template: dense", "template: fancy"))
    r = check(pack)
    assert r.exit_code == 4
    assert ("content/audiences/council.yaml:3:11: template: unknown layout 'fancy'; built-in layouts: columns, "
            "dense, press, single; this pack's: memo") in r.output
    profile.write_text(profile.read_text().replace("template: fancy", "template: memo"))
    assert check(pack).exit_code == 0


def test_no_built_in_template_is_named_after_an_audience():
    builtin = REPO / "templates" / "editions"
    names = {p.stem.removesuffix(".html") for p in builtin.rglob("*.j2")}
    assert not names & {"congress", "universities", "journalists"}
    assert {"single", "columns", "dense", "press"} <= names


def test_a_profile_without_a_template_uses_the_single_column_layout(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    profile = pack / "content" / "audiences" / "council.yaml"
    profile.write_text(profile.read_text().replace("template: dense\n", ""))
    content = load_pack(pack)
    html = render_html(content, tailor(content, content.audiences["council"])).html
    assert 'class="edition edition-council layout-single"' in html


def test_the_page_size_comes_from_the_pack(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    with open(pack / "content" / "pack.yaml", "a") as f:
        f.write("page_size: A4\n")
    content = load_pack(pack)
    html = render_html(content, tailor(content, content.audiences["council"])).html
    assert "@page { size: A4; }" in html


# ---- numbers and dates ----------------------------------------------------------------

@pytest.mark.parametrize("locale, value, style, unit, expected", [
    ("en_GB", "35000000", "words", "EUR", "EUR 35 million"),
    ("de_DE", "35000000", "words", "EUR", "35 Millionen EUR"),
    ("en_US", "10000000000000000000000000", "exponent", None, "10²⁵"),
    ("en_US", "10000000000000000000000000", "words", None, "10²⁵"),  # beyond trillions, a power of ten
    ("en_US", "10000000000000000000000000", "digits", None, "10,000,000,000,000,000,000,000,000"),
    ("en_US", "7", "words", "%", "7%"),
    ("fr_FR", "7", "words", "%", "7 %"),
    ("en_US", "1234", "words", "protocols", "1,234 protocols"),
    ("en_US", "0.1", "digits", None, "0.1"),
])
def test_figures_are_exact_and_written_the_locales_way(locale, value, style, unit, expected):
    text = Wording(Locale.parse(locale)).number(Decimal(value), style, unit)
    assert text.replace("\u202f", " ").replace("\xa0", " ") == expected
    assert "e+" not in text and "E+" not in text


def test_dates_follow_the_locale_at_their_precision():
    assert Wording(Locale.parse("en_GB")).date(PartialDate(2024, 12, 20)) == "20 December 2024"
    assert Wording(Locale.parse("en_US")).date(date(2024, 12, 20)) == "December 20, 2024"
    assert Wording(Locale.parse("de_DE")).date(PartialDate(2024, 12)) == "Dezember 2024"
    assert Wording(Locale.parse("en_GB")).date(PartialDate(1979)) == "1979"


def test_quotation_marks_follow_the_language():
    assert Wording(Locale.parse("de_DE")).quoted("Abkommen") == "„Abkommen“"
    assert Wording(Locale.parse("en_GB")).quoted("pact") == "“pact”"


def test_figures_of_one_quantity_at_different_dates_are_a_series_not_a_conflict(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    (pack / "content" / "figures.yaml").write_text("""figures:
  - id: h-2020
    quantity: households
    label: Households served
    value: 100000
    as_of: 2020
    sources: [council-2025]
  - id: h-2024
    quantity: households
    label: Households served
    value: 120000
    as_of: 2024
    sources: [council-2025]
""")
    r = check(pack)
    assert r.exit_code == 0 and "conflicting" not in r.output, r.output
    profile = pack / "content" / "audiences" / "council.yaml"
    profile.write_text(profile.read_text().replace("  - sources\n", "  - figures\n  - sources\n"))
    content = load_pack(pack)
    html = render_html(content, tailor(content, content.audiences["council"])).html
    assert "over time" in html and "Conflicting" not in html
    assert html.index("100,000") < html.index("120,000")  # oldest first


# ---- brief new and brief schema --------------------------------------------------------

def test_brief_new_writes_a_pack_that_passes_check(tmp_path):
    r = brief("new", tmp_path / "mypack")
    assert r.exit_code == 0, r.output
    assert check(tmp_path / "mypack").exit_code == 0
    profiles = list((tmp_path / "mypack" / "content" / "audiences").glob("*.yaml"))
    layouts = {yaml.safe_load(p.read_text())["template"] for p in profiles}
    assert len(profiles) >= 2 and len(layouts) >= 2
    first = (tmp_path / "mypack" / "content" / "pack.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/pack.schema.json"
    assert (tmp_path / "mypack" / "schema" / "pack.schema.json").is_file()


@pytest.mark.parametrize("make", ["a file", "non-empty", "unwritable"])
def test_brief_new_refuses_a_place_it_cannot_use_and_writes_nothing(tmp_path, make):
    target = tmp_path / "here"
    if make == "a file":
        target.write_text("mine")
    elif make == "non-empty":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    else:
        target = Path("/proc/brief-cannot-write-here")
    r = brief("new", target)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    if make != "unwritable":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]
        assert not target.is_dir() or [p.name for p in target.iterdir()] == ["notes.txt"]


def _typed_yaml(path: Path):
    # Editors read YAML as YAML 1.2-ish: numbers typed, dates left as text.
    class Loader(yaml.SafeLoader):
        pass
    Loader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
                                      for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)


def test_brief_schema_validates_the_shipped_pack_and_catches_a_misspelt_field(tmp_path):
    r = brief("schema", "-C", REPO, "--out", tmp_path / "schema")
    assert r.exit_code == 0, r.output
    schemas = {p.name: json.loads(p.read_text()) for p in (tmp_path / "schema").glob("*.json")}
    for path in sorted((REPO / "content").rglob("*.yaml")):
        name = "audience.schema.json" if path.parent.name == "audiences" else f"{path.stem}.schema.json"
        jsonschema.validate(_typed_yaml(path), schemas[name])
    with pytest.raises(jsonschema.ValidationError, match="titel"):
        jsonschema.validate({"sources": [{"id": "x", "titel": "Misspelt", "kind": "report", "date": "2024"}]},
                            schemas["sources.schema.json"])


# ---- quotations checked against the sources' text -------------------------------------

def test_changing_one_word_inside_a_quotation_fails_check_at_its_line(tmp_path):
    pack = tmp_path / "sta"
    shutil.copytree(REPO / "content", pack / "content")
    shutil.copytree(REPO / "sources", pack / "sources")
    assert check(pack).exit_code == 0
    stakeholders = pack / "content" / "stakeholders.yaml"
    text = stakeholders.read_text()
    quote = next(line for line in text.splitlines() if line.strip().startswith("text:") and "quote" not in line)
    words = quote.split()
    changed = quote.replace(words[-1], "zebra")
    stakeholders.write_text(text.replace(quote, changed, 1))
    line = text.splitlines().index(quote) + 1
    r = check(pack)
    assert r.exit_code == 4
    assert f"content/stakeholders.yaml:{line}:" in r.output and "is not in the text of" in r.output


def test_a_paragraph_locator_past_the_end_of_its_source_is_an_error(tmp_path):
    pack = tmp_path / "sta"
    shutil.copytree(REPO / "content", pack / "content")
    shutil.copytree(REPO / "sources", pack / "sources")
    path = pack / "content" / "timeline.yaml"
    text = path.read_text()
    start = text.index('locator: "para')
    end = text.index('"', start + len('locator: "'))
    path.write_text(text[:start] + 'locator: "para. 400' + text[end:])
    r = check(pack)
    assert r.exit_code == 4
    assert "is past its last paragraph" in r.output


def test_a_series_needs_a_date_for_each_figure_and_roles_and_locales_are_checked(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    (pack / "content" / "figures.yaml").write_text("""figures:
  - id: a
    quantity: q
    label: Q
    value: 1
    relation: series
    sources: [council-2025]
  - id: b
    quantity: q
    label: Q
    value: 2
    as_of: 2024
    relation: series
    sources: [council-2025]
""")
    write_vocabulary(pack, "areas:\n  - {key: scope, role: break}\n  - term\n")
    with open(pack / "content" / "pack.yaml", "a") as f:
        f.write("locale: xx_XX\n")
    r = check(pack)
    assert r.exit_code == 4
    assert "figures[0]: 'a' is part of the series 'q' but has no as_of" in r.output
    assert "areas[0].role: role 'break' means nothing for areas" in r.output
    assert "locale: unknown locale 'xx_XX'" in r.output


def test_words_never_round_an_exact_figure():
    en = Wording(Locale.parse("en_US"))
    assert en.number(Decimal("1234567")) == "1,234,567"
    assert en.number(Decimal("1234567"), "exponent") == "1.234567 × 10⁶"
    assert en.number(Decimal("35000000")) == "35 million"


@pytest.mark.slow
def test_a_changed_image_is_printed_anew_not_from_the_last_builds_copy(tmp_path):
    from PIL import Image
    from pypdf import PdfReader

    pack = copy_pack("minimal", tmp_path / "pack")
    layouts = pack / "templates" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "dense.html.j2").write_text('{% extends "base.html.j2" %}\n{% block masthead %}{{ super() }}'
                                           '<img src="logo.png" alt="Logo">{% endblock %}\n')
    def colour_of_pdf_image() -> tuple:
        page = PdfReader(next((pack / "build" / "council").glob("*.pdf"))).pages[0]
        return page.images[0].image.convert("RGB").getpixel((0, 0))
    Image.new("RGB", (8, 8), (255, 0, 0)).save(pack / "templates" / "logo.png")
    assert brief("build", "-C", pack, "--all").exit_code == 0
    assert colour_of_pdf_image() == (255, 0, 0)
    Image.new("RGB", (8, 8), (0, 0, 255)).save(pack / "templates" / "logo.png")
    r = brief("build", "-C", pack, "--all")
    assert r.exit_code == 0 and "unchanged" not in r.output, r.output
    assert colour_of_pdf_image() == (0, 0, 255)


def test_a_title_can_come_from_the_sources_own_copy(tmp_path):
    pack = tmp_path / "sta"
    shutil.copytree(REPO / "content", pack / "content")
    shutil.copytree(REPO / "sources", pack / "sources")
    content = load_pack(pack)
    assert content.sources["zhang-scmp-2024"].title == (
        "Renewed US-China science pact advances cooperation, despite tech wars")
    path = pack / "content" / "sources.yaml"
    path.write_text(path.read_text().replace("title_line: 3  # the article's", "title_line: 2  # the article's"))
    r = check(pack)
    assert r.exit_code == 4
    assert "sources[0].title_line: line 2 of sources/zhang-scmp-2024.txt holds no title" in r.output


@pytest.mark.parametrize("mode", ["table", "list", "summary"])
def test_a_disputed_provision_shows_its_dispute_in_the_changes_section_too(tmp_path, mode):
    pack = copy_pack("minimal", tmp_path / "pack")
    versions = pack / "content" / "versions.yaml"
    text = versions.read_text()
    last = text.rindex("        sources: [council-2025]")
    versions.write_text(text[:last] + "        dispute:\n          claims:\n"
                        "            - {text: The gazette says irrigation stays., source: gazette}\n"
                        "            - {text: The council says it goes., source: council-2025}\n" + text[last:])
    profile = pack / "content" / "audiences" / "council.yaml"
    profile.write_text(profile.read_text().replace("mode: summary", f"mode: {mode}"))
    content = load_pack(pack)
    html = render_html(content, tailor(content, content.audiences["council"])).html
    assert "Sources disagree" in html and "The gazette says irrigation stays." in html


def test_a_title_with_no_letters_for_file_names_asks_for_a_short_title(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content" / "pack.yaml"
    path.write_text(path.read_text().replace("title: Municipal Water Compact", "title: Договор о воде"))
    r = check(pack)
    assert r.exit_code == 4
    assert "title: the title has no Latin letters or digits to name the output files with; add short_title:" in r.output


def test_a_pack_copied_without_its_source_copies_still_checks_with_warnings(tmp_path):
    pack = tmp_path / "sta"
    shutil.copytree(REPO / "content", pack / "content")  # no sources/
    r = check(pack)
    assert r.exit_code == 0, r.output
    assert "'sources/zhang-scmp-2024.txt' is not in the pack, so quotations attributed to this source are not" \
        in r.output
    assert load_pack(pack).sources["zhang-scmp-2024"].title == "Renewed US-China science pact advances cooperation"
