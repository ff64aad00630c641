"""`brief publish`: turn the built editions into a versioned release, then send it.

The steps, each safe to repeat from a scheduler:

1. load and validate the pack; read build/manifest.json and check that every
   audience's edition is built and up to date (else: run `brief build --all`);
2. hold the release while the pack's embargo is in the future (unless
   --ignore-embargo): nothing is written or sent;
3. write build/dist/<as_of>-e<edition>/ atomically, unless a release with the
   same content exists (then there is nothing new to publish, unless its files
   no longer match its manifest: then it is damaged, an error);
4. regenerate build/dist/index.html and build/dist/feed.xml;
5. with --send, run the publishers (chosen by name from PUBLISHERS) on the release.

The logic yields PublishEvents and raises BriefErrors; brief.commands.publish prints.
"""
from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from brief.errors import NOTHING_TO_DO, BriefError, ContentError, Problem, SendError, UsageError
from brief.output.atomic import cleanup_leftovers, write_text_atomic
from brief.output.lock import build_lock
from brief.output.manifest import Manifest, edition_changes, edition_unchanged, manifest_path, read_manifest
from brief.output.paths import contained_build_dir
from brief.publish.feed import FEED, INDEX, render_feed, render_index
from brief.publish.newsroom import is_newsroom, newsroom_file
from brief.publish.publishers import PUBLISHERS, Clock, PublishContext, Publisher, PublishEvent, Step
from brief.publish.release import (
    RELEASE_MANIFEST,
    RESERVED,
    SUMS,
    Asset,
    Release,
    ReleaseFile,
    list_releases,
    read_release,
    release_damage,
    release_name,
    versioned_name,
)
from brief.publish.sign import Signer, load_signer, planned, sign_and_write, unsigned_notice
from brief.publish.snapshots import with_snapshot

if TYPE_CHECKING:
    from brief.content.load import Content


def utcnow() -> datetime:
    """Return the time now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class PublishRequest:
    """What the user asked publishing to do."""

    send: bool = False
    dry_run: bool = False
    ignore_embargo: bool = False
    wait: float = 0
    now: Clock = utcnow
    env: Mapping[str, str] | None = None
    publishers: tuple[str, ...] = ("email",)  # run with --send, by name from PUBLISHERS
    publisher_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sign: bool = False  # sign each PDF of a new release (BRIEF_SIGN_*, brief.publish.sign)


@dataclass
class Summary:
    """What a publish run did, for --json and the exit code."""

    status: str = "error"  # "published", "unchanged", "held", "error"
    release: str | None = None
    release_dir: str | None = None
    embargo: str | None = None
    dry_run: bool = False
    written: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    exit_code: int = 1

    def note(self, e: PublishEvent) -> None:
        """Count one event in the summary."""
        if e.kind == Step.WRITE:
            self.written.append(e.data.get("path", e.message))
        elif e.kind in (Step.SENT, Step.SEND):
            self.sent.append(dict(e.data))
        elif e.kind == Step.SKIP:
            self.skipped.append(e.message)
        elif e.is_warning:
            self.warnings.append(e.message)


def publish(pack: Path | str, request: PublishRequest, summary: Summary) -> Iterator[PublishEvent]:
    """Publish the pack's built editions; yield what happens; fill summary (status, exit_code)."""
    from brief.edition.checks import load_pack

    summary.dry_run = request.dry_run
    root = Path(pack)
    content = load_pack(root)
    build_dir = root / "build"
    if not manifest_path(build_dir).exists():
        raise UsageError(f"nothing is built yet ({_show(root, manifest_path(build_dir))} is missing); "
                         f"run `brief build --all` first, then publish")
    if request.dry_run:
        yield from _publish(content, root, request, summary)
        return
    contained_build_dir(root)  # a symlink out of build/ would publish elsewhere: refuse before writing
    with build_lock(build_dir, wait=request.wait, display=_show(root, build_dir / ".brief.lock")):
        for leftover in cleanup_leftovers(build_dir, recursive=True):
            yield PublishEvent(Step.CLEAN, f"removed {_show(root, leftover)}, left by an interrupted run")
        yield from _publish(content, root, request, summary)


