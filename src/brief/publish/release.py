"""Releases: immutable, versioned folders of built editions under build/dist/.

A release is named ``<as_of>-e<edition>`` (``2025-03-01-e1``) and holds each
audience's PDF and HTML under versioned names
(``water-council-2025-03-01-e1.pdf``), a ``manifest.json`` and a
``SHA256SUMS`` that ``sha256sum -c`` verifies from inside the folder. It is
written to a hidden temporary folder beside its final place and renamed in one
step, so a reader (a web server, rsync, a mail run) sees all of it or none.
"""
from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from brief import __version__
from brief.errors import BuildError
from brief.output.atomic import fsync_dir, temp_name, write_bytes_atomic, write_error

RELEASE_MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FORMAT = 1
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html", "csv": "text/csv", "json": "application/json",
               "vcf": "text/vcard"}
RESERVED = (RELEASE_MANIFEST, SUMS)
_RELEASE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-e(\d+)$")


@dataclass(frozen=True)
class ReleaseFile:
    file: str  # versioned file name inside the release folder
    audience: str
    title: str  # the edition's title, e.g. "Council brief"
    kind: str  # "pdf" or "html"
    sha256: str
    bytes: int
    pages: int | None
    source_hash: str
    source: Path | None = None  # the built file it is copied from (while publishing)
    signature: dict[str, str] | None = None  # who signed this copy (brief publish --sign), else None
    role: str = "edition"  # or "newsroom": a journalist's file made beside the edition (brief.output.newsroom)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.kind, "application/octet-stream")

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "audience": self.audience, "title": self.title, "type": self.media_type,
                "sha256": self.sha256, "bytes": self.bytes, "pages": self.pages, "source_hash": self.source_hash,
                **({"signature": self.signature} if self.signature else {}),
                **({"role": self.role} if self.role != "edition" else {})}


@dataclass(frozen=True)
class Asset:
    """A file the HTML editions link to (stylesheet, font, licence), kept at its relative path."""

    file: str  # POSIX path inside the release folder, e.g. "fonts/Inter-Regular.woff2"
    sha256: str
    bytes: int
    source: Path | None = None
    data: builtins.bytes | None = None  # the bytes to write, for a file made while publishing (the snapshot)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(frozen=True)
