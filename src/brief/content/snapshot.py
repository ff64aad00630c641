"""Snapshots of a pack's content, kept in each release, and finding the release an edition follows.

A snapshot is one JSON file (``content.snapshot.json``) holding every item of the
content in a normalised form (dates as ISO text, figures as their exact digits),
with a sha256 over that form, so a damaged or hand-edited snapshot is caught
before anyone reads what changed from it. Releases are the folders
``build/dist/<as_of>-e<edition>/``; their names alone give their order.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.errors import BriefError

if TYPE_CHECKING:
    from brief.content.load import Content

SNAPSHOT = "content.snapshot.json"
FORMAT = 1
_KIND = "brief content snapshot"
_RELEASE = re.compile(r"^(\d{4}-\d{2}-\d{2})-e(\d+)$")

# The content lists a snapshot keeps, by their name in Content.
LISTS = ("assessments", "stakeholders", "events", "figures", "recommendations", "questions", "terms")


class SnapshotError(BriefError):
    """A release's content snapshot is missing, unreadable or damaged."""

    exit_code = 1


def plain(value: Any) -> Any:
    """Return a model value as JSON-ready data: models as mappings, dates as ISO text, decimals as digits."""
    from pydantic import BaseModel  # here: a no-op build lists releases without importing pydantic

    from brief.content.model import PartialDate

    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, PartialDate):
        return value.iso()
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exactly as typed: 1.10 stays 1.10
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def snapshot_of(content: Content) -> dict[str, Any]:
    """Return the content's items in normalised form (what a release keeps and `brief changes` compares)."""
    pack = content.pack
    data: dict[str, Any] = {
        "pack": {"title": pack.title, "organisation": pack.organisation, "edition": pack.edition,
                 "as_of": pack.as_of.isoformat()},
        "sources": [plain(s) for s in content.sources.values()],
    }
    for name in LISTS:
        data[name] = [plain(x) for x in getattr(content, name)]
    data["versions"] = [plain(v) for v in content.versions.versions] if content.versions else []
    return data


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def snapshot_text(content: Content) -> str:
    """Return the snapshot file's text: the normalised content with its sha256 (the same bytes on every run)."""
    body = snapshot_of(content)
    doc = {"kind": _KIND, "format": FORMAT, "sha256": _digest(body), "content": body}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def read_snapshot(path: Path, shown: str, root: Path | None = None) -> dict[str, Any]:
    """Return the normalised content a snapshot file holds; raise SnapshotError saying what is wrong.

    With root (the pack), a snapshot that is a symlink out of the pack is refused, not read.
    """
    if root is not None and os.path.lexists(path) and not _inside(path, root):
        raise SnapshotError(f"{shown} leads outside the pack (a symlink?); brief reads only the pack's own files")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{shown} is missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SnapshotError(f"{shown} cannot be read ({type(e).__name__}: {e})") from None
    if not isinstance(doc, dict) or doc.get("kind") != _KIND or doc.get("format") != FORMAT:
        raise SnapshotError(f"{shown} is not a brief content snapshot (format {FORMAT})")
    body = doc.get("content")
    if not isinstance(body, dict) or doc.get("sha256") != _digest(body):
        raise SnapshotError(f"{shown} is damaged: its content no longer matches its sha256 (changed after it "
                            "was published)")
    return body


# ---- releases ------------------------------------------------------------------

def release_name(as_of: date, edition: int) -> str:
    """Return a release's folder name, e.g. '2025-03-01-e2'."""
    return f"{as_of.isoformat()}-e{edition}"


def release_key(name: str) -> tuple[str, int] | None:
    """Return (as_of, edition) from a release name, or None when it is not one."""
    found = _RELEASE.match(name)
    return (found.group(1), int(found.group(2))) if found else None


def releases(root: Path) -> list[str]:
    """Return the names of the release folders in root/build/dist, newest first (by as-of date, then edition)."""
    dist = Path(root) / "build" / "dist"
    if not dist.is_dir():
        return []
    names = [p.name for p in dist.iterdir() if release_key(p.name) and p.is_dir() and _inside(p, root)]
    return sorted(names, key=lambda n: release_key(n) or ("", 0), reverse=True)


def previous_release(root: Path, current: str) -> str | None:
    """Return the newest release older than the release `current` names (the one an edition follows), if any."""
    key = release_key(current)
    return next((n for n in releases(root) if key and (release_key(n) or ("", 0)) < key), None)


def snapshot_path(root: Path, release: str) -> Path:
    """Return where a release keeps its snapshot."""
    return Path(root) / "build" / "dist" / release / SNAPSHOT


def _inside(path: Path, root: Path) -> bool:
    # A release folder that is a symlink out of the pack is not read (a pack is untrusted input).
    real, base = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, base]) == base
