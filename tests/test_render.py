"""Tailoring and HTML rendering: golden files, escaping, template errors, the HTML checks.

Regenerate the golden files after an intended change to templates or tailoring with:
    BRIEF_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render.py
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from brief.content.model import PartialDate
from brief.edition.checks import load_pack
from brief.edition.render import check_html, environment, render_html
from brief.edition.tailor import edition_slug, tailor
from brief.edition.timeline import Marker, Span, timeline_svg
from brief.errors import BuildError, ContentError
from helpers import FIXTURES, copy_pack

EDITIONS = FIXTURES / "editions"
PACK = EDITIONS / "pack"
EXPECTED = EDITIONS / "expected"


def render(pack: Path, audience: str) -> str:
    content = load_pack(pack)
    return render_html(content, tailor(content, content.audiences[audience])).html


# ---- golden files --------------------------------------------------------------

@pytest.mark.parametrize("audience", ["staff", "press", "research"])
def test_html_matches_golden_file(audience):
    html = render(PACK, audience)
    golden = EXPECTED / f"{audience}.html"
    if os.environ.get("BRIEF_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(html, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; create it with BRIEF_UPDATE_GOLDEN=1"
    assert html == golden.read_text(encoding="utf-8"), (
        f"{audience} HTML differs from {golden}; if the change is intended, regenerate with BRIEF_UPDATE_GOLDEN=1")


# ---- tailoring -----------------------------------------------------------------

def test_sections_follow_the_profile_and_citations_number_in_order_of_first_use():
    content = load_pack(PACK)
    staff = tailor(content, content.audiences["staff"])
    assert [s.kind for s in staff.sections] == ["bottom_line", "assessments", "changes", "stakeholders",
                                                "recommendations", "sources"]
    # bottom line cites accord-2024 first; the second judgement cites review (new) then accord-2024
    assert [(e.number, e.source.id) for e in staff.sources] == [(1, "accord-2024"), (2, "review")]
    judgements = staff.sections[1].entries
    assert [r.number for r in judgements[1].refs] == [1, 2]
    assert staff.sections[4].title == "Options for the committee"


def test_audience_tags_and_priorities_select_items():
    content = load_pack(PACK)
    press = tailor(content, content.audiences["press"])
    research = tailor(content, content.audiences["research"])
    timeline = {s.kind: s for s in press.sections}["timeline"]
    assert [e.item.id for e in timeline.entries][-1] == "ends"  # tagged for press only
    assert "ends" not in [e.item.id for s in research.sections if s.kind == "timeline" for e in s.entries]
    figures = {s.kind: s for s in press.sections}["figures"].entries
    assert [g.conflicting for g in figures] == [True, False]


def test_slug_shortens_titles_with_an_abbreviation():
    content = load_pack(PACK)
    assert edition_slug(content, "staff") == "harbour-data-accord-staff"


# ---- escaping and safety -------------------------------------------------------

def test_markup_in_content_renders_as_text(tmp_path):
    html = render(copy_pack("editions", tmp_path / "pack", "script"), "staff")
    assert "&lt;script&gt;alert(&#34;boo&#34;)&lt;/script&gt; can hide in a headline" in html
    assert "<script" not in html.lower()
    assert "&lt;b&gt;markup&lt;/b&gt; &amp; an ampersand" in html


def test_keywords_and_quotes_are_escaped_in_attributes():
    html = render(PACK, "staff")
    assert '<meta name="keywords" content="ports, data sharing, security &lt;review&gt;">' in html


def test_empty_value_is_an_error_naming_the_template(tmp_path):
    with pytest.raises(ContentError) as e:
        render(copy_pack("editions", tmp_path / "pack", "empty-value"), "staff")
    assert "templates/layouts/dense.html.j2:3" in e.value.message
    assert "empty (None)" in e.value.message
    assert "{{ pack.embargo }}" in e.value.message  # the offending line


def test_missing_template_names_the_profile_and_the_template(tmp_path):
    with pytest.raises(ContentError) as e:
        render(copy_pack("editions", tmp_path / "pack", "missing-template"), "staff")
    assert "content/audiences/staff.yaml:3" in e.value.message
    assert "template 'nope.html.j2' not found" in e.value.message


def test_template_syntax_error_names_file_line_and_text(tmp_path):
    with pytest.raises(ContentError) as e:
        render(copy_pack("editions", tmp_path / "pack", "syntax-error"), "staff")
    assert "templates/layouts/dense.html.j2:4: template syntax error" in e.value.message
    assert "{{ audience.call_to_action }</p>" in e.value.message


def test_image_without_alt_is_refused(tmp_path):
    with pytest.raises(BuildError) as e:
        render(copy_pack("editions", tmp_path / "pack", "no-alt"), "staff")
    assert e.value.message.startswith("staff: <img src=\"../../content/logo.png\"> has no alt text")


@pytest.mark.parametrize("case, url", [("outside-image", "../../../outside.png"),
                                       ("http-image", "http://127.0.0.1:9/logo.png")])
def test_images_from_outside_the_pack_or_the_network_are_refused(tmp_path, case, url):
    with pytest.raises(BuildError) as e:
        render(copy_pack("editions", tmp_path / "pack", case), "staff")
    assert f'staff: <img src="{url}"> loads a file outside the pack or from the network' in e.value.message


def test_svg_graphic_needs_a_title(tmp_path):
    with pytest.raises(BuildError, match=r'svg role="img"> has no <title>'):
        check_html('<svg role="img"><desc>no title</desc></svg>', "x", tmp_path, {}, tmp_path)
    check_html('<svg role="img"><title>Fine</title></svg><svg><g/></svg>', "x", tmp_path, {}, tmp_path)


def test_javascript_links_are_refused(tmp_path):
    with pytest.raises(BuildError, match="'javascript:' URL"):
        check_html('<a href="javascript:alert(1)">x</a>', "x", tmp_path, {}, tmp_path)


# ---- the timeline graphic ------------------------------------------------------

def test_timeline_is_an_accessible_svg_with_escaped_text():
    markers = [Marker(1, PartialDate(1979), "Signed <here>", "signing"),
               Marker(2, PartialDate(2023, 8), "Lapse", "lapse")]
    spans = [Span("1979 <original>", PartialDate(1979), PartialDate(2023, 8), "superseded")]
    svg = str(timeline_svg("Accord & co", markers, spans, PartialDate(2024, 1, 1).start))
    assert svg.startswith('<svg class="timeline" role="img"')
    assert "<title id=\"tl-title\">Timeline of the Accord &amp; co, 1979–2023</title>" in svg
    assert "1979 &lt;original&gt;" in svg and "<original>" not in svg
    assert len(re.findall(r"<circle", svg)) == 2


def test_crowded_recent_events_get_a_broken_widened_axis():
    dates = [PartialDate(1979), PartialDate(2008)] + [PartialDate(2023, m) for m in (2, 4, 6, 8, 10, 12)]
    markers = [Marker(i, d, "e", "other") for i, d in enumerate(dates, 1)]
    svg = str(timeline_svg("A", markers, [], PartialDate(2024, 1, 1).start))
    assert "axis is broken and widened for 2023–2023" in svg
    rows = {float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)}
    assert len(rows) <= 2  # widened: markers a month or two apart fit in two rows


def test_environment_is_strict():
    env = environment(load_pack(PACK))
    assert env.autoescape is True
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ nope }}").render()


def test_embargo_line_shows_when_set_and_only_then(tmp_path):
    assert "Embargoed" not in render(PACK, "press")
    pack = copy_pack("editions", tmp_path / "pack")
    with open(pack / "content" / "pack.yaml", "a", encoding="utf-8") as f:
        f.write("embargo: 2025-03-03T09:00:00-05:00\n")
    html = render(pack, "press")
    assert '<strong class="embargo">Embargoed until 3 March 2025, 09:00 UTC-05:00</strong>' in html


def test_conflicting_figures_get_a_chart_naming_each_source():
    html = render(PACK, "press")
    charts = re.findall(r'<svg class="figure-chart" role="img".*?</svg>', html, re.S)
    assert len(charts) == 1  # one quantity conflicts in the fixture; agreeing figures get no chart
    (chart,) = charts
    assert "<title id=\"fig-ships-title\">" in chart and "the sources disagree</title>" in chart
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", chart).group(1)
    assert desc.startswith("Bar chart: about 1,200 according to ")
    assert "over 900 according to " in desc


def test_sections_with_nothing_for_the_reader_are_left_out(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack")
    (pack / "content" / "glossary.yaml").write_text("terms: []\n")
    html = render(pack, "press")
    assert 's-glossary"' not in html and "Glossary" not in html
    assert 's-questions"' in html  # the other sections stay
