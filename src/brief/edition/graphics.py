"""Draw the agreement timeline as an accessible inline SVG."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from brief.content import model as m

WIDTH = 680
_LEFT, _RIGHT = 24, 24
_BAND_Y, _BAND_H = 26, 16  # version bars
_AXIS_Y = 58
_ROW_Y, _ROW_H, _R = 80, 21, 8.5  # event markers: first row, row pitch, radius
_PITCH = 2 * _R + 2  # closest two markers may sit in one row
_GAP = 14.0  # px between the parts of a broken axis
_FONT = "Brief Inter"
# Greyscale-safe: terms differ by lightness, not hue alone.
_STATUS_FILL = {"in force": "#1f3a5f", "pending": "#ffffff", "lapsed": "#b23b3b"}
_OTHER_FILL = "#a9b4c2"


@dataclass(frozen=True)
class Marker:
    """One numbered event on the axis."""

    number: int
    when: m.PartialDate
    title: str
    kind: str


@dataclass(frozen=True)
class Span:
    """One version's term, drawn as a bar."""

    label: str
    start: m.PartialDate
    end: m.PartialDate | None
    status: str


def _mid(d: m.PartialDate) -> float:
    # Place an event in the middle of what its date can mean, so "1979" sits mid-year.
    if d.precision == "year":
        return d.year + 0.5
    if d.precision == "month":
        return d.year + (d.month - 0.5) / 12
    return _edge(d)


def _edge(d: m.PartialDate) -> float:
    # A term starts and ends on the first day its date can mean.
    return d.year + (d.start.timetuple().tm_yday - 1) / 366


def spans_of(versions: list[m.Version], as_of: date) -> list[Span]:
    """Return each dated version's term, ending at its expiry or the next version's start."""
    dated = [(v, v.effective or v.signed) for v in versions if v.effective or v.signed]
    out = []
    for i, (v, start) in enumerate(dated):
        nxt = dated[i + 1][1] if i + 1 < len(dated) else None
        end = v.expires or nxt or m.PartialDate(as_of.year, as_of.month, as_of.day)
        out.append(Span(v.label, start, end, v.status))
    return out


def _rows(xs: list[float], gap: float) -> list[int]:
    """Assign each x (sorted) the first row where it clears the last marker by gap."""
    last: list[float] = []
    rows = []
    for x in xs:
        for r, lx in enumerate(last):
            if x - lx >= gap:
                last[r] = x
                rows.append(r)
                break
        else:
            last.append(x)
            rows.append(len(last) - 1)
    return rows


@dataclass(frozen=True)
class Scale:
    """Years to x; the axis may break around a crowded period and widen it so its events stay apart."""

    parts: tuple[tuple[int, int, float, float], ...]  # (first year, end year, x0, x1), left to right

    @property
    def zoom(self) -> tuple[int, int] | None:
        """Return the widened (first year, end year), or None for one even scale."""
        return None if len(self.parts) == 1 else max(self.parts, key=lambda p: (p[3] - p[2]) / (p[1] - p[0]))[:2]

    def x(self, year: float, part: int | None = None) -> float:
        """Return the x of a year, in the given part of the axis or the one holding it."""
        if part is None:
            part = next((i for i, p in enumerate(self.parts) if year < p[1]), len(self.parts) - 1)
        a, b, x0, x1 = self.parts[part]
        return round(x0 + (year - a) * (x1 - x0) / max(b - a, 1), 1)

    @classmethod
    def even(cls, lo: int, hi: int) -> "Scale":
        return cls(((lo, hi, float(_LEFT), float(WIDTH - _RIGHT)),))

    @classmethod
    def fit(cls, lo: int, hi: int, marks: list[float]) -> "Scale":
        """Return an even scale, or one that widens the years where markers would pile up."""
        even = cls.even(lo, hi)
        xs = [even.x(t) for t in marks]
        rows = _rows(xs, _PITCH)
        if max(rows, default=0) < 2:
            return even
        # The crowd: markers stacked below the first row, with the neighbours they collide with.
        crowd = [t for t, x, r in zip(marks, xs, rows) if r > 0 or any(abs(x - x2) < _PITCH for x2 in xs if x2 != x)]
        a, b = int(min(crowd)), int(max(crowd)) + 1
        spans = [(y0, y1) for y0, y1 in ((lo, a), (a, b), (b, hi)) if y1 > y0]
        usable = WIDTH - _LEFT - _RIGHT - _GAP * (len(spans) - 1)
        rest = sum(y1 - y0 for y0, y1 in spans if (y0, y1) != (a, b))
        widths = [usable * 0.5 if (y0, y1) == (a, b) else max(usable * 0.5 * (y1 - y0) / max(rest, 1), usable * 0.12)
                  for y0, y1 in spans]
        widths = [w * usable / sum(widths) for w in widths]
        parts, x0 = [], float(_LEFT)
        for (y0, y1), w in zip(spans, widths):
            parts.append((y0, y1, round(x0, 1), round(x0 + w, 1)))
            x0 += w + _GAP
        return cls(tuple(parts))


