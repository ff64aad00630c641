"""Render a Comparison as terminal text, Markdown or a standalone HTML page."""
from __future__ import annotations

import re
import textwrap

import click
from jinja2 import Environment

from brief.compare import Comparison, Row, Segment
from brief.model import Citation, Source, Version

NOT_STATED = "not stated in sources"
_MARK = {"added": "+", "removed": "-", "changed": "~", "unchanged": "="}
_MARK_COLOUR = {"added": "green", "removed": "red", "changed": "yellow", "unchanged": None}
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
        lead, core, trail = _EDGE.match(seg.text).groups()
        out += [("equal", lead)] if lead else []
        out += [(seg.op, core)] if core else []
        out += [("equal", trail)] if trail else []
    return out


def change_label(row: Row) -> str:
    """Return the row's change as a reader says it: 'Narrowed', 'Added (strengthens)', 'Removed'."""
    text = row.label.capitalize()
    if row.change == "added" and row.effect:
        text += f" ({row.effect})"
    return text


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
    kind = v.kind
    if v.inherits:
        parent = next((x.label for x in (c.all_versions if c else ()) if x.id == v.inherits), v.inherits)
        kind += f" (carries the provisions of {parent})"
    dates = [f"{what} {d}" for what, d in (("signed", v.signed), ("effective", v.effective), ("expires", v.expires)) if d]
    return f"{v.label}: {', '.join([kind, *dates, v.status])}"


def source_line(s: Source) -> str:
    """Return a source as a short reference: title, who, when, where."""
    who = ", ".join(x for x in (s.author, s.publisher) if x)
    when = str(s.date) if s.date else "Undated"
    return ". ".join(x for x in (s.title, who, when, s.url) if x) + "."


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
            head = f"  {mark} {r.key}{was(r)}: {change_label(r).lower()}"
            if r.change == "unchanged":
                lines += fill(sources_text(r, c), f"{head}  ", " " * 6)
                continue
            lines.append(head)
            pieces = runs(r.redline) if r.change == "changed" else [("equal", r.to_text or r.from_text or "")]
            lines += _wrap(pieces, " " * 6, width, color)
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


def _md_cell(r: Row, side: str, c: Comparison) -> str:
    if side == "from":
        if r.from_text is None:
            return f"*{NOT_STATED}*" if not r.from_stated else "*none*"
        if r.change == "unchanged":
            return "*same text*"
        return _md_runs(runs(r.redline, "from") if r.change == "changed" else [("delete", r.from_text)])
    if r.to_text is None:
        return f"*{NOT_STATED}*" if not r.to_stated else "*none*"
    if r.change == "unchanged":
        return md_escape(r.to_text)
    return _md_runs(runs(r.redline, "to") if r.change == "changed" else [("insert", r.to_text)])


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

_HTML = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ c.agreement }}: {{ c.from_version.label }} → {{ c.to_version.label }}</title>
<style>
body { font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a; max-width: 75rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; margin: 0 0 2rem; table-layout: fixed; }
col.change { width: 14%; } col.from, col.to { width: 31%; } col.sources { width: 24%; }
dt { font-weight: bold; }
.cite { display: inline-block; max-width: 100%; }
.side { font-style: italic; }
caption { text-align: left; font-weight: bold; font-size: 1.25rem; padding: .5rem 0; }
th, td { border: 1px solid #767676; padding: .5rem; vertical-align: top; text-align: left; }
thead th { background: #eee; }
tbody th { font-weight: normal; width: 10rem; }
ins { text-decoration: underline; text-decoration-thickness: .12em; background: #e3f4e6; color: #0b5d1e; }
del { text-decoration: line-through; text-decoration-thickness: .12em; background: #fbe4e4; color: #8a1111; }
.vh { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.key { font-family: ui-monospace, monospace; font-size: .85em; color: #555; }
.none { font-style: italic; color: #555; }
@media print { ins, del { print-color-adjust: exact; -webkit-print-color-adjust: exact; } }
</style>
</head>
<body>
<main>
<h1>{{ c.agreement }}: {{ c.from_version.label }} → {{ c.to_version.label }}</h1>
<dl>
<dt>From</dt><dd>{{ from_line }}</dd>
<dt>To</dt><dd>{{ to_line }}</dd>
</dl>
<p><strong>Summary:</strong> {{ summary }}</p>
{%- macro show(pieces) %}{% for op, text in pieces %}{% if op == "delete" %}<del><span class="vh">deleted: </span>{{ text }}</del>{% elif op == "insert" %}<ins><span class="vh">inserted: </span>{{ text }}</ins>{% else %}{{ text }}{% endif %}{% endfor %}{% endmacro %}
{%- for area, rows in groups %}
<table>
<caption>{{ area | capitalize }}</caption>
<colgroup><col class="change"><col class="from"><col class="to"><col class="sources"></colgroup>
<thead><tr><th scope="col">Change</th><th scope="col">From: {{ c.from_version.label }}</th><th scope="col">To: {{ c.to_version.label }}</th><th scope="col">Sources</th></tr></thead>
<tbody>
{%- for r in rows %}
<tr class="{{ r.row.change }}">
<th scope="row">{{ r.label }}<br><span class="key">{{ r.row.key }}</span></th>
{%- if r.row.change == "unchanged" %}
<td colspan="2">{{ r.row.to_text }}</td>
{%- else %}
<td>{% if r.from_runs is none %}<span class="none">{{ r.from_empty }}</span>{% else %}{{ show(r.from_runs) }}{% endif %}</td>
<td>{% if r.to_runs is none %}<span class="none">{{ r.to_empty }}</span>{% else %}{{ show(r.to_runs) }}{% endif %}</td>
{%- endif %}
<td>{% for side, cs in r.sources %}<div>{% if side %}<span class="side">{{ side }}:</span> {% endif %}{% for x in cs %}<span class="cite">{{ x }}</span>{{ " " if not loop.last }}{% endfor %}</div>{% endfor %}</td>
</tr>
{%- endfor %}
</tbody>
</table>
{%- endfor %}
{%- if notes %}
<h2>Not stated</h2>
<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
{%- endif %}
{%- if used %}
<h2>Sources</h2>
<ul>{% for s in used %}<li id="src-{{ s.id }}"><code>{{ s.id }}</code>: {{ line(s) }}</li>{% endfor %}</ul>
{%- endif %}
</main>
</body>
</html>
"""

_env = Environment(autoescape=True, keep_trailing_newline=True)
_template = _env.from_string(_HTML)


def render_html(c: Comparison, sources: dict[str, Source], lang: str = "en", note: str | None = None) -> str:
    """Return a standalone, accessible HTML page: a captioned table per area with <del>/<ins>."""
    def view(r: Row) -> dict:
        changed = r.change == "changed"
        return {
            "row": r, "label": change_label(r) + was(r), "sources": source_sides(r, c),
            "from_runs": None if r.from_text is None else (runs(r.redline, "from") if changed else [("delete", r.from_text)]),
            "to_runs": None if r.to_text is None else (runs(r.redline, "to") if changed else [("insert", r.to_text)]),
            "from_empty": NOT_STATED if not r.from_stated else "none",
            "to_empty": NOT_STATED if not r.to_stated else "none",
        }

    groups = [(area, [view(r) for r in rows]) for area, rows in c.by_area()]
    return _template.render(c=c, lang=lang, groups=groups, summary=note or c.summary(),
                            from_line=version_line(c.from_version, c), to_line=version_line(c.to_version, c),
                            notes=not_stated_notes(c), used=cited(c, sources), line=source_line)
