"""Compare two versions provision by provision, stating only the differences the sources state.

A row's change is what a source says (a provision's `effect`, a version's `drops`), what two
quoted texts (`form: text`) show word by word, or, when neither, exactly what is known: first
described in the later version, not described in it, or described without a stated change.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from brief.content.lineage import resolved_provisions
from brief.content.model import Citation, Provision, Version, VersionsFile

Change = Literal["added", "removed", "changed", "unchanged", "first described", "not described", "restated"]

# Each effect as the past participle the summary counts ("2 narrowed"); a pack's own effects as written.
PAST: dict[str, str] = {
    "narrows": "narrowed", "broadens": "broadened", "strengthens": "strengthened",
    "weakens": "weakened", "clarifies": "clarified", "extends": "extended", "renews": "renewed", "adds": "added",
}
# Read backwards (FROM later than TO), a change has the opposite effect.
_INVERSE = {"narrows": "broadens", "broadens": "narrows", "strengthens": "weakens",
            "weakens": "strengthens", "clarifies": "clarifies", "extends": "extends", "renews": "renews"}
# What each change says, as the summary words it.
WORDS: dict[str, str] = {"restated": "with no change stated"}
# Keys of Comparison.counts(), in the order the summary names them.
COUNT_KEYS = ("added", *(v for v in PAST.values() if v != "added"), "changed", "removed", "first described",
              "not described", "with no change stated", "unchanged")


class UnknownVersion(ValueError):
    """The versions asked for cannot be compared (unknown id, none listed, no earlier one)."""


@dataclass(frozen=True)
class Segment:
    """A run of words that both texts share, or that only one of them has."""

    op: Literal["equal", "insert", "delete"]
    text: str


@dataclass(frozen=True)
class Row:
    """One provision's fate between FROM and TO."""

    area: str
    key: str
    change: Change
    from_key: str | None  # several keys joined with ", " when TO merges them
    to_key: str | None
    from_text: str | None
    to_text: str | None
    from_stated: bool
    effect: str | None
    renamed: bool
    redline: tuple[Segment, ...]
    from_sources: tuple[Citation, ...]
    to_sources: tuple[Citation, ...]
    from_keys: tuple[str, ...] = ()
    to_stated: bool = True  # False when TO lists this area in `not_stated`
    from_form: str = "summary"  # "text": the instrument's own words; "summary": a source's description
    to_form: str = "summary"
    steps: tuple[tuple[str, str, str], ...] = ()  # (from label, to label, effect) when steps differ
    effect_word: str | None = None  # how a pack's own effect reads (its vocabulary label), if it is one

    @property
    def label(self) -> str:
        """Return the change as the summary words it: narrowed, first described, no change stated..."""
        if self.change == "changed":
            return PAST.get(self.effect or "") or self.effect_word or self.effect or "changed"
        return WORDS.get(self.change, self.change)

    @property
    def worded(self) -> bool:
        """True when both sides are the instrument's own words, so a word-level redline means something."""
        return self.from_form == "text" and self.to_form == "text"


