"""`brief build --shard I/N` and `brief build --merge`: one build split across machines, then joined.

Each shard builds the work items `brief.output.shard.assign` gives it (editions and recipients'
PDFs) and writes build/.manifest.part-I-of-N.json: what it owns, the records of what it built,
and a digest of the pack it built from. Copy every shard's build/ into one place and `--merge`
checks that the parts are complete, disjoint and from one version of the pack, then writes
build/manifest.json as an unsharded build would have.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.errors import BuildError, WarningsAsErrors
from brief.output.atomic import write_text_atomic
from brief.output.inputs import FORMAT, file_sha256
from brief.output.lock import build_lock
from brief.output.manifest import EditionRecord, Manifest, read_manifest, setting_name, write_manifest
from brief.output.recipient_records import RecipientsRecord, intact, recipient_path
from brief.output.recipients import Body, Plan, body_file, make, owned_recipients
from brief.output.recipients import plan as plan_covers
from brief.output.settings import build_settings
from brief.output.shard import Shard, assign
from brief.templating import builtin_templates

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.output.build import BuildEvent, BuildRequest

PART = re.compile(r"^\.manifest\.part-(\d+)-of-(\d+)\.json$")
PAGE_COST, EDITION_COST = 0.35, 0.6  # expected seconds: a printed page, and an edition's fixed share
PACK_FOLDERS = ("content", "templates", "sources")  # what a part's content version is taken over


def part_name(shard: Shard) -> str:
    """Return the file name of a shard's manifest part, in build/."""
    return f".manifest.part-{shard.index}-of-{shard.count}.json"


def work_items(content: Content, names: list[str]) -> list[tuple[str, float]]:
    """Return every work item of a build of the named editions, with its expected cost in seconds."""
    editions = [(f"edition:{n}", EDITION_COST + PAGE_COST * content.audiences[n].page_budget) for n in names]
    return editions + owned_recipients(content, names)


def content_files(root: Path) -> dict[str, str | None]:
    """Return {relative path: sha256} of every file of the pack a build reads (build/ and hidden files aside)."""
    found: dict[str, str | None] = {}
    for folder in PACK_FOLDERS:
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            rel = path.relative_to(root)
            if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                found[rel.as_posix()] = file_sha256(path)
    return found


def build_shard(root: Path, build_dir: Path, request: BuildRequest) -> Iterator[BuildEvent]:
    """Build this shard's slice of the asked editions and their recipients; write its manifest part."""
    from brief.output import build as b

    shard = request.shard
    assert shard is not None
    with build_lock(build_dir, wait=request.wait, display="build/.brief.lock"):
        yield from b.clean(root, build_dir)
        manifest, problems = read_manifest(build_dir)
        yield from (b.Warned(f"{p}; rebuilding what it cannot vouch for") for p in problems)
        _overlay(manifest, build_dir / part_name(shard))  # what this shard made last time is not made again
        content = b.load(root)
        if request.strict and content.warnings:  # as an unsharded build: nothing written
            raise WarningsAsErrors(content.warnings)
        yield from (b.Warned(str(w), w) for w in content.warnings)
        names = b.choose_editions(sorted(content.audiences), request)
        items = work_items(content, names)
        mine = assign(items, shard)
        covers = plan_covers(content, names, owned=mine.__contains__)
        own = [n for n in names if f"edition:{n}" in mine]
        yield from _editions(content, own, manifest, build_dir, request)
        yield from _recipients(content, covers, manifest, build_dir, request, own)
        write_part(root, build_dir, shard, names, request, items, mine, manifest, covers)


def _editions(content: Content, own: list[str], manifest: Manifest, build_dir: Path,
              request: BuildRequest) -> Iterator[BuildEvent]:
    """Build the editions this shard owns, as an unsharded build would (skipping current ones)."""
    from brief.output import build as b
    from brief.output.documents import jobs, make_documents

    current = {} if request.force else {n: r for n, r in b.current_editions(content.root, manifest, request).items()
                                        if n in own}
    yield from (b.skipped(current[n], build_dir) for n in own if n in current)
    todo = jobs(content.root, [n for n in own if n not in current], manifest, request)
    yield from make_documents(content, {n: j for n, j in todo.items() if not j.prints}, manifest, build_dir)
    yield from b.make_editions(content, [n for n, j in todo.items() if j.prints], manifest, build_dir, request)


def _recipients(content: Content, covers: Plan, manifest: Manifest, build_dir: Path, request: BuildRequest,
                own: list[str]) -> Iterator[BuildEvent]:
    """Make this shard's recipients' PDFs; print the body of an edition it does not own, without writing it."""
    covers.covers = {a: c for a, c in covers.covers.items() if c}
    bodies: dict[str, Body] = {}
    temporary: list[Path] = []
    try:
        for audience in covers.covers:
            record = manifest.editions.get(audience)
            pdf = record.file("pdf") if record and audience in own else None
            if pdf is not None:
                bodies[audience] = Body(build_dir / pdf.path, pdf.pages or 0)
            else:
                body, pages = _print_body(content, audience, request)
                bodies[audience] = Body(body_file(build_dir, audience, body), pages)
                temporary.append(bodies[audience].path)
        yield from make(content, covers, manifest, build_dir, bodies, request.workers, force=request.force)
    finally:
        for path in temporary:
            path.unlink(missing_ok=True)


