"""Render a Comparison as terminal text, Markdown or a standalone HTML page."""
from __future__ import annotations

import re
import textwrap
from typing import Any

import click

from brief import JSON_FORMAT_VERSION
from brief.compare.engine import PAST, Comparison, Row, Segment
from brief.content.model import Citation, Source, Version
from brief.templating import builtin_templates, strict_environment

FORMAT_VERSION = JSON_FORMAT_VERSION  # one number for every JSON output (brief/__init__.py)
NOT_STATED = "not stated in sources"
_MARK = {"added": "+", "removed": "-", "changed": "~", "unchanged": "=", "first described": "*",
         "not described": "?", "restated": ":"}
_MARK_COLOUR = {"added": "green", "removed": "red", "changed": "yellow", "unchanged": None,
                "first described": "cyan", "not described": None, "restated": None}
_EDGE = re.compile(r"^(\s*)(.*?)(\s*)$", re.S)


# ---- shared helpers ------------------------------------------------------------

def runs(segments: tuple[Segment, ...], side: str = "both") -> list[tuple[str, str]]:
    """Return (op, text) runs for one side ("from", "to") or both, with edge spaces moved out of edits."""
    keep = {"from": ("equal", "delete"), "to": ("equal", "insert"), "both": ("equal", "delete", "insert")}[side]
    out: list[tuple[str, str]] = []
    for seg in segments:
        if seg.op not in keep:
            continue
        if seg.op == "equal":
            out.append(("equal", seg.text))
            continue
        # "~~ and irrigation~~" is not Markdown and "[- and-]" reads badly: keep the spaces outside.
        edge = _EDGE.match(seg.text)
        assert edge is not None  # the pattern matches any text
        lead, core, trail = edge.groups()
        out += [("equal", lead)] if lead else []
        out += [(seg.op, core)] if core else []
        out += [("equal", trail)] if trail else []
    return out


def change_label(row: Row) -> str:
    """Return the row's change as a reader says it: 'Narrowed', 'First described', 'With no change stated'."""
    text = row.label[:1].upper() + row.label[1:]
    if row.steps:
        text += " (" + "; ".join(f"{PAST.get(e, e)} from {a} to {b}" for a, b, e in row.steps) + ")"
    return text


def side_runs(row: Row, side: str) -> list[tuple[str, str]] | None:
    """Return one side's text as runs: a redline only between two quoted texts, else the words as written."""
    text = row.from_text if side == "from" else row.to_text
    if text is None:
        return None
    return runs(row.redline, side) if row.redline else [("equal", text)]


def was(row: Row) -> str:
    return f" (was {row.from_key})" if row.renamed and row.from_key else ""


def cite(c: Citation) -> str:
    return f"[{c.source}{', ' + c.locator if c.locator else ''}]"


def source_sides(row: Row, c: Comparison) -> list[tuple[str | None, list[str]]]:
    """Return a row's citations by side: [(version label or None, ["[id, locator]", ...])]."""
    if row.from_sources and row.to_sources and row.from_sources != row.to_sources:
        return [(c.from_version.label, [cite(x) for x in row.from_sources]),
                (c.to_version.label, [cite(x) for x in row.to_sources])]
    return [(None, [cite(x) for x in row.to_sources or row.from_sources])]


def sources_text(row: Row, c: Comparison) -> str:
    """Return a row's sources, saying which version each side's citations support."""
    return "; ".join(" ".join(filter(None, (side, " ".join(cs)))) for side, cs in source_sides(row, c))


def version_line(v: Version, c: Comparison | None = None) -> str:
    """Return '2015 compact: original, signed 1 June 2015, superseded'."""
    kind: str = v.kind
    if v.inherits:
        parent = next((x.label for x in (c.all_versions if c else ()) if x.id == v.inherits), v.inherits)
        kind += f" (carries the provisions of {parent})"
    dates = [f"{what} {d}" for what, d in v.milestones()]
    return f"{v.label}: {', '.join([kind, *dates, v.status])}"


def source_line(s: Source) -> str:
    """Return a source as a short reference: title, who, when, where."""
    who = ", ".join(x for x in (s.author, s.publisher) if x)
    when = str(s.date) if s.date else "Undated"
    return ". ".join(x for x in (s.title or s.description, who, when, s.url) if x) + "."


def cited(c: Comparison, sources: dict[str, Source]) -> list[Source]:
    """Return the sources the comparison's rows cite, in first-cited order."""
    ids = dict.fromkeys(x.source for r in c.rows for x in (*r.from_sources, *r.to_sources))
    return [sources[i] for i in ids if i in sources]


def not_stated_notes(c: Comparison) -> list[str]:
    """Return a sentence per version naming the areas its sources do not describe."""
    sides = [(c.from_version, c.from_not_stated)]
    if not c.same_version:
        sides.append((c.to_version, c.to_not_stated))
    return [f"{v.label}: {NOT_STATED} for {', '.join(gaps)}." for v, gaps in sides if gaps]