@dataclass(frozen=True)
class Comparison:
    """What changed between two versions of one agreement."""

    agreement: str
    from_version: Version
    to_version: Version
    rows: tuple[Row, ...]
    from_not_stated: tuple[str, ...] = ()  # areas FROM's sources do not describe (following `inherits`)
    to_not_stated: tuple[str, ...] = ()
    all_versions: tuple[Version, ...] = ()  # every version in file order, to name what one inherits
    areas: tuple[str, ...] = ()  # every area, in the pack's display order

    @property
    def same_version(self) -> bool:
        return self.from_version.id == self.to_version.id

    @property
    def identical(self) -> bool:
        return all(r.change == "unchanged" for r in self.rows)

    def by_area(self, areas: Iterable[str] = ()) -> list[tuple[str, list[Row]]]:
        """Return the rows grouped by area in display order, only the given areas when any."""
        wanted = self._areas(areas)
        groups = [(a, [r for r in self.rows if r.area == a]) for a in self.areas if a in wanted]
        return [(a, rows) for a, rows in groups if rows]

    def counts(self, areas: Iterable[str] = ()) -> dict[str, int]:
        """Return how many rows each change label has, plus how many rest on an unstated side."""
        wanted = self._areas(areas)
        out = dict.fromkeys(COUNT_KEYS, 0)
        out["not_stated"] = 0
        for r in self.rows:
            if r.area in wanted:
                out[r.label] = out.get(r.label, 0) + 1
                out["not_stated"] += (not r.from_stated) or (not r.to_stated)
        return out

    def _areas(self, areas: Iterable[str]) -> set[str]:
        wanted = set(areas)
        unknown = wanted - set(self.areas)
        if unknown:
            raise ValueError(f"unknown area(s) {', '.join(sorted(unknown))}; known: {', '.join(self.areas)}")
        return wanted or set(self.areas)

    def summary(self, areas: Iterable[str] = ()) -> str:
        """Return one line such as '3 provisions added, 2 narrowed, 1 removed; 2 unchanged'."""
        wanted = self._areas(areas)
        rows = [r for r in self.rows if r.area in wanted]
        n = self.counts(areas)
        parts = [(n[k], k) for k in (*COUNT_KEYS, *(k for k in n if k not in COUNT_KEYS and k != "not_stated"))
                 if k != "unchanged" and n[k]]
        if not parts:
            total = n["unchanged"]
            return "No provisions to compare" if not total else f"No changes; {_n(total, 'provision')} unchanged"
        words = []
        for i, (count, label) in enumerate(parts):
            text = f"{_n(count, 'provision')} {label}" if i == 0 else f"{count} {label}"
            if label == "first described":
                text += f" in the {self.to_version.label}"
            elif label == "not described":
                text += f" in the {self.to_version.label}"
            elif label in PAST.values():
                unstated = sum(1 for r in rows if r.label == label and not r.from_stated)
                text += _unstated_note(unstated, count, self.from_version.label)
            words.append(text)
        line = ", ".join(words)
        return f"{line}; {n['unchanged']} unchanged" if n["unchanged"] else line


def _unstated_note(unstated: int, count: int, label: str) -> str:
    """Say that the sources do not give the earlier text, so a stated change is not read as 'new'."""
    if not unstated:
        return ""
    if unstated == count:
        return f" (the sources do not give the {label} text)"
    return f" ({unstated} without the {label} text in the sources)"


def compare(versions: VersionsFile, from_id: str | None = None, to_id: str | None = None,
            areas: Iterable[str] = (), effect_words: Mapping[str, str] | None = None) -> Comparison:
    """Compare FROM with TO (default: the last two versions in file order).

    areas give the display order; effect_words how a pack's own effects read in a summary
    ("suspends" -> "suspended"), the built-in ones reading in the past tense.
    """
    vs = list(versions.versions)
    order = area_order(vs, areas)
    old, new = pick(versions, from_id, to_id)
    i, j = vs.index(old), vs.index(new)
    old_provs = resolved_provisions(vs, old)
    new_provs = resolved_provisions(vs, new)
    old_gaps, new_gaps = unstated_areas(vs, old, order), unstated_areas(vs, new, order)
    matches: list[Match]
    if i == j:
        matches = [(p, [p.key], None, False, ()) for p in new_provs]
    elif i < j:
        matches = _forward(_lineage(vs, i, j), new_provs)
    else:
        matches = _backward(_lineage(vs, j, i), old_provs, new_provs)
    by_key = {p.key: p for p in old_provs}
    words = effect_words or {}
    rows = [_row(new_p, [by_key[k] for k in keys], effect, renamed, old_gaps, steps, words.get(effect or ""))
            for new_p, keys, effect, renamed, steps in matches]
    matched = {k for _, keys, _, _, _ in matches for k in keys}
    drops = _drops(vs, min(i, j), max(i, j))
    rows += [_missing(p, new_gaps, drops.get(p.key)) for p in old_provs if p.key not in matched]
    rank = {a: n for n, a in enumerate(order)}
    rows.sort(key=lambda r: (rank[r.area], r.key, r.change))
    return Comparison(versions.name, old, new, tuple(rows), old_gaps, new_gaps, tuple(vs), order)


