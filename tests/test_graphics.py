"""The timeline and conflict-chart graphics: axis breaks, legends, label room, numbers, spreading events."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from brief.content.model import PartialDate as P
from brief.edition import measure
from brief.edition import timeline as g
from brief.edition.charts import comparison_svg, plain_number
from brief.edition.measure import text_width
from brief.edition.timeline import WIDTH, Marker, Scale, Span, spread, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
AS_OF = date(2024, 6, 1)
SOON = date(2011, 6, 1)  # just after the events of the legend tests: no empty tail to break the axis for


def markers(dates, kinds=None):
    return [Marker(i, d, f"event {i}", (kinds or {}).get(i, "other")) for i, d in enumerate(dates, 1)]


def texts(svg: str):
    """Yield (left, right, y, text) for every line of text in an SVG, measured with the edition's font."""
    root = ET.fromstring(svg)
    for t in root.iter(f"{SVG}text"):
        size, weight = float(t.get("font-size")), int(t.get("font-weight", 400))
        anchor = t.get("text-anchor", "start")
        lines = [(float(s.get("x")), s.text or "") for s in t.iter(f"{SVG}tspan")] or [(float(t.get("x")), t.text)]
        for x, s in lines:
            w = text_width(s, size, weight)
            left = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
            yield left, left + w, float(t.get("y")), s


def view_width(svg: str) -> float:
    return float(ET.fromstring(svg).get("viewBox").split()[2])


def circles(svg: str):
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def desc(svg: str) -> str:
    return ET.fromstring(svg).find(f"{SVG}desc").text


def assert_labels_fit(svg: str):
    width = view_width(svg)
    placed = list(texts(svg))
    for left, right, _, s in placed:
        assert 0 <= left and right <= width, f"{s!r} runs outside 0..{width}: {left:.1f}..{right:.1f}"
    by_line: dict[float, list] = {}
    for left, right, y, s in placed:
        by_line.setdefault(y, []).append((left, right, s))
    for y, row in by_line.items():
        if y >= g._ROW_Y - g._R:  # marker numbers sit inside their circles: stacking keeps those apart
            continue
        row.sort()
        for (_, r1, s1), (l2, _, s2) in zip(row, row[1:], strict=False):
            assert l2 >= r1, f"{s1!r} and {s2!r} overlap at y={y}"


# ---- axis breaks ------------------------------------------------------------------------


def test_several_crowded_spans_are_each_widened_and_described():
    dates = ([P(1960), P(1970), P(1980)] + [P(1990, m) for m in (1, 3, 5, 7, 9, 11)]
             + [P(2000), P(2010)] + [P(2019, m) for m in (2, 4, 6, 8, 10, 12)])
    t = timeline_svg("Accord", markers(dates), [], AS_OF)
    svg = str(t)
    assert "widened for 1990–1990 and 2019–2019, where events crowd together" in desc(svg)
    assert "1990 and 2019" in t.legend
    assert len({y for _, y in circles(svg)}) <= 2  # widened: every marker in at most two rows
    assert_labels_fit(svg)


def test_crowds_with_empty_years_between_widen_only_the_crowds():
    dates = ([P(1990, m) for m in (1, 4, 7, 10)] + [P(1991, m) for m in (2, 6, 10)] + [P(1992, 3)]
             + [P(2018, m) for m in (1, 5, 9)] + [P(2019, m) for m in (2, 6, 10)] + [P(2020, 4)])
    marks = [g._mid(d) for d in dates]
    scale = Scale.fit(1990, 2025, marks)
    (a1, b1), (a2, b2) = scale.widened  # each crowd, no more than the years it needs
    assert 1990 <= a1 < b1 <= 1993 and 2018 <= a2 < b2 <= 2021
    rates = {p[:2]: (p[3] - p[2]) / (p[1] - p[0]) for p in scale.parts}
    plain = [r for (a, b), r in rates.items() if (a, b) not in scale.widened]
    assert min(rates[w] for w in scale.widened) > max(plain)
    for a, b, _, _ in scale.parts:  # never widen an empty span: a widened part holds events
        if (a, b) in scale.widened:
            assert any(a <= t < b for t in marks)
    svg = str(timeline_svg("Accord", markers(dates), [], AS_OF))
    assert f"widened for {a1}–{b1 - 1} and {a2}–{b2 - 1}, where events crowd together" in desc(svg)
    assert len({y for _, y in circles(svg)}) <= 2
    assert_labels_fit(svg)