# ---- text ----------------------------------------------------------------------

def render_text(c: Comparison, sources: dict[str, Source], color: bool, width: int = 88) -> str:
    """Return the comparison for a terminal: marks, inline redlines, sources."""
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    def fill(text: str, first: str, rest: str) -> list[str]:
        return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                             break_long_words=False, break_on_hyphens=False)

    lines = [style(c.agreement, bold=True), f"{c.from_version.label} → {c.to_version.label}",
             *fill(version_line(c.from_version, c), "  from  ", " " * 8),
             *fill(version_line(c.to_version, c), "  to    ", " " * 8),
             *fill(c.summary(), "", "  ")]
    for area, rows in c.by_area():
        lines += ["", style(area.capitalize(), bold=True)]
        for r in rows:
            mark = style(_MARK[r.change], fg=_MARK_COLOUR[r.change], bold=True)
            label = change_label(r)
            head = f"  {mark} {r.key}{was(r)}: {label[:1].lower()}{label[1:]}"
            if r.change == "unchanged":
                lines += fill(sources_text(r, c), f"{head}  ", " " * 6)
                continue
            lines += fill(head, "", " " * 6)
            if r.redline:
                lines += _wrap(runs(r.redline), " " * 6, width, color)
            else:  # two descriptions, not two texts: each as written, never struck through
                for label, text in ((c.from_version.label, r.from_text), (c.to_version.label, r.to_text)):
                    if text is not None:
                        lines += fill(f"{label}: {text}", " " * 6, " " * 8)
            if not r.from_stated:
                lines.append(f"      {c.from_version.label}: {NOT_STATED}")
            if not r.to_stated:
                lines.append(f"      {c.to_version.label}: {NOT_STATED}")
            lines += fill(f"sources: {sources_text(r, c)}", " " * 6, " " * 8)
    notes = not_stated_notes(c)
    if notes:
        lines += ["", style("Not stated", bold=True)]
        for n in notes:
            lines += fill(n, "  ", "    ")
    used = cited(c, sources)
    if used:
        pad = max(len(s.id) for s in used)
        lines += ["", style("Sources", bold=True)]
        for s in used:
            lines += fill(source_line(s), f"  {s.id:<{pad}}  ", " " * (pad + 4))
    return "\n".join(lines)


def _wrap(pieces: list[tuple[str, str]], indent: str, width: int, color: bool) -> list[str]:
    """Wrap redline runs at word boundaries, styling or bracketing each edited word."""
    words: list[list[tuple[str, str]]] = [[]]
    for op, text in pieces:
        if op != "equal" and not color:
            text = f"[-{text}-]" if op == "delete" else f"{{+{text}+}}"
        for part in re.split(r"(\s+)", text):
            if part.isspace():
                words.append([])
            elif part:
                words[-1].append((op, part))
    lines, line, used = [], indent, len(indent)
    for word in filter(None, words):
        size = sum(len(t) for _, t in word)
        if used > len(indent) and used + 1 + size > width:
            lines.append(line)
            line, used = indent, len(indent)
        if used > len(indent):
            line, used = line + " ", used + 1
        line += "".join(_style_word(op, t, color) for op, t in word)
        used += size
    lines.append(line)
    return lines


def _style_word(op: str, text: str, color: bool) -> str:
    if not color or op == "equal":
        return text
    if op == "delete":
        return click.style(text, fg="red", strikethrough=True)
    return click.style(text, fg="green", underline=True)


# ---- Markdown ------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>|#])")
# An HTML comment counts as punctuation: it lets **x** open or close next to a word
# where CommonMark would otherwise not read the asterisks as emphasis.
_GUARD = "<!-- -->"


def md_escape(text: str) -> str:
    """Escape text for a Markdown table cell: one line, no stray emphasis or pipes."""
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", text))


def _md_runs(pieces: list[tuple[str, str]]) -> str:
    wrap = {"delete": "~~", "insert": "**"}
    out = ""
    for n, (op, text) in enumerate(pieces):
        if op == "equal":
            out += md_escape(text)
            continue
        after = pieces[n + 1][1][:1] if n + 1 < len(pieces) and pieces[n + 1][0] == "equal" else ""
        lead = _GUARD if out[-1:].isalnum() and not text[0].isalnum() else ""
        trail = _GUARD if after.isalnum() and not text[-1].isalnum() else ""
        out += f"{lead}{wrap[op]}{md_escape(text)}{wrap[op]}{trail}"
    return out


def _empty(r: Row, side: str) -> str:
    """Say what an empty side means: 'none' only where a source says so (added, removed), else not stated."""
    if (side == "from" and r.change == "added") or (side == "to" and r.change == "removed"):
        return "none"
    return NOT_STATED