def _step(px_per_year: float) -> int:
    # The smallest of 1, 2, 5, 10 years that keeps year labels about 34 px apart.
    return next((s for s in (1, 2, 5, 10) if px_per_year * s >= 34), 20)


def timeline_svg(agreement: str, markers: list[Marker], spans: list[Span], as_of: date) -> Markup:
    """Return the timeline as an SVG element with a title and a description."""
    points = [mk.when for mk in markers] + [s.start for s in spans] + [s.end for s in spans if s.end]
    lo = min(p.year for p in points) if points else as_of.year
    last_point = max(points, key=lambda p: p.start) if points else None
    hi = max([p.year for p in points] + [as_of.year]) + 1
    scale = Scale.fit(lo, hi, [_mid(mk.when) for mk in markers])
    x = scale.x
    out: list[str] = []
    # Version bars, cut at axis breaks; gaps between terms (a lapse) show as white space.
    for s in spans:
        start, end = _edge(s.start), _edge(s.end) if s.end else float(hi)
        fill = _STATUS_FILL.get(s.status, _OTHER_FILL)
        stroke = 'stroke="#1f3a5f" stroke-width="1"' if s.status == "pending" else 'stroke="#ffffff" stroke-width="0.8"'
        for i, (a, b, _, _) in enumerate(scale.parts):
            lo_, hi_ = max(start, a), min(end, b)
            if hi_ > lo_:
                x0, x1 = x(lo_, i), x(hi_, i)
                out.append(f'<rect x="{x0}" y="{_BAND_Y}" width="{max(x1 - x0, 1.5):.1f}" '
                           f'height="{_BAND_H}" fill="{fill}" {stroke}/>')
    # Axis parts, each ticked as finely as its width allows; a break mark between parts.
    for i, (a, b, x0, x1) in enumerate(scale.parts):
        out.append(f'<line x1="{x0}" y1="{_AXIS_Y}" x2="{x1}" y2="{_AXIS_Y}" stroke="#333" stroke-width="1"/>')
        step = _step((x1 - x0) / max(b - a, 1))
        last = i == len(scale.parts) - 1
        for year in range(a + (-a) % step, b + (1 if last else 0), step):
            tx = x(year, i)
            if not last and x1 - tx < 24:
                continue  # the next part's first label sits just across the break
            out.append(f'<line x1="{tx}" y1="{_AXIS_Y - 5}" x2="{tx}" y2="{_AXIS_Y}" stroke="#333"/>')
            out.append(f'<text x="{tx}" y="{_AXIS_Y - 8}" font-size="10" text-anchor="middle" fill="#333">{year}</text>')
        if i:
            bx = x0 - _GAP / 2
            for y in (_AXIS_Y, _BAND_Y + _BAND_H / 2):
                out.append(f'<path d="M{bx - 5} {y + 4} l4 -8 M{bx + 1} {y + 4} l4 -8" stroke="#333" stroke-width="1"/>')
    out.append(f'<text x="{x(lo)}" y="{_BAND_Y - 6}" font-size="10" fill="#333">{lo}</text>')
    if last_point is not None:
        out.append(f'<text x="{x(_edge(last_point))}" y="{_BAND_Y - 6}" font-size="10" text-anchor="end" '
                   f'fill="#333">{escape(str(last_point))}</text>')
    # Numbered event markers, stacked where they would still overlap.
    xs = [x(_mid(mk.when)) for mk in markers]
    rows = _rows(xs, _PITCH)
    for mk, mx, row in zip(markers, xs, rows):
        cy = _ROW_Y + row * _ROW_H
        lapse = mk.kind in ("lapse", "expiry")
        out.append(f'<line x1="{mx}" y1="{_AXIS_Y}" x2="{mx}" y2="{cy - _R}" stroke="#8a96a6" stroke-width="0.8"/>')
        out.append(f'<circle cx="{mx}" cy="{cy}" r="{_R}" fill="{"#ffffff" if lapse else "#1f3a5f"}" '
                   f'stroke="{"#b23b3b" if lapse else "#1f3a5f"}" stroke-width="1.4"/>')
        out.append(f'<text x="{mx}" y="{cy + 3.4}" font-size="9.5" font-weight="600" text-anchor="middle" '
                   f'fill="{"#b23b3b" if lapse else "#ffffff"}">{mk.number}</text>')
    height = _ROW_Y + (max(rows) + 1 if rows else 0) * _ROW_H - 6
    title = f"Timeline of the {agreement}, {lo}–{last_point.year if last_point else hi - 1}"
    desc = describe(spans, markers, scale)
    return Markup(
        f'<svg class="timeline" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg" font-family="{_FONT}">'
        f'<title id="tl-title">{escape(title)}</title><desc id="tl-desc">{escape(desc)}</desc>'
        f'<g font-family="{_FONT}">{"".join(out)}</g></svg>'
    )