def area_order(vs: list[Version], areas: Iterable[str] = ()) -> tuple[str, ...]:
    """Return the areas in display order: the vocabulary's, then any others in order of appearance."""
    seen = dict.fromkeys(areas)
    for v in vs:
        seen.update(dict.fromkeys([*(p.area for p in v.provisions), *v.not_stated]))
    return tuple(seen)


def pick(versions: VersionsFile, from_id: str | None, to_id: str | None) -> tuple[Version, Version]:
    """Return the (FROM, TO) versions the ids name, defaulting to the last two."""
    vs = list(versions.versions)
    by_id = {v.id: v for v in vs}
    for vid in (from_id, to_id):
        if vid is not None and vid not in by_id:
            raise UnknownVersion(f"unknown version '{vid}'; known versions: {', '.join(by_id) or 'none'}")
    if not vs:
        raise UnknownVersion("versions.yaml lists no versions; there is nothing to compare")
    new = by_id[to_id] if to_id is not None else vs[-1]
    if from_id is not None:
        return by_id[from_id], new
    at = vs.index(new)
    if at == 0:
        only = "lists only this version" if len(vs) == 1 else "lists no version before it"
        raise UnknownVersion(f"cannot compare '{new.id}' with an earlier version: versions.yaml {only}; "
                         "add the version it followed, or name the version to compare it with")
    return vs[at - 1], new


