"""Each recipient's own PDF by mail: who gets which file, checked against the build before anything is sent.

The recipients are content/recipients.csv|yaml (brief.content.recipients). A
recipient whose edition has a cover (its profile's ``cover:``) gets their own
PDF, ``build/<audience>/recipients/<id>.pdf``, which ``brief build`` made and
recorded in build/manifest.json (brief.output.recipient_records); one whose
edition has no cover gets the edition's shared PDF from the release, as a
distribution list does. A personalised PDF that is not in the manifest, differs
from it on disk, or was made from content that changed since, is never sent:
the run stops first and says to build.

``--shard I/N`` keeps the messages whose key hashes to shard I. A hash (not a
balanced assignment) keeps every recipient in the same shard when rows are
added or removed, so each shard's send log stays right for its recipients.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from brief.errors import UsageError
from brief.output.inputs import Input, input_digests
from brief.output.manifest import Manifest, read_manifest
from brief.output.recipient_records import RecipientFile, intact, recipient_path, unchanged
from brief.output.settings import build_settings
from brief.publish.compose import Delivery
from brief.publish.release import Release, ReleaseFile

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.content.recipients import Recipient
    from brief.output.shard import Shard

SHOWN = 10  # problems listed before "and N more"


class Recipients:
    """The recipients' deliveries for a release, made from the pack's recipients and the build's manifest."""

    def __init__(self, content: Content, build_dir: Path):
        self.content = content
        self.build_dir = build_dir
        self._manifest: Manifest | None = None

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = read_manifest(self.build_dir)[0]  # publish has already shown its warnings
        return self._manifest

    def deliveries(self, release: Release, keep: Shard | None = None) -> list[Delivery]:
        """Return a delivery per recipient (in shard `keep`); UsageError when an own PDF is not up to date."""
        out: list[Delivery] = []
        problems: list[str] = []
        for r in self.content.recipients:
            shared = release.pdf(r.audience)
            if shared is None:
                continue
            if self.content.audiences[r.audience].cover is None:
                out.append(_delivery(release, r, shared))
                continue
            if keep is not None and shard_of(f"recipient:{r.audience}/{r.id}", keep.count) != keep.index:
                continue  # not this shard's: its PDF need not be here
            built, why = self._built(r)
            if built is None:
                problems.append(f"build/{recipient_path(r.audience, r.id)}: {why} (recipient {r.id}, "
                                f"{r.file}:{r.line})")
                continue
            out.append(_delivery(release, r, _own_file(shared, r, built, self.build_dir), own=True))
        if not problems:  # each file is as recorded: is it still what the pack makes?
            audiences = sorted({d.audience for d in out if d.recipient})
            problems = [f"build/{a}/recipients/: {stale}" for a in audiences if (stale := self._stale(a))]
        if problems:
            raise UsageError(_not_built(problems, sorted({r.audience for r in self.content.recipients})))
        return out

    def _built(self, r: Recipient) -> tuple[RecipientFile | None, str]:
        """Return the manifest's record of the recipient's PDF, or None and why it cannot be sent."""
        record = self.manifest.recipients.get(r.audience)
        built = record.files.get(r.id) if record else None
        if built is None:
            return None, "not built"
        full = self.build_dir / built.path
        if not _inside(full, self.build_dir):
            return None, "leads outside build/"
        if not full.exists():
            return None, "missing"
        return (built, "") if intact(self.build_dir, built) else (None, "changed since the build")

    def _stale(self, audience: str) -> str | None:
        """Say what changed since an edition's personalised PDFs were made (recipients, covers, edition), or None.

        As the build decides it (brief.output.recipients.covers_current), but without reading the PDFs
        themselves: each was checked on its own, and a shard's machine may hold only its recipients'.
        """
        from brief.edition.render import template_files  # does not import WeasyPrint

        record = self.manifest.recipients[audience]
        root = self.content.root
        paths = {n: root / n for n in record.inputs if n.startswith("content/")}
        paths.update({f"templates/{rel}": p for rel, p in template_files(root).items()})
        now = input_digests(Input(n, p) for n, p in paths.items())
        edition = self.manifest.editions.get(audience)
        body = edition.file("pdf") if edition else None
        if unchanged(replace(record, files={}), now, build_settings(), body.sha256 if body else None, self.build_dir):
            return None
        changed = sorted(n for n in set(now) | set(record.inputs) if now.get(n) != record.inputs.get(n))
        return f"made before {', '.join(changed) or 'the edition or brief'} changed"


def _delivery(release: Release, r: Recipient, file: ReleaseFile, own: bool = False) -> Delivery:
    return Delivery(r.audience, release.name, file, r.name, r.email, r.organisation,
                    recipient=r.id if own else None, salutation=r.salutation, row=f"{r.file}:{r.line}")


def _own_file(shared: ReleaseFile, r: Recipient, built: RecipientFile, build_dir: Path) -> ReleaseFile:
    """Describe the recipient's PDF as the file to attach: named after the release's, with their id."""
    name = f"{PurePosixPath(shared.file).stem}-{r.id}.pdf"
    return ReleaseFile(file=name, audience=r.audience, title=shared.title, kind="pdf", sha256=built.sha256,
                       bytes=built.bytes, pages=built.pages, source_hash=shared.source_hash,
                       source=build_dir / built.path)


def _not_built(problems: list[str], audiences: list[str]) -> str:
    shown = "\n  ".join(problems[:SHOWN]) + (f"\n  and {len(problems) - SHOWN} more" if len(problems) > SHOWN else "")
    n = len(problems)
    return (f"{n} problem{'s' if n != 1 else ''} with the recipients' own PDFs in build/; nothing was sent:\n"
            f"  {shown}\nRun `brief build {' '.join(f'-a {a}' for a in audiences)}` first, then publish --send")


def own_bytes(build_dir: Path, d: Delivery) -> bytes:
    """Read a recipient's PDF (the bytes then sent); ValueError if it is not what the build recorded."""
    path = d.file.source
    assert path is not None  # a recipient's own file always names its source
    shown = f"build/{path.relative_to(build_dir).as_posix()}" if path.is_relative_to(build_dir) else str(path)
    if not _inside(path, build_dir):
        raise ValueError(f"{shown} leads outside build/")
    try:
        with open(path, "rb") as f:
            data = f.read(d.file.bytes + 1)
    except OSError as e:
        raise ValueError(f"{shown} cannot be read ({e.strerror}); run brief build again") from None
    if len(data) != d.file.bytes or hashlib.sha256(data).hexdigest() != d.file.sha256:
        raise ValueError(f"{shown} changed since the build; run brief build again")
    return data


def in_shard(deliveries: Iterable[Delivery], shard: Shard | None) -> list[Delivery]:
    """Keep the deliveries shard I of N sends (all of them without a shard)."""
    if shard is None:
        return list(deliveries)
    return [d for d in deliveries if shard_of(d.key, shard.count) == shard.index]


def shard_of(key: str, count: int) -> int:
    """Return the shard (1-based) that sends the message with this key: a stable hash, never a seed."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % count + 1


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())
