"""Personalised PDFs: each recipient's cover, printed alone, joined to the edition's body printed once.

The stage has two halves. `plan` renders every cover's HTML before anything is written, so a cover
template error stops the build with nothing built. `make` then prints, in a pool of workers that
are recycled as they age, only the covers whose HTML, stylesheet, body or code changed; each
worker joins its cover to the body (brief.output.assemble) and writes the file atomically.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from brief.errors import BuildError
from brief.output.atomic import fsync_dir, temp_name, write_bytes_atomic
from brief.output.inputs import Input, file_sha256, input_digests
from brief.output.recipient_records import (
    FOLDER,
    CoverStyle,
    RecipientFile,
    RecipientsRecord,
    digest,
    intact,
    recipient_path,
    unchanged,
)
from brief.output.settings import build_settings

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.output.build import BuildEvent, BuildRequest
    from brief.output.manifest import Manifest

STYLESHEET = "cover.css"  # the one every cover prints with; a pack may override it in templates/
COVER_COST = 0.05  # expected seconds to print a cover and join it (brief.output.sharding.work_items)
RECYCLE = 300  # covers a worker prints before a fresh one takes over: WeasyPrint workers grow with use
CHUNK = 4  # covers sent to a worker at a time


@dataclass(frozen=True)
class Personalised:
    """An edition's personalised PDFs are on disk: how many were printed, left as they were, or removed."""

    audience: str
    folder: Path
    built: int
    skipped: int
    removed: int = 0
    files: tuple[RecipientFile, ...] = ()


@dataclass(frozen=True)
class Body:
    """An edition's PDF that covers are joined to, and its page count."""

    path: Path
    pages: int


@dataclass(frozen=True)
class Job:
    """One recipient's PDF to make, in a worker."""

    id: str
    html: str
    target: Path
    path: str  # the target relative to build/, as the manifest records it
    body: Path
    body_sha256: str
    style: CoverStyle
    bookmark: str
    pages: int
    source_hash: str


@dataclass
class Plan:
    """Covers rendered for the editions that have them: {audience: {recipient id: HTML}}, and their inputs."""

    names: list[str] = field(default_factory=list)  # the editions asked for, with a cover or not
    covers: dict[str, dict[str, str]] = field(default_factory=dict)
    bookmarks: dict[str, dict[str, str]] = field(default_factory=dict)
    digests: dict[str, dict[str, str | None]] = field(default_factory=dict)


def inputs_of(content: Content, audience: str, templates: dict[str, Path]) -> dict[str, str | None]:
    """Return the digests of every file an edition's covers may be made from (decides the no-op skip)."""
    root = content.root
    names = ["content/recipients.csv", "content/recipients.yaml", "content/recipient_notes.yaml",
             "content/pack.yaml", "content/sources.yaml", "content/vocabulary.yaml",
             f"content/audiences/{audience}.yaml"]
    found = [Input(n, root / n) for n in names]
    found += [Input(f"templates/{rel}", path) for rel, path in templates.items()]
    return input_digests(found)


def plan(content: Content, names: list[str], owned: Callable[[str], bool] = lambda key: True) -> Plan:
    """Render the covers of the named editions' recipients (those owned) before anything is written."""
    from brief.edition.covers import recipients_of, render_covers
    from brief.edition.render import environment, template_files

    result = Plan(list(names))
    templates = template_files(content.root)
    env = None
    for name in names:
        if content.audiences[name].cover is None:
            continue
        env = env or environment(content)
        listed = recipients_of(content, name)
        keep = {r.id for r in listed if owned(f"recipient:{name}/{r.id}")}
        result.covers[name] = {i: html for i, html in render_covers(content, name, env).items() if i in keep}
        result.bookmarks[name] = {r.id: f"Cover: {r.organisation}" for r in listed}
        result.digests[name] = inputs_of(content, name, templates)
    return result


def style_digest(style: CoverStyle) -> str:
    """Return a digest of the cover stylesheet and the fonts it can load."""
    names = sorted(n for n in style.assets if n == style.stylesheet or n.startswith("fonts/"))
    return digest(*(f"{n}\0{file_sha256(style.assets[n])}" for n in names))


