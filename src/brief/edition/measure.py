"""Measure text in the font editions ship (Inter, as "Brief Inter"), so graphics keep labels inside and apart."""
from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from brief.templating import builtin_templates

FONT = "Brief Inter"

# ---- text metrics ------------------------------------------------------------------

_FONT_FILES = {400: "Inter-Regular.otf", 600: "Inter-SemiBold.otf", 700: "Inter-Bold.otf"}
_MISSING_EM = 1.0  # a character the font lacks comes from a fallback font: assume it is wide (CJK)


@lru_cache(maxsize=8)
def _advances(weight: int) -> tuple[dict[int, float], float]:
    """Return each code point's advance in em for the shipped Inter nearest weight, and the em for others."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # WeasyPrint's own dependency

    name = _FONT_FILES[min(_FONT_FILES, key=lambda w: abs(w - weight))]
    try:
        with TTFont(builtin_templates("editions") / "fonts" / name, lazy=True) as font:
            upm = font["head"].unitsPerEm
            hmtx = font["hmtx"]
            return {cp: hmtx[g][0] / upm for cp, g in font.getBestCmap().items()}, _MISSING_EM
    except (OSError, KeyError):  # no font shipped here: a generous average width
        return {}, 0.7


def text_width(text: str, size: float, weight: int = 400) -> float:
    """Return the width in px of text set in the edition's Inter at size px (kerning ignored: a little wider)."""
    adv, missing = _advances(weight)
    return size * sum(0.0 if unicodedata.combining(c) else adv.get(ord(c), missing) for c in text)


def px(v: float) -> str:
    """Format a coordinate: one decimal, never exponent notation, never nan."""
    if not math.isfinite(v):
        raise ValueError(f"coordinate {v!r} is not a finite number")
    return f"{v:.1f}"