def unstated_areas(vs: list[Version], version: Version, order: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Return the areas the sources do not describe for a version, following `inherits`."""
    by_id = {v.id: v for v in vs}
    gaps: set[str] = set()
    described: set[str] = set()
    seen: set[str] = set()
    v: Version | None = version
    while v is not None and v.id not in seen:
        seen.add(v.id)
        # An extension carries its parent's gaps, except where it states the area itself.
        gaps |= set(v.not_stated) - described
        described |= {p.area for p in v.provisions}
        v = by_id.get(v.inherits) if v.inherits else None
    order = order or area_order(vs)
    return tuple(a for a in order if a in gaps)


def version_warnings(versions: VersionsFile, from_id: str | None = None, to_id: str | None = None) -> list[str]:
    """Return warnings about the choice of versions, such as FROM being later than TO."""
    old, new = pick(versions, from_id, to_id)
    if old.id == new.id:
        return []
    d_old, d_new = old.first_date(), new.first_date()
    if d_old and d_new:
        if d_old.start > d_new.start:
            return [f"FROM '{old.id}' ({d_old.iso()}) is dated after TO '{new.id}' ({d_new.iso()}); "
                    "the comparison runs backwards in time, so effects are reversed"]
        return []
    vs = list(versions.versions)
    if vs.index(old) > vs.index(new):
        return [f"FROM '{old.id}' is listed after TO '{new.id}' in versions.yaml; "
                "the comparison runs backwards, so effects are reversed"]
    return []


def redline(old: str, new: str) -> tuple[Segment, ...]:
    """Return a word-level diff of old against new as equal/delete/insert segments."""
    a, b = _tokens(old), _tokens(new)
    # Compare whitespace as a single space, so reflowed text is not a change.
    ka = [" " if t.isspace() else t for t in a]
    kb = [" " if t.isspace() else t for t in b]
    matcher = difflib.SequenceMatcher(lambda t: t == " ", ka, kb, autojunk=False)
    raw: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            raw.append(("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            raw.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            raw.append(("insert", "".join(b[j1:j2])))
    return _merge(raw)


def normalise(text: str | None) -> str:
    """Return text with runs of whitespace collapsed, as comparisons see it."""
    return " ".join((text or "").split())


# ---- matching ------------------------------------------------------------------

Step = tuple[str, str, str | None]  # (FROM label, TO label, the effect a source states for that step)


@dataclass(frozen=True)
class _Line:
    """How a provision of a later version descends from the provisions of an earlier one."""

    origins: tuple[str, ...]  # keys in the earlier version
    steps: tuple[Step, ...]  # each step that changed its text, with the effect declared for it
    renamed: bool


def _lineage(vs: list[Version], lo: int, hi: int) -> dict[str, _Line]:
    """Trace each provision of vs[hi] back to the provisions of vs[lo], one version at a time.

    A version that leaves an area unstated neither removes nor re-adds its provisions: they
    are carried through it as they were, and the next version that states the area picks up.
    """
    state = {p.key: _Line((p.key,), (), False) for p in resolved_provisions(vs, vs[lo])}
    known = {p.key: p for p in resolved_provisions(vs, vs[lo])}  # the latest stated text of each key
    for s in range(lo + 1, hi + 1):
        label = (vs[s - 1].label, vs[s].label)
        provs = resolved_provisions(vs, vs[s])
        gaps = set(unstated_areas(vs, vs[s]))
        step = {p.key: _step(p, vs[s], known, state, label) for p in provs}
        for key, line in state.items():  # carried through a version silent on their area
            if key not in step and known[key].area in gaps and key not in _replaced(provs):
                step[key] = line
        known = {**{k: known[k] for k in step if k in known}, **{p.key: p for p in provs}}
        state = step
    return state


def _replaced(provs: list[Provision]) -> set[str]:
    return {k for p in provs for k in p.replaces}


def _step(p: Provision, version: Version, known: dict[str, Provision], state: dict[str, _Line],
          label: tuple[str, str]) -> _Line:
    """Return p's line after one step, from the provisions it continues."""
    # `replaces` and `effect` describe the step into the version declaring them, so an
    # inherited provision's say nothing about this step.
    declared = any(x.key == p.key for x in version.provisions)
    effect = p.effect if declared else None
    preds = [k for k in p.replaces if k in state] if declared else []
    if p.key in state and p.key not in preds:
        preds.append(p.key)
    if not preds:
        return _Line((), ((*label, effect),), False)
    lines = [state[k] for k in preds]
    changed = len(preds) > 1 or normalise(known[preds[0]].text) != normalise(p.text) or effect is not None
    return _Line(
        origins=tuple(dict.fromkeys(o for line in lines for o in line.origins)),
        steps=tuple(st for line in lines for st in line.steps) + (((*label, effect),) if changed else ()),
        renamed=any(line.renamed for line in lines) or preds != [p.key],
    )


def _net(steps: Iterable[Step]) -> str | None:
    """Return the one effect every step declared, or None when steps differ or say nothing."""
    found = {effect for _, _, effect in steps}
    return found.pop() if len(found) == 1 and None not in found else None


def _named(steps: tuple[Step, ...]) -> tuple[tuple[str, str, str], ...]:
    """Return the steps with a stated effect, when they do not share one net effect (then each is named)."""
    stated = tuple((a, b, e) for a, b, e in steps if e is not None)
    return stated if len({e for _, _, e in stated}) > 1 else ()


Match = tuple[Provision, list[str], str | None, bool, tuple[tuple[str, str, str], ...]]


def _forward(state: dict[str, _Line], new_provs: list[Provision]) -> list[Match]:
    out = []
    for p in new_provs:
        line = state[p.key]
        keys = list(line.origins)
        out.append((p, keys, _net(line.steps), line.renamed and keys != [p.key], _named(line.steps)))
    return out


def _backward(state: dict[str, _Line], old_provs: list[Provision], new_provs: list[Provision]) -> list[Match]:
    # state traces FROM (the later version) back to TO; invert it to match TO's provisions.
    out: list[Match] = []
    for p in new_provs:
        keys = [q.key for q in old_provs if q.key in state and p.key in state[q.key].origins]
        nets = {_net(state[k].steps) for k in keys}
        effect = _INVERSE.get(nets.pop() or "") if len(nets) == 1 else None
        renamed = keys != [p.key] and any(state[k].renamed for k in keys)
        # Read backwards, each step runs the other way and has the opposite effect.
        steps = tuple((b, a, _INVERSE.get(e, e) if e else None) for k in keys for a, b, e in reversed(state[k].steps))
        out.append((p, keys, effect if keys else None, renamed, _named(steps)))
    return out


def _drops(vs: list[Version], lo: int, hi: int) -> dict[str, tuple[Citation, ...]]:
    """Return the keys a version between lo (exclusive) and hi says it removes, with the sources that say so."""
    return {d.key: tuple(d.sources) for v in vs[lo + 1: hi + 1] for d in v.drops}


def _row(p: Provision, olds: list[Provision], effect: str | None, renamed: bool, old_gaps: tuple[str, ...],
         steps: tuple[tuple[str, str, str], ...] = (), effect_word: str | None = None) -> Row:
    from_text = " ".join(o.text for o in olds) if olds else None
    from_form = "text" if olds and all(o.form == "text" for o in olds) else "summary"
    keys = tuple(o.key for o in olds)
    change = _change(from_text, from_form, p, effect, steps)
    worded = from_form == "text" and p.form == "text" and change == "changed"
    return Row(
        area=p.area, key=p.key, change=change, from_key=", ".join(keys) or None, to_key=p.key,
        from_text=from_text, to_text=p.text,
        # A stated effect with no earlier provision means the sources do not give the earlier text.
        from_stated=bool(olds) or (p.area not in old_gaps and change != "changed"),
        effect=effect if change in ("changed", "added") else None, renamed=renamed,
        redline=redline(from_text or "", p.text) if worded else (),
        from_sources=tuple(dict.fromkeys(c for o in olds for c in o.sources)), to_sources=tuple(p.sources),
        from_keys=keys, from_form=from_form, to_form=p.form, steps=steps, effect_word=effect_word,
    )


def _change(from_text: str | None, from_form: str, p: Provision, effect: str | None,
            steps: tuple[tuple[str, str, str], ...]) -> Change:
    """Classify a row by what the sources state, never by how two descriptions happen to differ."""
    if from_text is None:
        first = steps[0][2] if steps else effect  # what the step that introduced it states
        return "added" if first == "adds" else "changed" if (effect or steps) else "first described"
    if effect or steps:
        return "changed"  # a source states the change (the effect cites it)
    if from_form == "text" and p.form == "text":
        return "unchanged" if normalise(from_text) == normalise(p.text) else "changed"
    if normalise(from_text) == normalise(p.text):
        return "unchanged"  # the same words carried over (an extension, or the same text)
    return "restated"  # two descriptions that differ, with no change stated by a source


def _missing(p: Provision, new_gaps: tuple[str, ...], dropped: tuple[Citation, ...] | None) -> Row:
    """A FROM provision TO does not have: removed when a source says so, else not described."""
    return Row(
        area=p.area, key=p.key, change="removed" if dropped is not None else "not described", from_key=p.key,
        to_key=None, from_text=p.text, to_text=None, from_stated=True, effect=None, renamed=False, redline=(),
        from_sources=tuple(p.sources), to_sources=dropped or (), from_keys=(p.key,),
        to_stated=p.area not in new_gaps, from_form=p.form,
    )


# ---- redline helpers -----------------------------------------------------------

# Words (with inner apostrophes and hyphens), single punctuation marks, and whitespace runs.
_TOKEN = re.compile(r"\s+|\w+(?:['’-]\w+)*|[^\w\s]")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _merge(raw: list[tuple[str, str]]) -> tuple[Segment, ...]:
    """Join runs into readable segments, folding short shared words between edits into them."""
    # Items are ["equal", text] or ["edit", deleted, inserted]; consecutive edits join.
    items: list[list[str]] = []
    for op, text in raw:
        if op == "equal":
            items.append(["equal", text])
            continue
        if not items or items[-1][0] != "edit":
            items.append(["edit", "", ""])
        items[-1][1 if op == "delete" else 2] += text
    # As in diff-match-patch's semantic cleanup: an equality no longer than the edits on
    # both sides of it reads better as part of one edit than as a staircase of
    # [-a-]{+b+} the [-c-]{+d+}.
    k = 1
    while k < len(items) - 1:
        eq, before, after = items[k], items[k - 1], items[k + 1]
        size = len(eq[1].strip())
        if (eq[0] == "equal" and before[0] == after[0] == "edit"
                and size <= max(len(before[1]), len(before[2])) and size <= max(len(after[1]), len(after[2]))):
            items[k - 1:k + 2] = [["edit", before[1] + eq[1] + after[1], before[2] + eq[1] + after[2]]]
            k = max(1, k - 1)
        else:
            k += 1
    out: list[Segment] = []
    for item in items:
        if item[0] == "equal":
            out.append(Segment("equal", item[1]))
            continue
        out += [Segment("delete", item[1])] if item[1] else []
        out += [Segment("insert", item[2])] if item[2] else []
    return tuple(out)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
