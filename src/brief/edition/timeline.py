"""Draw the timeline as an accessible inline SVG: version terms as bars, events as numbered markers.

Labels are measured (brief.edition.measure) so they stay inside the drawing and apart.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from markupsafe import Markup, escape

from brief.content import model as m
from brief.edition.measure import FONT, px, text_width

WIDTH = 680
_LEFT, _RIGHT = 24, 24
_BAND_Y, _BAND_H = 26, 16  # version bars
_AXIS_Y = 58
_ROW_Y, _ROW_H, _R = 80, 21, 8.5  # event markers: first row, row pitch, radius
_PITCH = 2 * _R + 2  # closest two markers may sit in one row
_GAP = 14.0  # px between the parts of a broken axis
_LABEL_PAD = 4.0  # least room between two axis labels
_TAIL_MIN, _TAIL_SHARE = 3, 0.25  # an empty tail this long, and this share of the axis, is left out
_CROWD_SHARE = 0.7  # widened parts take at most this share of the width when other years are drawn too
_STUB = 30.0  # px: an empty end of the axis squeezed narrower than this is not drawn
_ONE_ROW_SHARE = 0.5  # widened parts may take this share of the width to hold their markers in one row
_MAX_BREAKS = 6  # at most so many breaks in one axis
_CLOSE, _FINEST = 1 / 24, 1 / 12  # years: events closer are not pulled apart; the finest gap widened for
_CROWD_SLACK = 1.2  # widen a crowded part a little past the least that keeps its markers in two rows
# Greyscale-safe: terms differ by lightness, not hue alone.
_SHADE_FILL = {"dark": "#1f3a5f", "outlined": "#ffffff", "red": "#b23b3b", "grey": "#a9b4c2"}
_ROLE_SHADE = {"current": "dark", "pending": "outlined"}  # the vocabulary's status roles; ended ones are grey
_STATUS_SHADE = {"in force": "dark", "pending": "outlined", "lapsed": "red"}  # when a caller gives no role
HOLLOW_KINDS: frozenset[str] = frozenset({"lapse", "expiry"})  # event kinds drawn as hollow markers by default

# ---- data ----------------------------------------------------------------------------


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
    status: str  # the pack's own word, as the legend and description name it
    role: str | None = None  # what the status means (the vocabulary's current, pending, ended): the shade

    @property
    def shade(self) -> str:
        if self.role is not None:
            return _ROLE_SHADE.get(self.role, "grey")
        return _STATUS_SHADE.get(self.status, "grey")


class Timeline(Markup):
    """The timeline: its SVG, as Markup (so it renders and compares as the SVG did), with the legend.

    `legend` is plain text for the figcaption, naming only what the SVG draws ('' when it
    draws nothing); `hollow` is the set of event kinds drawn as hollow markers. Both are
    read-only. What Markup's own methods return (concatenation, format...) is plain text again.
    """

    legend: str
    hollow: frozenset[str]

    def __new__(cls, svg: object = "", legend: str = "", hollow: Iterable[str] = HOLLOW_KINDS) -> Timeline:
        self = super().__new__(cls, svg)
        object.__setattr__(self, "legend", legend)
        object.__setattr__(self, "hollow", frozenset(hollow))
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Timeline is read-only ({name})")

    @property
    def svg(self) -> Markup:
        return Markup(str(self))


def _mid(d: m.PartialDate) -> float:
    # Place an event in the middle of what its date can mean, so "1979" sits mid-year.
    if d.precision == "year":
        return d.year + 0.5
    if d.precision == "month":
        return d.year + ((d.month or 1) - 0.5) / 12
    return _edge(d)


def _edge(d: m.PartialDate) -> float:
    # A term starts and ends on the first day its date can mean.
    return d.year + (d.start.timetuple().tm_yday - 1) / 366


# ---- choosing events -----------------------------------------------------------------

T = TypeVar("T")


def _when(k: Any) -> float:
    """Return a sortable, measurable time for a key: a PartialDate, a date or a number."""
    if isinstance(k, m.PartialDate):
        return _edge(k)
    if isinstance(k, datetime):
        k = k.date()
    if isinstance(k, date):
        return k.year + (k.timetuple().tm_yday - 1) / 366
    if isinstance(k, (int, float, Decimal)) and not isinstance(k, bool):
        return float(k)
    raise TypeError(f"spread() needs a date, a PartialDate or a number as key, not {type(k).__name__}")


def spread(items: Iterable[T], n: int, key: Callable[[T], Any]) -> list[T]:
    """Return n of items spread over their whole time range, in date order.

    Always the first and the latest; then, one at a time, the item farthest in time from
    those already chosen (the later one on a tie). key gives an item's date (a PartialDate,
    a date or a number). n of 1 keeps the latest alone; n of 0 or less keeps none.
    """
    timed = sorted(((_when(key(x)), i, x) for i, x in enumerate(items)), key=lambda t: (t[0], t[1]))
    if n <= 0:
        return []
    if n >= len(timed):
        return [x for _, _, x in timed]
    if n == 1:
        return [timed[-1][2]]
    ts = [t for t, _, _ in timed]
    chosen = {0, len(ts) - 1}
    near = [min(t - ts[0], ts[-1] - t) for t in ts]  # distance to the nearest chosen item
    while len(chosen) < n:
        best = max((i for i in range(len(ts)) if i not in chosen), key=lambda i: (near[i], i))
        chosen.add(best)
        near = [min(d, abs(t - ts[best])) for d, t in zip(near, ts, strict=True)]
    return [timed[i][2] for i in sorted(chosen)]


# ---- the axis ------------------------------------------------------------------------


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


def _need(ts: list[float], rows: int = 2) -> float:
    """Return the px per year that keeps markers at times ts (sorted) in so many rows (those on one date stack)."""
    p = 0.0
    for t0, t2 in zip(ts, ts[rows:], strict=False):
        if t2 - t0 >= _CLOSE:  # closer than that they stack: widening cannot part them at any sane scale
            p = max(p, _PITCH / max(t2 - t0, _FINEST))
    return p


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True)
class Scale:
    """Years to x. The axis may break: to widen crowded periods so their events stay apart, and to
    leave out a long empty stretch before the first or after the last thing drawn."""

    parts: tuple[tuple[int, int, float, float], ...]  # (first year, end year, x0, x1), left to right
    kinds: tuple[str, ...] = ()  # per part: "even" or "widened"; () to judge by the scale alone

    @property
    def widened(self) -> tuple[tuple[int, int], ...]:
        """Return every widened (first year, end year), left to right."""
        if self.kinds:
            return tuple(p[:2] for p, k in zip(self.parts, self.kinds, strict=True) if k == "widened")
        rates = [(p[3] - p[2]) / max(p[1] - p[0], 1) for p in self.parts]
        return tuple(p[:2] for p, r in zip(self.parts, rates, strict=True)
                     if len(self.parts) > 1 and r > 1.2 * min(rates))

    @property
    def skipped(self) -> tuple[tuple[int, int], ...]:
        """Return every (first year, end year) the axis leaves out, left to right."""
        return tuple((p[1], q[0]) for p, q in zip(self.parts, self.parts[1:], strict=False) if q[0] > p[1])

    @property
    def zoom(self) -> tuple[int, int] | None:
        """Return the most widened (first year, end year), or None when nothing is widened."""
        rate = {p[:2]: (p[3] - p[2]) / max(p[1] - p[0], 1) for p in self.parts}
        return max(self.widened, key=lambda w: rate[w], default=None)

    def x(self, year: float, part: int | None = None) -> float:
        """Return the x of a year, in the given part of the axis or the one holding it (a left-out year: the break)."""
        if part is None:
            part = next((i for i, p in enumerate(self.parts) if year < p[1]), len(self.parts) - 1)
            if part and year < self.parts[part][0]:
                return round((self.parts[part - 1][3] + self.parts[part][2]) / 2, 1)
        a, b, x0, x1 = self.parts[part]
        return round(x0 + (year - a) * (x1 - x0) / max(b - a, 1), 1)

    @classmethod
    def even(cls, lo: int, hi: int, width: float = WIDTH) -> Scale:
        return cls(((lo, hi, float(_LEFT), float(width - _RIGHT)),), ("even",))

    @classmethod
    def fit(cls, lo: int, hi: int, marks: list[float], edges: Iterable[float] = (), *,
            width: float = WIDTH) -> Scale:
        """Return a scale for years lo..hi (end exclusive) that keeps the markers at times marks apart.

        edges are other times something is drawn (a term's start or end). A long stretch with
        neither before the first or after the last is left out (the first and last years stay,
        so the axis still reaches them). Then, worst first, each period where markers would
        stack three deep is widened: enough for one row if that takes at most half the width,
        else for two, all widened periods together taking at most 70% of it. Only years with
        markers in them are widened; the rest share one even scale.
        """
        marks = sorted(marks)
        busy = sorted({math.floor(t) for t in [*marks, *edges] if lo <= t < hi})
        segments = [(lo, hi)]
        if busy:
            cut = []
            if busy[0] - (lo + 1) >= _TAIL_MIN and busy[0] - (lo + 1) >= _TAIL_SHARE * (hi - lo):
                cut.append((lo + 1, busy[0]))
            if (hi - 1) - (busy[-1] + 1) >= _TAIL_MIN and (hi - 1) - (busy[-1] + 1) >= _TAIL_SHARE * (hi - lo):
                cut.append((busy[-1] + 1, hi - 1))
            segments = _complement(lo, hi, cut)
        marked = {math.floor(t) for t in marks}
        crowded: list[tuple[int, int]] = []
        scale = cls._lay(segments, crowded, marks, width)
        best = (_stacking(scale, marks), scale, crowded)
        for _ in range(12):  # widen the worst crowd, then look again: widening one narrows the others
            worst = _crowd(scale, marks, [p[:2] for p, k in zip(scale.parts, scale.kinds, strict=True)
                                          if k == "widened"])
            if worst is None or all(any(a <= y < b for a, b in crowded) for y in range(*worst) if y in marked):
                break
            # Only years with events in them are widened: a quiet year inside a crowd stays plain.
            crowded = _merge([*crowded, *((y, y + 1) for y in range(*worst) if y in marked)])
            scale = cls._lay(segments, crowded, marks, width)
            if _stacking(scale, marks) < best[0]:  # keep the widening that stacks markers least
                best = (_stacking(scale, marks), scale, crowded)
        _, scale, crowded = best
        # An end of the axis squeezed to a stub with nothing in it is dropped rather than drawn past a break.
        ends = [p for p in (scale.parts[0], scale.parts[-1]) if len(scale.parts) > 1
                and p[3] - p[2] < _STUB and not set(busy).intersection(range(p[0], p[1]))]
        if ends:
            for c0, c1, _, _ in ends:
                segments = [q for a, b in segments for q in ((a, min(b, c0)), (max(a, c1), b)) if q[1] > q[0]]
            scale = cls._lay(segments, crowded, marks, width)
        return scale

    @classmethod
    def _lay(cls, segments: list[tuple[int, int]], crowded: list[tuple[int, int]], marks: list[float],
             width: float) -> Scale:
        """Lay segments out across the width, widening the crowded ranges that need it."""
        wide = [(a, b) for s0, s1 in segments for c0, c1 in crowded
                for a, b in [(max(s0, c0), min(s1, c1))] if b > a]
        while True:
            parts = _split(segments, wide)  # (a, b, widened?)
            if len(parts) - 1 > _MAX_BREAKS:  # too many breaks to read: widen only the biggest crowds
                wide.remove(min(wide, key=lambda k: sum(k[0] <= t < k[1] for t in marks)))
                continue
            usable = width - _LEFT - _RIGHT - _GAP * (len(parts) - 1)
            plain_years = sum(b - a for a, b, w in parts if not w)
            # One row where the room allows it, else two.
            for rows in (1, 2):
                need = {(a, b): _CROWD_SLACK * (b - a) * _need([t for t in marks if a <= t < b], rows)
                        for a, b, w in parts if w}
                if sum(need.values()) <= _ONE_ROW_SHARE * usable and plain_years:
                    break
            total = sum(need.values())
            if plain_years:
                cap = _CROWD_SHARE * usable
                if total > cap:
                    need = {k: v * cap / total for k, v in need.items()}
                rate = (usable - sum(need.values())) / plain_years
                # A part that needs less than the even rate is not crowded after all.
                slack = [k for k, v in need.items() if v <= rate * (k[1] - k[0])]
                if slack:
                    wide = [k for k in wide if k not in slack]
                    continue
            else:
                need = {k: v * usable / total for k, v in need.items()} if total else need
                rate = usable / max(sum(b - a for a, b, _ in parts), 1)
            out, kinds, x0 = [], [], float(_LEFT)
            for i, (a, b, w) in enumerate(parts):
                if i:
                    x0 += _GAP
                x1 = x0 + (need[(a, b)] if w and total else rate * (b - a))
                out.append((a, b, round(x0, 1), round(x1, 1)))
                kinds.append("widened" if w else "even")
                x0 = x1
            return cls(tuple(out), tuple(kinds))


def _complement(lo: int, hi: int, cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, start = [], lo
    for a, b in sorted(cut):
        if a > start:
            out.append((start, a))
        start = b
    if hi > start:
        out.append((start, hi))
    return out


def _split(segments: list[tuple[int, int]], wide: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """Cut segments at the widened ranges: (first year, end year, widened?), plain runs kept whole."""
    out: list[tuple[int, int, bool]] = []
    for s0, s1 in segments:
        at = s0
        for a, b in sorted(w for w in wide if s0 <= w[0] and w[1] <= s1):
            if a > at:
                out.append((at, a, False))
            out.append((a, b, True))
            at = b
        if s1 > at:
            out.append((at, s1, False))
    return out


def _crowd(scale: Scale, marks: list[float], widened: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Return the years of the worst crowd outside widened on this scale, or None.

    Three markers (sorted) stack three deep exactly where the first and the third are less
    than a marker's pitch apart; the worst are the three closest in time. Three so close in
    time that no widening would part them are left to stack.
    """
    xs = [scale.x(t) for t in marks]
    worst = min(((marks[i + 2] - marks[i], i) for i in range(len(xs) - 2)
                 if xs[i + 2] - xs[i] < _PITCH and marks[i + 2] - marks[i] >= _CLOSE
                 and not any(a <= marks[i] and marks[i + 2] < b for a, b in widened)), default=None)
    if worst is None:
        return None
    i = worst[1]
    return math.floor(marks[i]), math.floor(marks[i + 2]) + 1


def _stacking(scale: Scale, marks: list[float]) -> tuple[int, int]:
    """Return how deep markers (sorted) stack on a scale: the deepest row, then all rows added up."""
    rows = _rows([scale.x(t) for t in marks], _PITCH)
    return max(rows, default=0), sum(rows)


def _step(px_per_year: float) -> int:
    # The smallest round number of years that keeps year labels about 34 px apart.
    return next((s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000) if px_per_year * s >= 34), 2000)