def make(content: Content, cover_plan: Plan, manifest: Manifest, build_dir: Path, bodies: dict[str, Body],
         workers: int | None = None, pool: ProcessPoolExecutor | None = None,
         force: bool = False) -> Iterator[BuildEvent]:
    """Print the planned covers that changed (every one, with force), join each to its body, write and record them."""
    from brief.edition.render import assets

    if force:  # --force prints every cover again too
        manifest.recipients = {a: r for a, r in manifest.recipients.items() if a not in cover_plan.covers}
    served = assets(content.root)
    for audience, covers in cover_plan.covers.items():
        style = CoverStyle(STYLESHEET, (build_dir / audience).resolve(), served, content.root.resolve())
        body = bodies[audience]
        body_sha = file_sha256(body.path) or ""
        old = manifest.recipients.get(audience)
        listed = {r.id for r in content.recipients if r.audience == audience}
        jobs, kept = _jobs(cover_plan, audience, style, body, body_sha, old, build_dir)
        removed = _remove_stale(build_dir, old, listed)
        made, failures = yield from _print(audience, jobs, workers, pool)
        files = {**_others(old, covers, listed), **kept, **made}
        record = RecipientsRecord(audience, body_sha, cover_plan.digests[audience], build_settings(), files)
        manifest.recipients[audience] = record  # what was written is recorded, failures or not
        if failures:
            shown = failures[:10] + ([f"... and {len(failures) - 10} more"] if len(failures) > 10 else [])
            raise BuildError("\n".join(shown))
        if made or kept or removed:  # an edition with a cover but nobody listed for it yet: nothing to say
            yield Personalised(audience, build_dir / audience / FOLDER, len(made), len(kept), removed,
                               tuple(record.files.values()))


def _jobs(cover_plan: Plan, audience: str, style: CoverStyle, body: Body, body_sha: str,
          old: RecipientsRecord | None, build_dir: Path) -> tuple[list[Job], dict[str, RecipientFile]]:
    """Return the recipients to make, and the records of those whose file is current."""
    pages = body.pages + 1
    settings = build_settings()
    base = digest(style_digest(style), body_sha, *(f"{k}\0{v}" for k, v in sorted(settings.items())))
    jobs, kept = [], {}
    for rid, html in cover_plan.covers[audience].items():
        source = digest(base, html)
        known = old.files.get(rid) if old else None
        if known is not None and known.source_hash == source and intact(build_dir, known):
            kept[rid] = known
            continue
        path = recipient_path(audience, rid)
        jobs.append(Job(rid, html, build_dir / path, path, body.path, body_sha, style,
                        cover_plan.bookmarks[audience][rid], pages, source))
    return jobs, kept


def _others(old: RecipientsRecord | None, covers: dict[str, str], listed: set[str]) -> dict[str, RecipientFile]:
    """Keep the records of recipients this run does not handle (another shard's) while they are still listed."""
    return {rid: f for rid, f in (old.files.items() if old else ()) if rid in listed and rid not in covers}


def _remove_stale(build_dir: Path, old: RecipientsRecord | None, listed: set[str]) -> int:
    """Delete the PDFs of recipients no longer listed; return how many."""
    gone = [f for rid, f in (old.files.items() if old else ()) if rid not in listed]
    for f in gone:
        (build_dir / f.path).unlink(missing_ok=True)
    return len(gone)