def describe(spans: list[Span], markers: list[Marker], scale: Scale | None = None) -> str:
    """Return a plain-language description of what the graphic shows."""
    terms = "; ".join(f"{s.label} ({s.start.year}–{s.end.year if s.end else 'open'}, {s.status})" for s in spans)
    parts = []
    if scale and scale.zoom:
        a, b = scale.zoom
        parts.append(f"The axis is broken and widened for {a}–{b - 1}, where events crowd together.")
    if terms:
        parts.append(f"Bars show each version's term: {terms}.")
    if markers:
        parts.append(f"Numbered markers show {len(markers)} events from {markers[0].when} to {markers[-1].when}, "
                     "listed with the same numbers below.")
    return " ".join(parts) or "No dated versions or events."


def comparison_svg(ident: str, title: str, bars: list[tuple[str, float, str]]) -> Markup:
    """Return a small bar chart of figures that disagree, each bar labelled with its value and source.

    bars are (value as worded, e.g. "nearly 100"; the number; who gives it). The bars
    differ by lightness as well as position, so they stay apart in greyscale print.
    """
    width, left, right, pitch = 360, 86, 132, 22
    top = max((v for _, v, _ in bars), default=0) or 1
    out = []
    for i, (text, value, who) in enumerate(bars):
        y = 4 + i * pitch
        w = max((width - left - right) * value / top, 2)
        fill = ("#1f3a5f", "#8a96a6")[i % 2]
        out.append(f'<text x="{left - 8}" y="{y + 12}" font-size="11" font-weight="600" text-anchor="end" '
                   f'fill="#1f3a5f">{escape(text)}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="13" fill="{fill}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 12}" font-size="10" fill="#333">{escape(who)}</text>')
    height = 8 + len(bars) * pitch
    desc = "Bar chart: " + "; ".join(f"{text} according to {who}" for text, _, who in bars) + "."
    return Markup(
        f'<svg class="figure-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg" font-family="{_FONT}">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
        f'<g font-family="{_FONT}">{"".join(out)}</g></svg>'
    )