@pytest.mark.parametrize("open_term", [False, True])
def test_a_long_empty_tail_is_left_out(open_term):
    dates = [P(1950), P(1952), P(1955, 3), P(1958)]
    # An open term runs to the as-of date: that end is not something happening.
    spans = [Span("1950 act", P(1950), P(AS_OF.year, AS_OF.month, AS_OF.day), "in force")] if open_term else []
    t = timeline_svg("Act", markers(dates), spans, AS_OF)
    svg = str(t)
    xs = [x for x, _ in circles(svg)]
    assert max(xs) - min(xs) > 0.6 * WIDTH  # the events get the width, not the empty decades after them
    assert "leaves out 1959–2023" in desc(svg) and "leaves out 1959–2023" in t.legend
    assert ">2024</text>" in svg  # the axis still reaches the present, past a break
    assert_labels_fit(svg)
    if open_term:  # the bar runs on past the break into the present
        scale = Scale.fit(1950, 2025, [g._mid(d) for d in dates], [1950.0])
        assert scale.skipped == ((1959, 2024),)
        assert len(re.findall(r"<rect ", svg)) == 2


def test_an_empty_stretch_before_the_first_event_is_left_out_too():
    scale = Scale.fit(1900, 2011, [2001.5, 2005.5, 2009.5])
    assert scale.skipped == ((1901, 2001),)
    assert scale.x(2001) - scale.parts[0][2] < 0.2 * WIDTH
    assert scale.widened == ()


def test_short_quiet_stretches_stay_on_an_even_scale():
    scale = Scale.fit(2000, 2011, [2000.5, 2004.5, 2010.5])
    assert len(scale.parts) == 1 and scale.zoom is None and scale.skipped == ()


# ---- the legend -------------------------------------------------------------------------


def test_no_versions_means_no_bars_and_no_bars_in_the_legend():
    t = timeline_svg("Act", markers([P(2001), P(2010)]), [], SOON)
    assert "<rect" not in str(t)
    assert "Bars" not in t.legend and "hollow" not in t.legend
    assert t.legend == "Numbered markers: the events below."


def test_nothing_drawn_means_no_legend():
    assert timeline_svg("Act", [], [], SOON).legend == ""


def test_legend_names_only_the_shades_drawn():
    spans = [Span("v1", P(2000), P(2010), "superseded"), Span("v2", P(2010), None, "in force")]
    t = timeline_svg("Act", markers([P(2000), P(2010)]), spans, SOON)
    assert t.legend.startswith("Bars: each version's term (dark: in force; grey: superseded).")
    assert "red:" not in t.legend and "outlined" not in t.legend and "gap" not in t.legend
    spans = [Span("v1", P(2000), P(2010), "lapsed"), Span("v2", P(2012), P(2020), "pending")]
    t = timeline_svg("Act", [], spans, SOON)
    assert t.legend == "Bars: each version's term (outlined: pending; red: lapsed; a gap: no version in force)."


def test_hollow_markers_follow_the_kinds_given():
    ms = markers([P(2000), P(2005), P(2010)], {2: "expiry", 3: "repeal"})
    default = timeline_svg("Act", ms, [], SOON)
    assert default.legend == "Numbered markers: the events below; hollow markers: expiry."
    assert str(default).count('fill="#ffffff" stroke="#b23b3b"') == 1
    custom = timeline_svg("Act", ms, [], SOON, hollow={"repeal", "sunset"})
    assert custom.legend == "Numbered markers: the events below; hollow markers: repeal."
    assert custom.hollow == frozenset({"repeal", "sunset"})
    none = timeline_svg("Act", ms, [], SOON, hollow=())
    assert "hollow" not in none.legend and 'stroke="#b23b3b"' not in str(none)


def test_timeline_is_still_the_svg_markup_with_its_legend_alongside():
    t = timeline_svg("A & B", markers([P(2001)]), [], AS_OF)
    assert isinstance(t, Markup) and str(t).startswith('<svg class="timeline" role="img"') and t == t.svg
    env = ImmutableSandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.from_string("<div>{{ t }}</div><p>{{ t.legend }}</p>{{ 'x' in t.hollow }}").render(t=t)
    assert html == f"<div>{t.svg}</div><p>{t.legend}</p>False"
    with pytest.raises(AttributeError):
        t.legend = "changed"


# ---- labels stay inside and apart -----------------------------------------------------


def test_axis_and_date_labels_stay_inside_and_apart():
    cases = [
        (markers([P(2024, 3, 5)]), []),  # the last date sits right by the first year's label
        (markers([P(1979)] + [P(2023, m) for m in range(1, 13)] + [P(2029, 12, 31)]), []),
        (markers([P(1850), P(2024, 12, 20)]), [Span("v", P(1850), P(2099), "in force")]),
        (markers([P(y) for y in range(1901, 2024, 3)]), []),
    ]
    for ms, spans in cases:
        assert_labels_fit(str(timeline_svg("Act", ms, spans, AS_OF)))