def _print(audience: str, jobs: list[Job], workers: int | None, warm: ProcessPoolExecutor | None = None
           ) -> Generator[BuildEvent, None, tuple[dict[str, RecipientFile], list[str]]]:
    """Make the jobs in batches of fresh workers, yielding progress; return {id: file} and why others failed.

    A pool makes RECYCLE recipients a worker, then fresh workers take over: WeasyPrint workers grow
    with use. The pools are the edition printers' (forked from this thread, so they die with it);
    a few covers go to the warm pool that printed the editions, when there is one.
    """
    from concurrent.futures import as_completed

    from brief.output.build import Progress

    made: dict[str, RecipientFile] = {}
    failures: list[str] = []
    what = f"{audience}: personalised PDFs"
    if jobs:
        jobs[0].target.parent.mkdir(parents=True, exist_ok=True)
        yield Progress(what, 0, len(jobs))
    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    batches = -(-len(jobs) // (RECYCLE * n))  # as few pools as recycling allows, evenly filled
    for batch in (jobs[i::batches] for i in range(batches)):
        with _warm_or_fresh(warm if batches == 1 else None, n) as pool:
            futures = [pool.submit(make_batch, batch[i:i + CHUNK]) for i in range(0, len(batch), CHUNK)]
            for future in as_completed(futures):
                for result in _results(future):
                    if isinstance(result, str):
                        failures.append(result)
                    else:
                        made[result.id] = result
                yield Progress(what, len(made) + len(failures), len(jobs))
        fsync_dir(jobs[0].target.parent)
    return made, failures


@contextmanager
def _warm_or_fresh(warm: ProcessPoolExecutor | None, n: int) -> Iterator[ProcessPoolExecutor]:
    """Yield the warm pool as it is (its owner shuts it down), or a fresh pool of n printers."""
    from brief.output.printing import printers

    if warm is not None:
        yield warm
        return
    with printers(n) as pool:
        yield pool


def _results(future: Future) -> list[RecipientFile | str]:
    try:
        return future.result()
    except Exception as e:  # a worker killed (out of memory?) fails its recipients, never the run with a traceback
        return [f"a print worker failed: {type(e).__name__}: {e}"]


def make_batch(jobs: list[Job]) -> list[RecipientFile | str]:
    """Make a few recipients' PDFs in a worker (fewer round trips than one at a time)."""
    return [make_one(job) for job in jobs]


_body: dict[str, bytes] = {}  # the body PDF a worker joins covers to, by sha256: read once per worker


def make_one(job: Job) -> RecipientFile | str:
    """Print a cover, join it to the body and write the file (in a worker); return its record or why it failed."""
    from brief.output.assemble import assemble
    from brief.output.coverpdf import print_cover

    label = job.path.removesuffix(".pdf")
    try:
        if job.body_sha256 not in _body:
            _body.clear()
            _body[job.body_sha256] = job.body.read_bytes()
        cover = print_cover(job.html, job.style, label)
        pdf = assemble(cover, _body[job.body_sha256], job.bookmark, label)
        write_bytes_atomic(job.target, pdf, sync_dir=False)  # the folder is synced once, after the batch
    except BuildError as e:
        return e.message
    except Exception as e:  # a crash in a worker fails this recipient, never the run with a traceback
        return f"{label}: {type(e).__name__}: {e}"
    return RecipientFile(job.id, job.source_hash, job.path, hashlib.sha256(pdf).hexdigest(), len(pdf), job.pages)


def body_file(build_dir: Path, audience: str, pdf: bytes) -> Path:
    """Write a body PDF this run does not own to a hidden temporary file the workers read (removed after)."""
    folder = build_dir / audience
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / temp_name("body.pdf")
    write_bytes_atomic(path, pdf)
    return path


def owned_recipients(content: Content, names: list[str]) -> list[tuple[str, float]]:
    """Return the work items of the named editions' recipients, with their expected cost."""
    from brief.edition.covers import recipients_of

    return [(f"recipient:{name}/{r.id}", COVER_COST) for name in names for r in recipients_of(content, name)]



def covers_current(root: Path, manifest: Manifest, names: list[str], build_dir: Path) -> bool:
    """True when no named edition's personalised PDFs need making (checked without parsing the pack).

    Called only for editions whose own inputs are unchanged, so a profile without a record had no
    cover when last built and still has none; one that failed half-way has a cover but no record.
    """
    from brief.edition.render import template_files

    templates = None
    for name in names:
        record = manifest.recipients.get(name)
        if record is None:
            if _has_cover(root, name):
                return False
            continue
        templates = templates if templates is not None else template_files(root)
        edition = manifest.editions.get(name)
        body = edition.file("pdf") if edition else None
        paths = {n: root / n for n in record.inputs if n.startswith("content/")}
        paths.update({f"templates/{rel}": p for rel, p in templates.items()})
        digests = input_digests(Input(n, p) for n, p in paths.items())
        if not unchanged(record, digests, build_settings(), body.sha256 if body else None, build_dir):
            return False
    return True


def _has_cover(root: Path, name: str) -> bool:
    """Tell, from its text alone (a no-op build parses nothing), whether a profile may have a cover: key."""
    try:
        text = (root / "content" / "audiences" / f"{name}.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True  # let the full build say what is wrong
    # When in doubt, yes: a key written any way, or a profile written as one flow mapping.
    return bool(re.search(r"""^\s*["']?cover["']?\s*:""", text, re.M)) or text.lstrip().startswith("{")


def make_covers(content: Content, cover_plan: Plan, manifest: Manifest, build_dir: Path,
                request: BuildRequest, pool: ProcessPoolExecutor | None = None) -> Iterator[BuildEvent]:
    """Make the planned personalised PDFs, joined to each edition's PDF as just built or kept."""
    from brief.output.build import Warned

    yield from _uncovered(cover_plan, manifest, build_dir)
    bodies: dict[str, Body] = {}
    for name in list(cover_plan.covers):
        edition = manifest.editions.get(name)
        pdf = edition.file("pdf") if edition else None
        if pdf is None:
            del cover_plan.covers[name]
            yield Warned(f"{name}: no PDF of the edition was built, so no personalised PDFs either "
                         "(build it with --format pdf)")
            continue
        bodies[name] = Body(build_dir / pdf.path, pdf.pages or 0)
    yield from make(content, cover_plan, manifest, build_dir, bodies, request.workers, pool, request.force)


def _uncovered(cover_plan: Plan, manifest: Manifest, build_dir: Path) -> Iterator[BuildEvent]:
    """Remove the personalised PDFs of asked editions whose profile no longer has a cover."""
    for name in cover_plan.names:
        record = manifest.recipients.get(name)
        if name in cover_plan.covers or record is None:
            continue
        removed = _remove_stale(build_dir, record, set())
        del manifest.recipients[name]
        yield Personalised(name, build_dir / name / FOLDER, 0, 0, removed)