def _years(a: int, b: int) -> str:
    """Word the years a..b (end exclusive): '2023' or '2023–2024'."""
    return str(a) if b - a == 1 else f"{a}–{b - 1}"


def _and(items: list[str], word: str = "and") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


class _Labels:
    """Place text labels on one line, each inside 0..width and clear of those placed before it."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.taken: list[tuple[float, float]] = []

    def place(self, left: float, w: float) -> float | None:
        """Return the left edge to use (shifted inside the width), or None when it would overlap."""
        left = min(max(left, 1.0), self.width - 1.0 - w)
        if left < 1.0 or any(left < r + _LABEL_PAD and left + w + _LABEL_PAD > lft for lft, r in self.taken):
            return None
        self.taken.append((left, left + w))
        return left


# ---- the timeline --------------------------------------------------------------------


def timeline_svg(agreement: str, markers: list[Marker], spans: list[Span], as_of: date, *,
                 hollow: Iterable[str] = HOLLOW_KINDS, ident: str = "tl") -> Timeline:
    """Return the timeline (an SVG with a title and a description) and the legend for what it draws.

    Markers whose kind is in hollow (default: lapse, expiry) are drawn hollow. The result
    renders as the SVG; its .legend is the figcaption text.
    """
    hollow = frozenset(hollow)
    points = [mk.when for mk in markers] + [s.start for s in spans] + [s.end for s in spans if s.end]
    lo = min(p.year for p in points) if points else as_of.year
    last_point = max(points, key=lambda p: p.start) if points else None
    hi = max([p.year for p in points] + [as_of.year]) + 1
    today = m.PartialDate(as_of.year, as_of.month, as_of.day)
    # A term still running ends "today" only for drawing: that end is not an event of its own.
    edges = [_edge(s.start) for s in spans] + [_edge(s.end) for s in spans if s.end and s.end != today]
    scale = Scale.fit(lo, hi, [_mid(mk.when) for mk in markers], edges)
    x = scale.x
    out: list[str] = []
    # Version bars, cut at axis breaks; gaps between terms (a lapse) show as white space.
    drawn: list[Span] = []  # the bars drawn
    for s in spans:
        start, end = _edge(s.start), _edge(s.end) if s.end else float(hi)
        fill = _SHADE_FILL[s.shade]
        stroke = 'stroke="#1f3a5f" stroke-width="1"' if s.shade == "outlined" else 'stroke="#ffffff" stroke-width="0.8"'
        for i, (a, b, _, _) in enumerate(scale.parts):
            lo_, hi_ = max(start, a), min(end, b)
            if hi_ > lo_ or (hi_ == lo_ and a <= start < b):
                x0, x1 = x(lo_, i), x(hi_, i)
                out.append(f'<rect x="{px(x0)}" y="{_BAND_Y}" width="{px(max(x1 - x0, 1.5))}" '
                           f'height="{_BAND_H}" fill="{fill}" {stroke}/>')
                drawn.append(s)
    gap_between_terms = any(_edge(b.start) - _edge(a.end) > 1 / 366 and x(_edge(b.start)) - x(_edge(a.end)) >= 1.5
                            for a, b in zip(spans, spans[1:], strict=False) if a.end)
    # Axis parts, each ticked as finely as its width allows; a break mark between parts.
    # Labels sit on one line: the year each part after a break starts with first, then the round years.
    labels = _Labels(WIDTH)
    ticks: list[tuple[float, int, bool]] = []  # (x, year, first of a part after a break)
    for i, (a, b, x0, x1) in enumerate(scale.parts):
        out.append(f'<line x1="{px(x0)}" y1="{_AXIS_Y}" x2="{px(x1)}" y2="{_AXIS_Y}" '
                   'stroke="#333" stroke-width="1"/>')
        step = _step((x1 - x0) / max(b - a, 1))
        last = i == len(scale.parts) - 1
        years = set(range(a + (-a) % step, b + (1 if last else 0), step)) | ({a} if i else set())
        ticks += [(x(year, i), year, bool(i) and year == a) for year in sorted(years)]
        if i:
            bx = (scale.parts[i - 1][3] + x0) / 2
            for y in (_AXIS_Y, _BAND_Y + _BAND_H / 2):
                out.append(f'<path d="M{px(bx - 5)} {px(y + 4)} l4 -8 M{px(bx + 1)} {px(y + 4)} l4 -8" '
                           'stroke="#333" stroke-width="1"/>')
    for tx, year, _ in sorted(ticks, key=lambda t: not t[2]):
        out.append(f'<line x1="{px(tx)}" y1="{_AXIS_Y - 5}" x2="{px(tx)}" y2="{_AXIS_Y}" stroke="#333"/>')
        w = text_width(str(year), 10)
        left = labels.place(tx - w / 2, w)
        if left is not None:
            out.append(f'<text x="{px(left + w / 2)}" y="{_AXIS_Y - 8}" font-size="10" text-anchor="middle" '
                       f'fill="#333">{year}</text>')
    # The first year and the last date, above the bars.
    top = _Labels(WIDTH)
    w = text_width(str(lo), 10)
    left = top.place(x(lo), w)
    if left is not None:
        out.append(f'<text x="{px(left)}" y="{_BAND_Y - 6}" font-size="10" fill="#333">{lo}</text>')
    if last_point is not None:
        end_text = str(last_point)
        w = text_width(end_text, 10)
        right = x(_edge(last_point))
        left = top.place(right - w, w)
        if left is None and top.taken:  # clear of the first year's label if the width allows
            left = top.place(top.taken[0][1] + _LABEL_PAD + 0.5, w)
        if left is not None:
            out.append(f'<text x="{px(left + w)}" y="{_BAND_Y - 6}" font-size="10" text-anchor="end" '
                       f'fill="#333">{escape(end_text)}</text>')
    # Numbered event markers, stacked where they would still overlap.
    xs = [x(_mid(mk.when)) for mk in markers]
    order = sorted(range(len(markers)), key=lambda i: xs[i])
    rows = [0] * len(markers)
    for i, r in zip(order, _rows([xs[i] for i in order], _PITCH), strict=True):
        rows[i] = r
    for mk, mx, row in zip(markers, xs, rows, strict=True):
        cy = _ROW_Y + row * _ROW_H
        lapse = mk.kind in hollow
        num = str(mk.number)
        size = min(9.5, 9.5 * (2 * _R - 3) / max(text_width(num, 9.5, 600), 1))
        out.append(f'<line x1="{px(mx)}" y1="{_AXIS_Y}" x2="{px(mx)}" y2="{px(cy - _R)}" '
                   'stroke="#8a96a6" stroke-width="0.8"/>')
        out.append(f'<circle cx="{px(mx)}" cy="{px(cy)}" r="{_R}" fill="{"#ffffff" if lapse else "#1f3a5f"}" '
                   f'stroke="{"#b23b3b" if lapse else "#1f3a5f"}" stroke-width="1.4"/>')
        out.append(f'<text x="{px(mx)}" y="{px(cy + size * 0.36)}" font-size="{px(size)}" font-weight="600" '
                   f'text-anchor="middle" fill="{"#b23b3b" if lapse else "#ffffff"}">{num}</text>')
    height = _ROW_Y + (max(rows) + 1 if rows else 0) * _ROW_H - 6
    title = f"Timeline of the {agreement}, {lo}–{last_point.year if last_point else hi - 1}"
    desc = describe(spans, markers, scale)
    svg = Markup(
        f'<svg class="timeline" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
        f'<g font-family="{FONT}">{"".join(out)}</g></svg>'
    )
    shown_hollow = sorted({mk.kind for mk in markers if mk.kind in hollow})
    return Timeline(svg, _legend(drawn, gap_between_terms, bool(markers), shown_hollow, scale), hollow)


def _legend(drawn: list[Span], gaps: bool, markers: bool, hollow: list[str], scale: Scale) -> str:
    """Return the figcaption: one sentence for each kind of thing drawn, and nothing for what is not."""
    out = []
    if drawn:
        shades: dict[str, list[str]] = {}
        for span in drawn:
            if span.status not in shades.setdefault(span.shade, []):
                shades[span.shade].append(span.status)
        keys = [k for k in ("dark", "grey", "outlined", "red") if k in shades]
        named = "; ".join(f"{k}: {_and(shades[k], 'or')}" for k in keys)
        out.append(f"Bars: each version's term ({named}{'; a gap: no version in force' if gaps else ''}).")
    if markers:
        out.append("Numbered markers: the events below" + (f"; hollow markers: {_and(hollow, 'or')}." if hollow
                                                           else "."))
    breaks = []
    if scale.widened:
        breaks.append(f"widened for {_and([_years(a, b) for a, b in scale.widened])}, where events crowd together")
    if scale.skipped:
        breaks.append(f"leaves out {_and([_years(a, b) for a, b in scale.skipped])}, with nothing to show")
    if breaks:
        out.append(f"The axis is broken (//): {'; it '.join(breaks)}.")
    return " ".join(out)


def describe(spans: list[Span], markers: list[Marker], scale: Scale | None = None) -> str:
    """Return a plain-language description of what the graphic shows."""
    terms = "; ".join(f"{s.label} ({s.start.year}–{s.end.year if s.end else 'open'}, {s.status})" for s in spans)
    parts = []
    if scale and scale.widened:
        spans_ = _and([f"{a}–{b - 1}" for a, b in scale.widened])
        parts.append(f"The axis is broken and widened for {spans_}, where events crowd together.")
    if scale and scale.skipped:
        gone = _and([f"{a}–{b - 1}" for a, b in scale.skipped])
        parts.append(f"The axis leaves out {gone}, where there is nothing to show.")
    if terms:
        parts.append(f"Bars show each version's term: {terms}.")
    if len(markers) == 1:
        parts.append(f"A numbered marker shows one event, {markers[0].when}, listed with the same number below.")
    elif markers:
        parts.append(f"Numbered markers show {len(markers)} events from {markers[0].when} to {markers[-1].when}, "
                     "listed with the same numbers below.")
    return " ".join(parts) or "No dated versions or events."


