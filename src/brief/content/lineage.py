"""Follow provisions through an agreement's versions."""
from __future__ import annotations

from datetime import date

from brief.content import model as m


def resolved_provisions(versions: list[m.Version], version: m.Version) -> list[m.Provision]:
    """Return a version's provisions, following 'inherits': in the order they first appeared, newest text each."""
    by_id = {v.id: v for v in versions}
    chain: list[m.Version] = []
    v: m.Version | None = version
    while v is not None and v not in chain:
        chain.append(v)
        v = by_id.get(v.inherits) if v.inherits else None
    own: dict[str, m.Provision] = {}
    for v in reversed(chain):  # oldest first: a later version's text replaces the earlier, in its place
        for p in v.provisions:
            own[p.key] = p
    return list(own.values())


def current_version(versions: m.VersionsFile, current: tuple[str, ...]) -> m.Version:
    """Return the version in force now (the last listed with a current status, else the last listed)."""
    in_force = [v for v in versions.versions if v.status in current]
    return (in_force or list(versions.versions))[-1]


def terms(versions: list[m.Version], starts: tuple[str, ...], ends: tuple[str, ...],
          as_of: date) -> list[tuple[m.Version, m.PartialDate, m.PartialDate]]:
    """Return each dated version's term: from its start (or first) date to its end, the next start, or as_of."""
    dated = [(v, d) for v in versions if (d := _first(v, starts) or v.first_date()) is not None]
    today = m.PartialDate(as_of.year, as_of.month, as_of.day)
    out = []
    for i, (v, start) in enumerate(dated):
        nxt = dated[i + 1][1] if i + 1 < len(dated) else None
        end = _first(v, ends)
        if nxt is not None and (end is None or nxt.start < end.start):
            end = nxt  # the next version takes over: terms never overlap
        elif end is None:  # open: through today, or through its own later milestones (staged dates)
            end = max([today, *(d for _, d in v.milestones())], key=lambda d: d.start)
        out.append((v, start, end))
    return out


def _first(v: m.Version, kinds: tuple[str, ...]) -> m.PartialDate | None:
    return next((d for k, d in v.milestones() if k in kinds), None)