def test_text_is_measured_from_the_shipped_font():
    assert text_width("", 10) == 0
    assert text_width("WWW", 10) > text_width("iii", 10) > 0
    assert text_width("100", 11, 600) > text_width("100", 11, 400)
    assert text_width("张", 10) == pytest.approx(10)  # not in Inter: a fallback font, counted full width
    assert measure._advances.cache_info().currsize >= 2  # read once per weight


# ---- the conflict chart --------------------------------------------------------------


def test_long_source_names_stay_inside_the_chart():
    bars = [("about 1,200", 1200, "Congressional Research Service; Ministry of Science and Technology of the "
                                  "People's Republic of China, 2024"),
            ("over 900", 900.5, "Supercalifragilisticexpialidociouslylongorganisationname Institute, 2023"),
            ("nearly 1,000,000 and then some more", Decimal("999999.5"), "X"),
            ("0", 0, "nobody")]
    svg = str(comparison_svg("fig-x", "Ships: the sources disagree", bars))
    width = view_width(svg)
    lines = list(texts(svg))
    assert lines and all(0 <= left and right <= width for left, right, _, _ in lines)
    for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg):
        assert 0 <= float(x) and float(x) + float(w) <= width
    shown = " ".join(s for _, _, _, s in lines)
    assert "Congressional Research Service;" in shown and "Institute, 2023" in shown


def test_short_labels_keep_the_usual_size():
    svg = str(comparison_svg("f", "t", [("nearly 100", 100, "Marina Zhang, 2024"), ("over 40", 40, "unsigned source")]))
    assert view_width(svg) == 360
    assert "<tspan" in svg and svg.count("<tspan") == 2  # one line each


def test_a_huge_decimal_renders_without_exponents():
    big = Decimal(10) ** 25
    svg = str(comparison_svg("f", "t", [(f"about {plain_number(big)}", big, "A"), ("1", 1, "B"),
                                        ("a third", Decimal(1) / 3, "C"), ("tiny", 1e-30, "D")]))
    assert not re.search(r"\d[eE][+-]?\d", svg) and "nan" not in svg.lower() and "inf" not in svg.lower()
    assert "about 10,000,000,000,000,000,000,000,000" in svg
    assert_labels_fit(svg)
    # A Decimal too big for a float still draws.
    huge = str(comparison_svg("f", "t", [("a lot", Decimal("1E+400"), "A"), ("some", 5, "B")]))
    assert "inf" not in huge.lower() and not re.search(r"\d[eE][+-]?\d", huge)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN")])
def test_non_finite_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        comparison_svg("f", "t", [("x", bad, "A"), ("1", 1, "B")])


def test_plain_number():
    assert plain_number(Decimal(10) ** 25) == "10,000,000,000,000,000,000,000,000"
    assert plain_number(Decimal("1.50")) == "1.5"
    assert plain_number(Decimal("1E+3")) == "1,000"
    assert plain_number(112000) == "112,000"
    assert plain_number(0.1) == "0.1"
    assert plain_number(1e21) == "1,000,000,000,000,000,000,000"


# ---- spreading events over the whole range ----------------------------------------------


def test_spread_keeps_the_first_and_the_latest_and_covers_the_range():
    years = [1979, 2008, 2018, 2023, 2023, 2023, 2024, 2024, 2024, 2029]
    items = [(y, i) for i, y in enumerate(years)]
    picked = spread(items, 4, key=lambda it: P(it[0]))
    assert picked[0] == (1979, 0) and picked[-1] == (2029, 9)
    assert [y for y, _ in picked] == [1979, 2008, 2018, 2029]  # the middle of the range, not four in 2023–24
    assert picked == sorted(picked)


def test_spread_edges():
    items = [date(2020, 1, 5), date(2001, 3, 1), date(2010, 7, 9)]
    assert spread(items, 10, key=lambda d: d) == sorted(items)  # n >= len: all, in date order
    assert spread(items, 1, key=lambda d: d) == [date(2020, 1, 5)]  # one: the latest
    assert spread(items, 0, key=lambda d: d) == []
    assert spread(items, 2, key=lambda d: d) == [date(2001, 3, 1), date(2020, 1, 5)]
    assert spread([], 3, key=lambda d: d) == []
    with pytest.raises(TypeError):
        spread(["x", "y", "z"], 2, key=lambda s: s)
