"""Draw an edition's SVG graphics as PNG images, with the edition's own fonts only.

Word cannot be relied on to show SVG, so the timeline and charts go into a .docx as PNG.
resvg draws them from a wheel (no system library) and is given exactly the font files the
edition's stylesheets declare in @font-face, never the system's: the same PNG on every machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from brief.errors import BuildError

ZOOM = 3  # pixels per SVG unit: a full-width graphic prints at about 300 dpi
_FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}", re.I)
_FAMILY = re.compile(r"""font-family\s*:\s*(["']?)([^;"'}]+)\1""", re.I)
_SRC = re.compile(r"""url\(\s*(["']?)([^)"']+)\1\s*\)""", re.I)
_FONT_FILES = (".otf", ".ttf", ".ttc")
# font-family as an attribute or a CSS declaration, anywhere in the SVG.
_SVG_FAMILY = re.compile(r"""(font-family\s*=\s*)(["'])(.*?)\2|(font-family\s*:\s*)([^;"'}>]+)""", re.I | re.S)
_GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy"}


@dataclass(frozen=True)
class Fonts:
    """The font files an edition declares, and the name each @font-face family has inside its files."""

    files: tuple[str, ...]
    names: dict[str, str]  # declared family (lower case) -> the family name resvg knows the file by

    @property
    def default(self) -> str | None:
        return next(iter(self.names.values()), None)


def edition_fonts(assets: dict[str, Path]) -> Fonts:
    """Collect the @font-face fonts of an edition's stylesheets (assets: link path -> file)."""
    files: set[str] = set()
    names: dict[str, str] = {}
    for rel, path in sorted(assets.items()):
        if not rel.endswith(".css"):
            continue
        for rule in _FONT_FACE.findall(path.read_text(encoding="utf-8", errors="replace")):
            family, src = _FAMILY.search(rule), _SRC.search(rule)
            if not (family and src):
                continue
            target = _relative(PurePosixPath(rel).parent, src.group(2))
            font = assets.get(target) if target else None  # only the edition's own files, never a path outside
            if font is None or font.suffix.lower() not in _FONT_FILES:
                continue
            files.add(str(font))
            names.setdefault(family.group(2).strip().lower(), _family_name(str(font)))
    return Fonts(tuple(sorted(files)), names)


def _relative(folder: PurePosixPath, url: str) -> str | None:
    """Resolve a stylesheet's relative url() against its folder; None for anything else."""
    if ":" in url or url.startswith("/"):
        return None
    parts: list[str] = []
    for part in (folder / url).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


@lru_cache(maxsize=64)
def _family_name(path: str) -> str:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(path, lazy=True, fontNumber=0) as font:
        return str(font["name"].getBestFamilyName())


def svg_to_png(svg: str, fonts: Fonts, what: str) -> bytes:
    """Draw an SVG as PNG with the edition's fonts; raise BuildError naming `what` if it cannot be drawn."""
    import resvg_py

    if "<text" in svg and not fonts.files:
        raise BuildError(f"{what}: its text needs a font, and the edition's stylesheets declare none with "
                         "@font-face; add one so the Word edition can draw it")
    try:
        return bytes(resvg_py.svg_to_bytes(
            svg_string=_with_fonts(svg, fonts), skip_system_fonts=True, font_files=list(fonts.files),
            zoom=ZOOM, font_family=fonts.default, sans_serif_family=fonts.default, serif_family=fonts.default))
    except (ValueError, OSError) as e:
        raise BuildError(f"{what}: cannot draw it as an image for Word ({e}); check the SVG") from None


def _with_fonts(svg: str, fonts: Fonts) -> str:
    """Name each declared family as its font file does, with a generic fallback so no text is lost."""
    if 'xmlns="http://www.w3.org/2000/svg"' not in svg:  # HTML allows an inline <svg> without it; XML does not
        svg = re.sub(r"<svg\b", '<svg xmlns="http://www.w3.org/2000/svg"', svg, count=1)

    def families(value: str) -> str:
        names = [n.strip().strip("\"'") for n in value.split(",") if n.strip()]
        out = [fonts.names.get(n.lower(), n) for n in names]
        if not _GENERIC & {n.lower() for n in out}:
            out.append("sans-serif")
        return ", ".join(n if n.lower() in _GENERIC else f"'{n}'" for n in out)

    def replace(m: re.Match[str]) -> str:
        if m.group(1):
            quote = m.group(2)
            return f"{m.group(1)}{quote}{families(m.group(3)).replace(quote, '')}{quote}"
        return f"{m.group(4)}{families(m.group(5))}"

    return _SVG_FAMILY.sub(replace, svg)