def _publish(content: Content, root: Path, request: PublishRequest, summary: Summary) -> Iterator[PublishEvent]:
    """Run the steps: check the build, respect the embargo, write the release and listing, send."""
    build_dir, dist = root / "build", root / "build" / "dist"
    base_url = _base_url(request.env)
    manifest, warnings = read_manifest(build_dir)
    yield from (PublishEvent(Step.WARNING, w) for w in warnings)
    release = _release_from_build(content, root, build_dir, manifest)
    release, notes = with_snapshot(content, root, release)  # the content it is made from, and what is new
    yield from (PublishEvent(Step.WARNING, n) for n in notes)
    summary.release = release.name
    summary.embargo = content.pack.embargo.isoformat() if content.pack.embargo else None
    if (yield from _embargo(content, request, summary)):
        return
    publishers = _publishers(content, build_dir, dist / release.name, request)
    for p in publishers:
        yield from p.preflight(release)
    for p in publishers:  # refuse bad settings before anything is written
        p.check(release)
    signer = load_signer(os.environ if request.env is None else request.env, request.now) if request.sign else None
    release, damaged, changed = yield from _place(root, dist, release, request.dry_run, summary, signer)
    summary.release_dir = str(dist / release.name)
    yield from _write_listing(root, dist, release if request.dry_run and changed else None, content,
                              request.dry_run, base_url)
    sent = yield from _send(publishers, release, request.dry_run, damaged)
    if damaged:
        raise BriefError(damaged)
    summary.exit_code = 0 if changed or sent else NOTHING_TO_DO


def _embargo(content: Content, request: PublishRequest, summary: Summary) -> Generator[PublishEvent, None, bool]:
    """Return True (after saying so) when the embargo holds the release back."""
    pack, moment = content.pack, request.now()
    if pack.embargo is None or moment >= pack.embargo:
        return False
    if request.ignore_embargo:
        yield PublishEvent(Step.WARNING,
                           f"publishing before the embargo ({_when(pack.embargo)}) because of --ignore-embargo")
        return False
    summary.status, summary.exit_code = "held", NOTHING_TO_DO
    yield PublishEvent(Step.HELD, f"edition {pack.edition} is under embargo until {_when(pack.embargo)}, "
                       f"{_delta(pack.embargo - moment)} from now; nothing was published or sent. The first run "
                       f"after that will publish it (or pass --ignore-embargo to publish now)",
                       {"embargo": pack.embargo.isoformat()})
    return True


def _publishers(content: Content, build_dir: Path, release_dir: Path, request: PublishRequest) -> list[Publisher]:
    """Make the publishers asked for by name, each with the same context."""
    if not request.send:
        return []
    context = PublishContext(content, build_dir, release_dir, request.env, request.now)
    unknown = [name for name in request.publishers if name not in PUBLISHERS]
    if unknown:
        raise UsageError(f"unknown publisher {', '.join(unknown)}; known: {', '.join(PUBLISHERS)}")
    return [PUBLISHERS[name](context, request.publisher_options.get(name, {})) for name in request.publishers]


def _place(root: Path, dist: Path, release: Release, dry_run: bool, summary: Summary,
           signer: Signer | None = None) -> Generator[PublishEvent, None, tuple[Release, str | None, bool]]:
    """Write the release folder unless it exists with this content; return (release, damage, changed)."""
    folder = dist / release.name
    if folder.exists():
        existing = _existing(root, folder, release)
        damage = release_damage(folder, existing)
        if damage:
            return existing, _damaged(root, folder, damage), False
        summary.status = "unchanged"
        yield PublishEvent(Step.SKIP, f"release {release.name} is already published with this content; nothing new "
                           f"to publish", {"release": release.name})
        yield from unsigned_notice(existing, signer)
        return existing, None, False
    summary.status = "published"
    if dry_run:
        for name in (*(f.file for f in release.contents), RELEASE_MANIFEST, SUMS):
            yield PublishEvent(Step.WRITE, f"would write {_show(root, folder / name)}", {"path": str(folder / name)})
        yield from planned(release, signer) if signer else ()
    else:  # with a signer, the PDFs are signed in a temporary folder first, then written in the one rename
        release = yield from sign_and_write(dist, release, signer)
        yield PublishEvent(Step.WRITE, f"wrote release {_show(root, folder)}/ "
                           f"({len(release.files) + len(release.assets)} files and {SUMS})", {"path": str(folder)})
    return release, None, True