def _md_cell(r: Row, side: str, c: Comparison) -> str:
    pieces = side_runs(r, side)
    if pieces is None:
        return f"*{_empty(r, side)}*"
    if side == "from" and r.change == "unchanged":
        return "*same text*"
    return _md_runs(pieces)


def render_md(c: Comparison, sources: dict[str, Source], note: str | None = None) -> str:
    """Return the comparison as Markdown: a table per area with ~~deleted~~ and **inserted** words."""
    fl, tl = md_escape(c.from_version.label), md_escape(c.to_version.label)
    out = [f"# {md_escape(c.agreement)}: {fl} → {tl}", "",
           f"- **From:** {md_escape(version_line(c.from_version, c))}",
           f"- **To:** {md_escape(version_line(c.to_version, c))}", "",
           f"**Summary:** {md_escape(note or c.summary())}"]
    for area, rows in c.by_area():
        out += ["", f"## {area.capitalize()}", "",
                f"| Change | From: {fl} | To: {tl} | Sources |", "|---|---|---|---|"]
        for r in rows:
            renamed = f", was `{r.from_key}`" if r.renamed and r.from_key else ""
            out.append(f"| {md_escape(change_label(r))} (`{r.key}`{renamed}) | {_md_cell(r, 'from', c)} "
                       f"| {_md_cell(r, 'to', c)} "
                       f"| {md_escape(sources_text(r, c))} |")
    notes = not_stated_notes(c)
    if notes:
        out += ["", "## Not stated", "", *(f"- {md_escape(n)}" for n in notes)]
    used = cited(c, sources)
    if used:
        out += ["", "## Sources", "", *(f"- `{s.id}`: {md_escape(source_line(s))}" for s in used)]
    return "\n".join(out) + "\n"


# ---- HTML ----------------------------------------------------------------------

def _template():
    # Not trimmed: the page's whitespace is part of its golden output.
    return strict_environment([builtin_templates("diff")], trim=False).get_template("diff.html.j2")


def diff_html(c: Comparison, sources: dict[str, Source], lang: str = "en", note: str | None = None) -> str:
    """Return a standalone, accessible HTML page: a captioned table per area with <del>/<ins>."""
    def view(r: Row) -> dict:
        return {
            "row": r, "label": change_label(r) + was(r), "sources": source_sides(r, c),
            "from_runs": side_runs(r, "from"), "to_runs": side_runs(r, "to"),
            "from_empty": _empty(r, "from"), "to_empty": _empty(r, "to"),
        }

    groups = [(area, [view(r) for r in rows]) for area, rows in c.by_area()]
    return _template().render(c=c, lang=lang, groups=groups, summary=note or c.summary(),
                            from_line=version_line(c.from_version, c), to_line=version_line(c.to_version, c),
                            notes=not_stated_notes(c), used=cited(c, sources), line=source_line)


# ---- JSON ----------------------------------------------------------------------

def to_json(c: Comparison, sources: dict[str, Source], warnings: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the comparison in the shape src/brief/compare/diff.schema.json documents."""
    return {
        "format_version": FORMAT_VERSION,
        "agreement": c.agreement,
        "from": _version(c.from_version, c.from_not_stated),
        "to": _version(c.to_version, c.to_not_stated),
        "same_version": c.same_version,
        "identical": c.identical,
        "summary": c.summary(),
        "counts": c.counts(),
        "warnings": list(warnings),
        "rows": [
            {
                "area": r.area, "key": r.key, "change": r.change, "from_key": r.from_key, "to_key": r.to_key,
                "from_keys": list(r.from_keys), "from_text": r.from_text, "to_text": r.to_text,
                "from_stated": r.from_stated, "to_stated": r.to_stated, "effect": r.effect, "renamed": r.renamed,
                "from_form": r.from_form, "to_form": r.to_form,
                "steps": [{"from": a, "to": b, "effect": e} for a, b, e in r.steps],
                "redline": [{"op": s.op, "text": s.text} for s in r.redline],
                "from_sources": [_cite(x) for x in r.from_sources], "to_sources": [_cite(x) for x in r.to_sources],
            }
            for r in c.rows
        ],
        "sources": [
            {"id": s.id, "title": s.title, "description": s.description, "author": s.author, "publisher": s.publisher,
             "date": s.date.iso() if s.date else None, "url": s.url}
            for s in cited(c, sources)
        ],
    }


def _version(v: Version, gaps: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": v.id, "label": v.label, "kind": v.kind, "status": v.status,
        "dates": [{"kind": k, "date": d.iso()} for k, d in v.milestones()],
        "not_stated": list(gaps),  # following `inherits`, as the rows use it
    }


def _cite(c: Citation) -> dict[str, str | None]:
    return {"source": c.source, "locator": c.locator}