class Release:
    name: str
    title: str
    organisation: str
    edition: int
    as_of: date
    files: tuple[ReleaseFile, ...]
    subtitle: str | None = None
    embargo: datetime | None = None
    language: str = "en"
    brief_version: str = __version__
    assets: tuple[Asset, ...] = ()
    changes: dict[str, Any] | None = None  # what is new since the previous release (brief.publish.snapshots)

    @property
    def contents(self) -> tuple[ReleaseFile | Asset, ...]:
        """Every file the folder holds besides manifest.json and SHA256SUMS: the editions, then their assets."""
        return (*self.files, *self.assets)

    @property
    def source_hashes(self) -> dict[str, str]:
        return {f.audience: f.source_hash for f in self.files}

    @property
    def id(self) -> str:
        """A stable id: the same content always gives the same id, on any machine."""
        h = hashlib.sha256(f"brief-release\0{self.name}\n".encode())
        for audience, sh in sorted(self.source_hashes.items()):
            h.update(f"{audience}\0{sh}\n".encode())
        return f"urn:sha256:{h.hexdigest()}"

    @property
    def updated(self) -> str:
        """The release's date as an RFC 3339 timestamp (midnight UTC of as_of)."""
        return f"{self.as_of.isoformat()}T00:00:00Z"

    def pdf(self, audience: str) -> ReleaseFile | None:
        return next((f for f in self.files if f.audience == audience and f.kind == "pdf" and f.role == "edition"),
                    None)

    def audiences(self) -> list[str]:
        return sorted({f.audience for f in self.files})

    def edition_title(self, audience: str) -> str:
        return next((f.title for f in self.files if f.audience == audience), audience)

    def manifest_json(self) -> str:
        data = {
            "format": FORMAT,
            "release": self.name,
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "organisation": self.organisation,
            "edition": self.edition,
            "as_of": self.as_of.isoformat(),
            "embargo": self.embargo.isoformat() if self.embargo else None,
            "language": self.language,
            "brief_version": self.brief_version,
            "editions": [{"audience": a, "title": self.edition_title(a), "source_hash": self.source_hashes[a]}
                         for a in self.audiences()],
            "files": [f.as_json() for f in self.files],
            "assets": [a.as_json() for a in self.assets],
            **({"changes": self.changes} if self.changes is not None else {}),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def sums(self) -> str:
        """SHA256SUMS text: one '<hex>  <name>' line per file, assets and manifest.json included."""
        lines = [(f.sha256, f.file) for f in self.files] + [(a.sha256, a.file) for a in self.assets]
        lines.append((hashlib.sha256(self.manifest_json().encode()).hexdigest(), RELEASE_MANIFEST))
        return "".join(f"{h}  {n}\n" for h, n in sorted(lines, key=lambda x: x[1]))

    @classmethod
    def from_manifest(cls, text: str) -> Release:
        """Read a release's manifest.json; raise ValueError when it is not one."""
        d = json.loads(text)
        if not isinstance(d, dict) or d.get("format") != FORMAT or not _RELEASE_NAME.match(str(d.get("release"))):
            raise ValueError("not a brief release manifest")
        try:
            files = tuple(
                ReleaseFile(f["file"], f["audience"], f.get("title") or f["audience"],
                            _kind_of(f["file"]), f["sha256"], int(f["bytes"]),
                            f.get("pages"), f["source_hash"], signature=f.get("signature"),
                            role=f.get("role") or "edition")
                for f in d["files"]
            )
            assets = tuple(Asset(a["file"], a["sha256"], int(a["bytes"])) for a in d.get("assets") or [])
            return cls(
                name=d["release"], title=d["title"], organisation=d["organisation"], edition=int(d["edition"]),
                as_of=date.fromisoformat(d["as_of"]), files=files, subtitle=d.get("subtitle"),
                embargo=datetime.fromisoformat(d["embargo"]) if d.get("embargo") else None,
                language=d.get("language") or "en", brief_version=d.get("brief_version") or "", assets=assets,
                changes=d["changes"] if isinstance(d.get("changes"), dict) else None,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"malformed release manifest ({e!r})") from None


def release_name(as_of: date, edition: int) -> str:
    return f"{as_of.isoformat()}-e{edition}"


def versioned_name(built: str, release: str) -> str:
    """'water-council.pdf' in release '2025-03-01-e1' -> 'water-council-2025-03-01-e1.pdf'."""
    p = Path(built)
    return f"{p.stem}-{release}{p.suffix}"


def _kind_of(name: str) -> str:
    return Path(name).suffix.lstrip(".").lower()


def write_release(dist: Path, release: Release) -> Path:
    """Write the release folder dist/<name>/ atomically; return its path.

    Every file's bytes are checked against the sha256 the release names while
    copying. Raises BuildError when the folder exists already or a write fails;
    nothing is left half-written in either case.
    """
    try:
        dist.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file where the folder should be (EEXIST), no permission, read-only...
        raise write_error(dist, e, "create the folder") from e
    final = dist / release.name
    if final.exists():
        raise BuildError(f"{final} exists already; releases are never overwritten")
    tmp = dist / temp_name(release.name)
    try:
        tmp.mkdir()
        for f in release.contents:
            data = source_bytes(f)
            (tmp / f.file).parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(tmp / f.file, data)
        write_bytes_atomic(tmp / RELEASE_MANIFEST, release.manifest_json().encode())
        write_bytes_atomic(tmp / SUMS, release.sums().encode())
        fsync_dir(tmp)
        os.rename(tmp, final)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_error(final, e) from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(dist)
    return final


def source_bytes(f: ReleaseFile | Asset) -> bytes:
    """Return the bytes a release file is written from; BuildError if they are no longer what the build recorded."""
    data = f.data if isinstance(f, Asset) and f.data is not None else f.source.read_bytes() if f.source else b""
    if hashlib.sha256(data).hexdigest() != f.sha256:
        raise BuildError(f"{f.source} changed while publishing (its sha256 no longer matches "
                         f"build/manifest.json); run brief build --all, then publish again")
    return data


def verified_bytes(folder: Path, f: ReleaseFile | Asset) -> bytes:
    """Return a release file's bytes if they are the ones its manifest describes; else raise ValueError saying why."""
    path = folder / f.file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{f.file} is missing") from None
    except OSError as e:
        raise ValueError(f"{f.file} cannot be read ({e.strerror or e})") from None
    if len(data) != f.bytes or hashlib.sha256(data).hexdigest() != f.sha256:
        raise ValueError(f"{f.file} differs from the release's {RELEASE_MANIFEST} (its sha256 does not match: "
                         f"changed after it was published)")
    return data


def release_damage(folder: Path, release: Release) -> list[str]:
    """Say what in a release folder is not as published: files missing or changed, SHA256SUMS not matching."""
    problems: list[str] = []
    for f in release.contents:
        try:
            verified_bytes(folder, f)
        except ValueError as e:
            problems.append(str(e))
    expected = {f.file: f.sha256 for f in release.contents}
    try:
        expected[RELEASE_MANIFEST] = hashlib.sha256((folder / RELEASE_MANIFEST).read_bytes()).hexdigest()
        listed = {name: digest for digest, _, name in
                  (line.partition("  ") for line in (folder / SUMS).read_text(encoding="utf-8").splitlines())}
    except FileNotFoundError:
        problems.append(f"{SUMS} is missing")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{SUMS} cannot be read ({e})")
    else:
        if listed != expected:
            problems.append(f"{SUMS} does not match the files of {RELEASE_MANIFEST}")
    return problems


def read_release(folder: Path) -> Release:
    """Read dist/<name>/manifest.json; raise ValueError when it is missing or malformed."""
    try:
        text = (folder / RELEASE_MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {folder / RELEASE_MANIFEST}: {e}") from None
    release = Release.from_manifest(text)
    if release.name != folder.name:
        raise ValueError(f"{folder / RELEASE_MANIFEST} names release {release.name}, not {folder.name}")
    return release


def list_releases(dist: Path) -> tuple[list[Release], list[str]]:
    """Return the releases in dist, newest first (by as-of date, then edition), and warnings."""
    releases: list[Release] = []
    warnings: list[str] = []
    if not dist.is_dir():
        return releases, warnings
    for entry in sorted(dist.iterdir()):
        if not entry.is_dir() or entry.name.startswith(".") or not _RELEASE_NAME.match(entry.name):
            continue
        try:
            releases.append(read_release(entry))
        except ValueError as e:
            warnings.append(f"{entry}: skipped, not a valid release ({e})")
    releases.sort(key=lambda r: (r.as_of, r.edition), reverse=True)
    return releases, warnings