def _existing(root: Path, folder: Path, release: Release) -> Release:
    """Read the release already in the folder; refuse one with other content under the same name."""
    try:
        existing = read_release(folder)
    except ValueError as e:
        raise BriefError(f"{_show(root, folder)} exists but is not a valid release ({e}); move it out of "
                         f"build/dist/ and publish again") from None
    if existing.source_hashes != release.source_hashes:
        raise ContentError([_edition_clash(root, release, existing)],
                           summary="nothing was published; the existing release is never overwritten")
    return existing


def _damaged(root: Path, folder: Path, damage: list[str]) -> str:
    return (f"{_show(root, folder)}/ is damaged: {'; '.join(damage)}. It is no longer what was "
            f"published, and no changed file is ever sent. Delete the folder (rm -r "
            f"{_show(root, folder)}) and run brief publish again: it is written afresh from the build, "
            f"which has the same content")


def _send(publishers: list[Publisher], release: Release, dry_run: bool,
          damaged: str | None) -> Generator[PublishEvent, None, bool]:
    """Run each publisher on the release; return whether anything was (or would be) sent."""
    sent = False
    try:
        for p in publishers:  # they check every file against the release before sending it
            for event in p.publish(release, dry_run=dry_run):
                sent = sent or event.kind in (Step.SENT, Step.SEND)
                yield event
    except SendError as e:
        raise SendError(f"{e.message}\n{damaged}" if damaged else e.message) from None
    return sent


def _write_listing(root: Path, dist: Path, planned: Release | None, content, dry_run: bool,
                   base_url: str | None) -> Iterator[PublishEvent]:
    """Regenerate index.html and feed.xml; write each only when its bytes change."""
    releases, warnings = list_releases(dist)
    for w in warnings:
        yield PublishEvent(Step.WARNING, w)
    if planned is not None:
        releases = sorted([*releases, planned], key=lambda r: (r.as_of, r.edition), reverse=True)
    pack = content.pack
    pages = {
        INDEX: render_index(releases, title=pack.title, organisation=pack.organisation, language=pack.language),
        FEED: render_feed(releases, title=pack.title, organisation=pack.organisation, language=pack.language,
                          base_url=base_url),
    }
    for name, text in pages.items():
        path = dist / name
        try:
            same = path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if same:
            continue
        if dry_run:
            yield PublishEvent(Step.WRITE, f"would write {_show(root, path)}", {"path": str(path)})
        else:
            write_text_atomic(path, text)
            yield PublishEvent(Step.WRITE, f"wrote {_show(root, path)}", {"path": str(path)})


def _base_url(env: Mapping[str, str] | None) -> str | None:
    """BRIEF_PUBLISH_URL: where build/dist/ is served, for absolute links in the feed (optional)."""
    url = ((os.environ if env is None else env).get("BRIEF_PUBLISH_URL") or "").strip() or None
    if url is not None and (not url.startswith(("https://", "http://")) or any(c in url for c in ' "<>\r\n')):
        raise UsageError(f"BRIEF_PUBLISH_URL={url!r} must be an http(s) URL (where build/dist/ is served), "
                         f"e.g. https://briefs.example.org/water/")
    return url