def _print_body(content: Content, audience: str, request: BuildRequest) -> tuple[bytes, int]:
    """Print an edition's PDF for its recipients' covers, checked like a build's, and return it."""
    from brief.edition.render import render_html
    from brief.edition.tailor import tailor
    from brief.output.build import Warned, check_printed
    from brief.output.printing import print_one, printers

    page = render_html(content, tailor(content, content.audiences[audience]))
    with printers(1) as pool:
        result = pool.submit(print_one, page).result()
    problem = check_printed(page, result, content.audiences[audience].page_budget, request.allow_overflow)
    if problem is not None and not isinstance(problem, Warned):
        raise BuildError(problem)
    return result.pdf, result.pages


def _overlay(manifest: Manifest, part: Path) -> None:
    """Add the records of this shard's previous part to the manifest, so a re-run skips what is current."""
    try:
        data = json.loads(part.read_text(encoding="utf-8"))
        previous = Manifest.from_data(data["manifest"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # no part, or one that cannot be trusted: build everything this shard owns
    manifest.editions.update(previous.editions)
    manifest.recipients.update(previous.recipients)


def write_part(root: Path, build_dir: Path, shard: Shard, names: list[str], request: BuildRequest,
               items: list[tuple[str, float]], mine: set[str], manifest: Manifest, covers: Plan) -> Path:
    """Write build/.manifest.part-I-of-N.json: the shard's items and records, and the pack it built from."""
    owned = Manifest({n: r for n, r in manifest.editions.items() if f"edition:{n}" in mine},
                     {a: RecipientsRecord(r.audience, r.body_sha256, r.inputs, r.settings,
                                          {i: f for i, f in r.files.items() if f"recipient:{a}/{i}" in mine})
                      for a, r in manifest.recipients.items() if a in covers.digests})
    files = content_files(root)
    data = {
        "format": FORMAT, "shard": str(shard), "index": shard.index, "count": shard.count,
        "request": {"audiences": list(request.audiences), "all": request.all},
        "content": {"files": files, "settings": build_settings(), "editions": names},
        "root": str(root), "builtin": str(builtin_templates("editions")),
        "items": sorted(key for key, _ in items), "owned": sorted(mine),
        "covers": {a: {n: d for n, d in sorted(digests.items())} for a, digests in sorted(covers.digests.items())},
        "manifest": owned.to_data(),
    }
    path = build_dir / part_name(shard)
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return path


# ---- merge ------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """A shard's manifest part as read back."""

    index: int
    count: int
    data: dict[str, Any]
    manifest: Manifest

    @property
    def shard(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Merged:
    """What `brief build --merge` joined."""

    parts: int
    editions: tuple[str, ...]
    recipients: int
    manifest: Path


def merge(root: Path, wait: float = 0) -> Merged:
    """Join the shards' manifest parts into build/manifest.json; raise BuildError naming what is wrong."""
    from brief.output.paths import contained_build_dir

    root = Path(root).resolve()
    if not (root / "content").is_dir():
        raise BuildError(f"{root}: no content/ directory here; run brief in a pack directory or pass -C PACK_DIR")
    build_dir = contained_build_dir(root)
    with build_lock(build_dir, wait=wait, display="build/.brief.lock"):
        parts = read_parts(build_dir)
        check_parts(root, parts)
        manifest, _ = read_manifest(build_dir)
        joined = join(root, parts, manifest, build_dir)
        path = write_manifest(build_dir, joined)
        for p in parts:
            (build_dir / part_name(Shard(p.index, p.count))).unlink(missing_ok=True)
    names = tuple(parts[0].data["content"]["editions"])
    return Merged(len(parts), names, sum(len(r.files) for a, r in joined.recipients.items() if a in names), path)


def read_parts(build_dir: Path) -> list[Part]:
    """Read every manifest part in build/; raise BuildError for none, or one that cannot be read."""
    found = sorted((int(m.group(1)), int(m.group(2)), build_dir / m.group(0))
                   for m in (PART.match(n) for n in (os.listdir(build_dir) if build_dir.is_dir() else [])) if m)
    if not found:
        raise BuildError("no manifest parts in build/ (.manifest.part-I-of-N.json): run brief build --shard I/N "
                         "for every shard, copy each shard's build/ here, then merge")
    parts = []
    for index, count, path in found:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = Manifest.from_data(data["manifest"])
            if data["format"] != FORMAT or (data["index"], data["count"]) != (index, count):
                raise ValueError("it names another shard or format")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BuildError(f"build/{path.name}: not a manifest part brief can read ({e}); re-run "
                             f"brief build --shard {index}/{count}") from None
        parts.append(Part(index, count, data, manifest))
    return parts


def check_parts(root: Path, parts: list[Part]) -> None:
    """Refuse parts of different splits or pack versions, a missing shard, an item built twice or by nobody."""
    counts = sorted({p.count for p in parts})
    if len(counts) > 1:
        raise BuildError(f"the parts come from different splits ({', '.join(p.shard for p in parts)}); keep the "
                         "parts of one run (remove the others from build/) and merge again")
    _same_content(root, parts)
    rerun = _command(parts[0])
    missing = sorted(set(range(1, counts[0] + 1)) - {p.index for p in parts})
    if missing:
        shards = ", ".join(f"{i}/{counts[0]}" for i in missing)
        raise BuildError(f"shard{'s' if len(missing) > 1 else ''} {shards} did not report (no build/"
                         f"{part_name(Shard(missing[0], counts[0]))}): run "
                         f"{' and '.join(rerun.format(shard=f'{i}/{counts[0]}') for i in missing)} on this pack, "
                         "copy its build/ here, then merge again; nothing was merged")
    owners: dict[str, list[str]] = {}
    for p in parts:
        for key in p.data["owned"]:
            owners.setdefault(key, []).append(p.shard)
    twice = sorted(k for k, who in owners.items() if len(who) > 1)
    if twice:
        raise BuildError(f"built by more than one shard: {_few(twice)} (by {', '.join(owners[twice[0]])}); "
                         "rebuild with one split and merge again")
    nobody = sorted(set(parts[0].data["items"]) - set(owners))
    if nobody:
        raise BuildError(f"built by no shard: {_few(nobody)}; run the shards again with one split and merge")


def _same_content(root: Path, parts: list[Part]) -> None:
    """Refuse parts built from different versions of the pack (or of brief), naming what differs."""
    base = parts[0]
    here = {"files": content_files(root), "settings": build_settings(), "editions": base.data["content"]["editions"]}
    for other, label in [*((p.data["content"], f"shard {p.shard}") for p in parts[1:]), (here, "this pack")]:
        differ = _differences(base.data["content"], other)
        if differ:
            raise BuildError(f"shard {base.shard} and {label} were built from different versions: {_few(differ)} "
                             "differ; build every shard from the same version of the pack and of brief, then merge "
                             "(nothing was merged)")


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    files = sorted(n for n in set(a["files"]) | set(b["files"]) if a["files"].get(n) != b["files"].get(n))
    settings = sorted(setting_name(k) for k in set(a["settings"]) | set(b["settings"])
                      if a["settings"].get(k) != b["settings"].get(k))
    editions = ["the editions asked for"] if a["editions"] != b["editions"] else []
    return files + settings + editions


def _few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _command(part: Part) -> str:
    request = part.data["request"]
    which = "--all" if request["all"] else " ".join(f"-a {a}" for a in request["audiences"])
    return f"`brief build --shard {{shard}} {which}`"


def join(root: Path, parts: list[Part], manifest: Manifest, build_dir: Path) -> Manifest:
    """Return the manifest with every part's records, paths made this machine's; check each file is here."""
    for p in parts:
        for name, record in p.manifest.editions.items():
            manifest.editions[name] = _local(record, p, root)
    for audience, digests in parts[0].data["covers"].items():
        files = {i: f for p in parts if (r := p.manifest.recipients.get(audience)) for i, f in r.files.items()}
        edition = manifest.editions.get(audience)
        pdf = edition.file("pdf") if edition else None
        manifest.recipients[audience] = RecipientsRecord(audience, pdf.sha256 if pdf else "0" * 64, digests,
                                                         parts[0].data["content"]["settings"], files)
    _check_files(manifest, parts, build_dir)
    return manifest


def _local(record: EditionRecord, part: Part, root: Path) -> EditionRecord:
    """Return the record with the shard machine's paths replaced by this one's (pack and built-in templates)."""
    moves = [(part.data["root"], str(root)), (part.data["builtin"], str(builtin_templates("editions")))]
    paths = {}
    for name, path in record.input_paths.items():
        for old, new in moves:
            if path == old or path.startswith(old.rstrip("/") + "/"):
                path = new + path[len(old):]
                break
        paths[name] = path
    return EditionRecord(record.audience, record.source_hash, record.files, record.inputs, paths, record.settings,
                         record.brief_version, record.title)


def _check_files(manifest: Manifest, parts: list[Part], build_dir: Path) -> None:
    """Refuse to record a file that is not here as its shard built it (a build/ not copied back)."""
    owned = {key: p.shard for p in parts for key in p.data["owned"]}
    for key, shard in sorted(owned.items()):
        kind, _, name = key.partition(":")
        if kind == "edition":
            record = manifest.editions.get(name)
            bad = [f.path for f in record.files if file_sha256(build_dir / f.path) != f.sha256] if record else [name]
        else:
            audience, _, rid = name.partition("/")
            entry = manifest.recipients[audience].files.get(rid) if audience in manifest.recipients else None
            bad = [] if entry is not None and intact(build_dir, entry) else [recipient_path(audience, rid)]
        if bad:
            raise BuildError(f"build/{bad[0]} (from shard {shard}) is missing or differs from what the shard "
                             f"recorded: copy that shard's build/ here, or re-run brief build --shard {shard}, "
                             "then merge again; nothing was merged")

