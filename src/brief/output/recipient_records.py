"""The manifest's record of personalised PDFs: per edition, what its covers were made from and each file.

Recorded in build/manifest.json under "recipients" (only when a profile has a cover), so a re-run
skips the recipients whose cover and body are unchanged, and `brief publish --send` finds each
recipient's file: ``recipients[<audience>].files[<id>].file.path`` (relative to build/).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brief.output.inputs import file_sha256, is_sha256

FOLDER = "recipients"  # build/<audience>/recipients/<id>.pdf


@dataclass(frozen=True)
class CoverStyle:
    """What every cover of an edition prints with: the stylesheet, and where its fonts are served from."""

    stylesheet: str  # the assets key of the cover stylesheet ("cover.css")
    out_dir: Path  # build/<audience>/: relative URLs in the stylesheet resolve against it
    assets: dict[str, Path]
    root: Path


@dataclass(frozen=True)
class RecipientFile:
    """One recipient's PDF: the hash of what it was made from, and the file."""

    id: str
    source_hash: str  # over the cover's HTML, the cover stylesheet and fonts, the body's sha256 and the code
    path: str  # relative to build/ (POSIX)
    sha256: str
    bytes: int
    pages: int


@dataclass(frozen=True)
class RecipientsRecord:
    """An edition's personalised PDFs, and the inputs that decide whether any may have changed."""

    audience: str
    body_sha256: str  # the edition PDF the covers were joined to
    inputs: Mapping[str, str | None] = field(default_factory=dict)  # name -> sha256 (None: absent)
    settings: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, RecipientFile] = field(default_factory=dict)  # recipient id -> file


def recipient_path(audience: str, recipient_id: str) -> str:
    """Return a recipient's PDF path relative to build/."""
    return f"{audience}/{FOLDER}/{recipient_id}.pdf"


def to_json(records: Mapping[str, RecipientsRecord]) -> dict[str, Any]:
    """Return the "recipients" part of the manifest, sorted so the same records give the same bytes."""
    return {a: {"audience": r.audience, "body_sha256": r.body_sha256, "settings": dict(sorted(r.settings.items())),
                "inputs": [{"name": n, "sha256": r.inputs[n]} for n in sorted(r.inputs)],
                "files": {i: asdict(f) for i, f in sorted(r.files.items())}}
            for a, r in sorted(records.items())}


def from_json(data: object) -> dict[str, RecipientsRecord]:
    """Parse the "recipients" part of a manifest; raise ValueError naming what is malformed."""
    if not isinstance(data, dict):
        raise ValueError("'recipients' is not an object")
    return {audience: _record(audience, r) for audience, r in data.items()}


def _record(audience: str, r: Any) -> RecipientsRecord:
    ok = (isinstance(r, dict) and r.get("audience") == audience and is_sha256(r.get("body_sha256"))
          and isinstance(r.get("inputs"), list) and isinstance(r.get("files"), dict)
          and isinstance(r.get("settings"), dict) and all(isinstance(v, str) for v in r["settings"].values()))
    if not ok:
        raise ValueError(f"the recipients of {audience!r} are malformed")
    inputs = {}
    for i in r["inputs"]:
        if not (isinstance(i, dict) and isinstance(i.get("name"), str) and (i.get("sha256") is None
                                                                           or is_sha256(i["sha256"]))):
            raise ValueError(f"the recipients of {audience!r} have a malformed input")
        inputs[i["name"]] = i.get("sha256")
    files = {}
    for rid, f in r["files"].items():
        try:
            entry = RecipientFile(**f) if isinstance(f, dict) else None
        except TypeError:
            entry = None
        if entry is None or entry.id != rid or not is_sha256(entry.sha256) or not is_sha256(entry.source_hash) \
                or entry.path != recipient_path(audience, rid):
            raise ValueError(f"the recipients of {audience!r} have a malformed file entry for {rid!r}")
        files[rid] = entry
    return RecipientsRecord(audience, r["body_sha256"], inputs, dict(r["settings"]), files)


def intact(build_dir: Path, f: RecipientFile) -> bool:
    """True when the recipient's file is on disk with its recorded size and sha256."""
    full = build_dir / f.path
    try:
        if full.stat().st_size != f.bytes:
            return False
    except OSError:
        return False
    return file_sha256(full) == f.sha256


def unchanged(record: RecipientsRecord, digests: Mapping[str, str | None], settings: Mapping[str, str],
              body_sha256: str | None, build_dir: Path) -> bool:
    """True when nothing a cover is made from changed and every recorded file is intact."""
    return (dict(record.inputs) == dict(digests) and dict(record.settings) == dict(settings)
            and record.body_sha256 == body_sha256 and all(intact(build_dir, f) for f in record.files.values()))


def digest(*parts: str) -> str:
    """Return the sha256 of parts joined unambiguously."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode()
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()
