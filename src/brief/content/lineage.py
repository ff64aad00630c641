"""Follow provisions through an agreement's versions."""
from __future__ import annotations

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


def current_version(versions: m.VersionsFile) -> m.Version:
    """Return the version in force now (the last listed one in force, else the last listed)."""
    in_force = [v for v in versions.versions if v.status == "in force"]
    return (in_force or list(versions.versions))[-1]