def _release_from_build(content: Content, root: Path, build_dir: Path, manifest: Manifest) -> Release:
    """Describe the release the current build makes; UsageError when an edition is missing or stale."""
    from brief.edition.render import template_files
    from brief.output.settings import build_settings  # neither imports WeasyPrint

    pack = content.pack
    name = release_name(pack.as_of, pack.edition)
    templates, settings = template_files(root), build_settings()  # what the build would use now
    missing, stale = [], []
    files: list[ReleaseFile] = []
    assets: dict[str, Asset] = {}
    clashes: list[str] = []
    for audience in sorted(content.audiences):
        profile = content.audiences[audience]
        edition = manifest.editions.get(audience)
        if edition is None or edition.file("pdf") is None:
            missing.append(audience)
            continue
        if not edition_unchanged(edition, root, templates, settings, build_dir):  # the build's own test
            changed = edition_changes(edition, root, templates, settings, build_dir)
            stale.append(f"{audience} ({', '.join(changed) or 'inputs changed'})")
            continue
        main = [f for f in (edition.file("pdf"), edition.file("html")) if f is not None]
        home = PurePosixPath(main[0].path).parent  # build/<audience>/: the HTML's links are relative to it
        for out in main:
            files.append(ReleaseFile(
                file=versioned_name(Path(out.path).name, name), audience=audience, title=profile.title,
                kind=out.kind, sha256=out.sha256, bytes=out.bytes, pages=out.pages,
                source_hash=edition.source_hash, source=build_dir / out.path))
        # Everything else the build recorded (stylesheets, fonts) goes in at the same relative path,
        # once, so each HTML edition's links work inside the release folder too.
        for out in edition.files:
            if out in main or not PurePosixPath(out.path).is_relative_to(home):
                continue
            rel = PurePosixPath(out.path).relative_to(home).as_posix()
            if is_newsroom(rel):  # a journalist's file: listed and versioned like the edition's own
                files.append(newsroom_file(out, rel, name, audience, profile.title, edition.source_hash, build_dir))
                continue
            known = assets.get(rel)
            if rel in RESERVED or (known is not None and known.sha256 != out.sha256):
                clashes.append(rel)
            elif known is None:
                assets[rel] = Asset(rel, out.sha256, out.bytes, build_dir / out.path)
    if missing or stale:
        parts = []
        if missing:
            parts.append(f"not built: {', '.join(missing)}")
        if stale:
            parts.append(f"changed since the build: {'; '.join(stale)}")
        raise UsageError(f"the editions in build/ are not up to date ({'; '.join(parts)}); "
                         f"run `brief build --all` first, then publish")
    names = [f.file for f in files] + list(assets) + clashes
    dup = sorted({n for n in names if names.count(n) > 1} | {n for n in clashes})
    if dup:
        raise UsageError(f"two different files would be published as {dup[0]} (two editions, or a name the "
                         f"release uses itself); give each edition's output its own name")
    return Release(name=name, title=pack.title, organisation=pack.organisation, edition=pack.edition,
                   as_of=pack.as_of,
                   files=tuple(sorted(files, key=lambda f: (f.audience, f.role != "edition", f.kind != "pdf", f.kind))),
                   subtitle=pack.subtitle, embargo=pack.embargo, language=pack.language,
                   assets=tuple(sorted(assets.values(), key=lambda a: a.file)))


def _edition_clash(root: Path, release: Release, existing: Release) -> Problem:
    from brief.content.yamlload import load as load_yaml

    doc, _ = load_yaml(root / "content" / "pack.yaml", "content/pack.yaml")
    changed = sorted(a for a in set(release.source_hashes) | set(existing.source_hashes)
                     if release.source_hashes.get(a) != existing.source_hashes.get(a))
    message = (f"edition {release.edition} as of {release.as_of.isoformat()} was already published in "
               f"build/dist/{release.name}/ with different content (editions that differ: {', '.join(changed)}); "
               f"raise 'edition:' (or 'as_of:') to publish the change as a new release")
    if doc is None:
        return Problem("content/pack.yaml", None, None, "edition", message)
    return doc.problem(("edition",), message)


def _show(root: Path, path: Path) -> str:
    """Name a path relative to the pack directory, as users see it (build/dist/...)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _when(t: datetime) -> str:
    utc = t.astimezone(UTC)
    local = t.isoformat(sep=" ", timespec="minutes")
    return local if t.utcoffset() == UTC.utcoffset(None) else f"{local} ({utc:%Y-%m-%d %H:%M} UTC)"


def _delta(d) -> str:
    minutes = max(1, int(d.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} min")
    return " ".join(parts)
