"""Follow provisions through an agreement's versions."""
from __future__ import annotations

from datetime import date

from brief.content import model as m


def resolved_provisions(versions: list[m.Version], version: m.Version) -> list[m.Provision]:
    """Return a version's provisions, following 'inherits' for extensions."""
    by_id = {v.id: v for v in versions}
    seen: set[str] = set()
    v: m.Version | None = version
    own: dict[str, m.Provision] = {}
    while v is not None and v.id not in seen:
        seen.add(v.id)
        for p in v.provisions:
            own.setdefault(p.key, p)
        v = by_id.get(v.inherits) if v.inherits else None
    return list(own.values())


def current_version(versions: m.VersionsFile, current: tuple[str, ...] = ("in force",)) -> m.Version:
    """Return the version in force now (the last listed with a current status, else the last listed)."""
    in_force = [v for v in versions.versions if v.status in current]
    return (in_force or list(versions.versions))[-1]


def terms(versions: list[m.Version], starts: tuple[str, ...], ends: tuple[str, ...],
          as_of: date) -> list[tuple[m.Version, m.PartialDate, m.PartialDate]]:
    """Return each dated version's term: from its start (or first) date to its end, the next start, or as_of."""
    dated = [(v, d) for v in versions if (d := _first(v, starts) or v.first_date()) is not None]
    out = []
    for i, (v, start) in enumerate(dated):
        nxt = dated[i + 1][1] if i + 1 < len(dated) else None
        end = _first(v, ends) or nxt or m.PartialDate(as_of.year, as_of.month, as_of.day)
        out.append((v, start, end))
    return out


def _first(v: m.Version, kinds: tuple[str, ...]) -> m.PartialDate | None:
    return next((d for k, d in v.milestones() if k in kinds), None)
