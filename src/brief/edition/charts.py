"""Draw the chart of figures that disagree: one bar per source, each named, as accessible inline SVG."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup, escape

from brief.edition.measure import FONT, px, text_width

# ---- the disagreeing-figures chart --------------------------------------------------


def _exact(value: Any) -> Decimal:
    """Return a bar's number exactly; refuse what is not a finite int, float or Decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"a bar's number must be an int, float or Decimal, not {type(value).__name__}")
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValueError(f"a bar's number must be finite, not {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"a bar's number must be finite, not {value!r}")
    return d


def plain_number(value: int | float | Decimal) -> str:
    """Write a number with thousands separators and no exponent: 10**25 as '10,000,…,000', 0.5 as '0.5'."""
    d = _exact(value) if not isinstance(value, float) else _exact(Decimal(repr(value)))
    d = d.normalize()
    return f"{d:,f}"


def _wrap(text: str, limit: float, size: float, weight: int = 400) -> list[str]:
    """Break text into lines no wider than limit px: at spaces, or inside a word too long for a line."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1] + " " + word, size, weight) <= limit:
            lines[-1] += " " + word
            continue
        while len(word) > 1 and text_width(word, size, weight) > limit:
            cut = max([k for k in range(2, len(word)) if text_width(word[:k], size, weight) <= limit], default=1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def comparison_svg(ident: str, title: str, bars: list[tuple[str, Any, str]], *, width: float = 360) -> Markup:
    """Return a small bar chart of figures that disagree, each bar labelled with its value and source.

    bars are (value as worded, e.g. "nearly 100"; the number, an int, float or Decimal; who
    gives it). Labels are measured with the edition's font: the value column is as wide as its
    longest label, and a source name too long for the room beside its bar wraps onto more
    lines, so no text leaves the drawing. The bars differ by lightness as well as position, so
    they stay apart in greyscale print. A number that is not finite is refused (ValueError).
    """
    nums = [_exact(v) for _, v, _ in bars]
    top = max([n for n in nums if n > 0], default=Decimal(1))
    fracs = [float(n / top) if n > 0 else 0.0 for n in nums]  # exact division first: no float overflow
    pad, gap, line, bar_min, who_min = 2.0, 6.0, 12.0, 110.0, 80.0
    value_w = max((text_width(t, 11, 600) for t, _, _ in bars), default=0.0)
    left = pad + value_w + 8
    width = max(float(width), left + bar_min + gap + who_min + pad)
    room = width - pad - left  # for a bar and the source beside it
    who_w = [text_width(who, 10) for _, _, who in bars]
    # The longest bar that leaves every source its one line, but never shorter than bar_min.
    length = min([room - gap - w if f == 0 else (room - gap - w) / f
                  for f, w in zip(fracs, who_w, strict=True)] + [room - gap])
    length = max(length, bar_min)
    out, y = [], 4.0
    for i, ((text, _, who), f) in enumerate(zip(bars, fracs, strict=True)):
        w = max(length * f, 2.0)
        lines = _wrap(who, room - w - gap, 10)
        fill = ("#1f3a5f", "#8a96a6")[i % 2]
        out.append(f'<text x="{px(left - 8)}" y="{px(y + 12)}" font-size="11" font-weight="600" '
                   f'text-anchor="end" fill="#1f3a5f">{escape(text)}</text>')
        out.append(f'<rect x="{px(left)}" y="{px(y + 2)}" width="{px(w)}" height="13" fill="{fill}"/>')
        tx = px(left + w + gap)
        spans_ = "".join(f'<tspan x="{tx}" dy="{0 if k == 0 else line:g}">{escape(s)}</tspan>'
                         for k, s in enumerate(lines))
        out.append(f'<text x="{tx}" y="{px(y + 12)}" font-size="10" fill="#333">{spans_}</text>')
        y += max(22.0, 22.0 + line * (len(lines) - 1))
    height = math.ceil(y + 4)
    desc = "Bar chart: " + "; ".join(f"{text} according to {who}" for text, _, who in bars) + "."
    return Markup(
        f'<svg class="figure-chart" role="img" viewBox="0 0 {px(width)} {height}" width="100%" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
        f'<g font-family="{FONT}">{"".join(out)}</g></svg>'
    )
