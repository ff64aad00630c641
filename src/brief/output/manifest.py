"""``build/manifest.json``: per edition, the source hash, the inputs and the files written.

A manifest that cannot be trusted (unreadable, hand-edited, files changed on
disk) is never an error: the editions it cannot vouch for are simply rebuilt.
The source hash itself is taken in ``brief.output.inputs``.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from brief import __version__
from brief.output.atomic import write_text_atomic
from brief.output.inputs import FORMAT, Input, file_sha256, input_digests, is_sha256, source_hash
from brief.output.previous import previous_changes
from brief.output.recipient_records import RecipientsRecord
from brief.output.recipient_records import from_json as recipients_from_json
from brief.output.recipient_records import to_json as recipients_json

MANIFEST_NAME = "manifest.json"


# ---- the manifest ---------------------------------------------------------------

@dataclass(frozen=True)
class OutputFile:
    """A file an edition's build wrote, relative to the build directory (POSIX path)."""

    path: str
    sha256: str
    bytes: int
    pages: int | None = None  # PDFs only

    @property
    def kind(self) -> str:
        return Path(self.path).suffix.lstrip(".").lower()


@dataclass(frozen=True)
class EditionRecord:
    """What the manifest knows about one built edition."""

    audience: str
    source_hash: str
    files: tuple[OutputFile, ...]
    inputs: Mapping[str, str | None] = field(default_factory=dict)  # name -> sha256 (None: absent)
    input_paths: Mapping[str, str] = field(default_factory=dict)  # name -> path on this machine
    settings: Mapping[str, str] = field(default_factory=dict)
    brief_version: str = __version__
    title: str | None = None

    def file(self, kind: str) -> OutputFile | None:
        """Return the edition's own output of a kind ("pdf", "html"), if any: in its folder, not a subfolder's."""
        own = [f for f in self.files if f.kind == kind]  # newsroom/ holds a facts sheet's PDF and HTML too
        return next((f for f in own if len(PurePosixPath(f.path).parts) <= 2), own[0] if own else None)


@dataclass
class Manifest:
    editions: dict[str, EditionRecord] = field(default_factory=dict)
    # Personalised PDFs by audience (brief.output.recipient_records); written only when there are any.
    recipients: dict[str, RecipientsRecord] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, ensure_ascii=False) + "\n"

    def to_data(self) -> dict[str, Any]:
        """Return the manifest as JSON data (to_json's, before it is written out)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "brief_version": __version__,
            "editions": {
                a: {
                    "audience": e.audience,
                    "title": e.title,
                    "source_hash": e.source_hash,
                    "brief_version": e.brief_version,
                    "settings": dict(sorted(e.settings.items())),
                    "inputs": [{"name": n, "sha256": e.inputs[n], "path": e.input_paths.get(n)}
                               for n in sorted(e.inputs)],
                    "files": [asdict(f) for f in e.files],
                }
                for a, e in sorted(self.editions.items())
            },
        }
        if self.recipients:
            data["recipients"] = recipients_json(self.recipients)
        return data

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest; raise ValueError (with what is wrong) for anything unexpected."""
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: Any) -> Manifest:
        """Read a manifest already parsed from JSON; raise ValueError (with what is wrong) for anything unexpected."""
        _expect(isinstance(data, dict), "the top level is not an object")
        _expect(data.get("format") == FORMAT, f"unknown format {data.get('format')!r} (expected {FORMAT})")
        editions = data.get("editions")
        _expect(isinstance(editions, dict), "'editions' is not an object")
        out: dict[str, EditionRecord] = {}
        for key, e in editions.items():
            _expect(isinstance(e, dict), f"edition {key!r} is not an object")
            _expect(e.get("audience") == key, f"edition {key!r} names audience {e.get('audience')!r}")
            _expect(is_sha256(e.get("source_hash")), f"edition {key!r} has no valid source_hash")
            files = e.get("files")
            _expect(isinstance(files, list) and len(files) > 0, f"edition {key!r} lists no files")
            outs = []
            for f in files:
                _expect(isinstance(f, dict) and isinstance(f.get("path"), str) and f["path"]
                        and is_sha256(f.get("sha256")) and _is_count(f.get("bytes"))
                        and (f.get("pages") is None or _is_count(f.get("pages"))),
                        f"edition {key!r} has a malformed file entry")
                _expect(_safe_relative(f["path"]), f"edition {key!r} names a file outside the build directory")
                outs.append(OutputFile(f["path"], f["sha256"], f["bytes"], f.get("pages")))
            inputs, paths = {}, {}
            for i in e.get("inputs", []):
                _expect(isinstance(i, dict) and isinstance(i.get("name"), str)
                        and (i.get("sha256") is None or is_sha256(i.get("sha256"))),
                        f"edition {key!r} has a malformed input entry")
                inputs[i["name"]] = i.get("sha256")
                if isinstance(i.get("path"), str):
                    paths[i["name"]] = i["path"]
            settings = e.get("settings", {})
            _expect(isinstance(settings, dict) and all(isinstance(v, str) for v in settings.values()),
                    f"edition {key!r} has malformed settings")
            version = e.get("brief_version", "")
            title = e.get("title")
            _expect(isinstance(version, str) and (title is None or isinstance(title, str)),
                    f"edition {key!r} has a malformed version or title")
            out[key] = EditionRecord(key, e["source_hash"], tuple(outs), inputs, paths, settings, version, title)
        return cls(out, recipients_from_json(data.get("recipients", {})))


def _expect(ok: bool, why: str) -> None:
    if not ok:
        raise ValueError(why)


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _safe_relative(p: str) -> bool:
    parts = Path(p).parts
    return not Path(p).is_absolute() and ".." not in parts and "\\" not in p


def manifest_path(build_dir: Path | str) -> Path:
    return Path(build_dir) / MANIFEST_NAME


def read_manifest(build_dir: Path | str) -> tuple[Manifest, list[str]]:
    """Read build/manifest.json; return (manifest, warnings). Never raises for bad contents.

    A missing manifest is an empty one, silently. An unreadable or malformed one
    is empty, with a warning. An edition whose recorded files are missing or
    differ from disk is dropped, with a warning (it is rebuilt).
    """
    path = manifest_path(build_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest(), []
    except (OSError, UnicodeDecodeError) as e:
        return Manifest(), [f"{path}: cannot read it ({e}); every edition will be rebuilt"]
    try:
        manifest = Manifest.from_json(text)
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        return Manifest(), [f"{path}: not a valid brief manifest ({e}); every edition will be rebuilt"]
    warnings: list[str] = []
    for audience, edition in list(manifest.editions.items()):
        why = _files_differ(edition, Path(build_dir))
        if why:
            del manifest.editions[audience]
            warnings.append(f"{path}: edition '{audience}': {why}; it will be rebuilt")
    return manifest, warnings


def write_manifest(build_dir: Path | str, manifest: Manifest) -> Path:
    """Write build/manifest.json atomically; return its path."""
    path = manifest_path(build_dir)
    write_text_atomic(path, manifest.to_json())
    return path


def output_file(build_dir: Path | str, path: Path | str, pages: int | None = None) -> OutputFile:
    """Describe a file the build wrote (it must exist) for the manifest.

    path may be absolute (inside build_dir), start with build_dir, or be
    relative to build_dir.
    """
    build_dir, path = Path(build_dir), Path(path)
    if path.is_absolute():
        rel = path.resolve().relative_to(build_dir.resolve())
    elif path.is_relative_to(build_dir):  # "build/council/x.pdf" with build_dir "build"
        rel = path.relative_to(build_dir)
    else:  # already relative to the build directory
        rel = path
    full = build_dir / rel
    return OutputFile(rel.as_posix(), file_sha256(full) or "", full.stat().st_size, pages)


def make_edition(
    build_dir: Path | str,
    audience: str,
    inputs: Iterable[Input],
    files: Iterable[Path | str | OutputFile],
    *,
    pages: Mapping[Path | str, int] | None = None,
    settings: Mapping[str, str] | None = None,
    title: str | None = None,
    version: str = __version__,
    digests: Mapping[str, str | None] | None = None,
) -> EditionRecord:
    """Build the manifest record of an edition just written.

    files are the output paths (absolute, or relative to build_dir) or
    OutputFile records; pages maps a file's path (as given) to its page count.
    Pass digests (from input_digests, taken before rendering) so the record
    describes the inputs the edition was made from even if a file is edited
    while it renders; without them the inputs are read now.
    """
    inputs = list(inputs)
    digests = dict(digests) if digests is not None else input_digests(inputs)
    page_counts = {str(k): v for k, v in (pages or {}).items()}
    outs = []
    for f in files:
        if isinstance(f, OutputFile):
            outs.append(f)
        else:
            outs.append(output_file(build_dir, f, page_counts.get(str(f))))
    return EditionRecord(
        audience=audience,
        source_hash=source_hash(digests, version=version, settings=settings),
        files=tuple(sorted(outs, key=lambda o: o.path)),
        inputs=digests,
        input_paths={i.name: str(Path(i.path).absolute()) for i in inputs},  # re-read by publish from any cwd
        settings=dict(settings or {}),
        brief_version=version,
        title=title,
    )


def edition_unchanged(record: EditionRecord, pack_root: Path | str, templates: Mapping[str, Path | str],
                      settings: Mapping[str, str], build_dir: Path | str) -> bool:
    """True when everything the record was made from hashes as recorded and its outputs are intact.

    templates is the current {relative name: path} lookup (pack overrides first): an
    override added or removed since the build changes the edition. Content files are
    the ones recorded; the profile is among them, so the same profile means the same
    files. Build and publish both decide "current" here. Stops at the first change.
    """
    return next(_changes(record, pack_root, templates, settings, build_dir), None) is None


def edition_changes(record: EditionRecord, pack_root: Path | str, templates: Mapping[str, Path | str],
                    settings: Mapping[str, str], build_dir: Path | str) -> list[str]:
    """Name what changed since the record was made (empty exactly when edition_unchanged is True)."""
    return list(_changes(record, pack_root, templates, settings, build_dir))


_SETTING_NAMES = {"brief_code": "brief's code", "weasyprint": "WeasyPrint's version", "pdf_variant": "PDF variant",
                  "word": "the Word converter's version (pandoc, resvg)"}


def setting_name(key: str) -> str:
    """Name a build setting (brief.output.settings) as a reader knows it."""
    return _SETTING_NAMES.get(key, f"build setting {key}")


def _changes(record: EditionRecord, pack_root: Path | str, templates: Mapping[str, Path | str],
             settings: Mapping[str, str], build_dir: Path | str) -> Iterator[str]:
    """Yield what differs between the record and now, cheapest checks first."""
    root = Path(pack_root)
    reported: set[str] = set(previous_changes(record, root))  # a release appeared or went (brief.output.previous)
    yield from sorted(reported)
    now = {f"templates/{rel}": str(Path(p).absolute()) for rel, p in templates.items()}
    was = {k: v for k, v in record.input_paths.items() if k.startswith("templates/")}
    for name in sorted(set(now) | set(was)):
        if now.get(name) != was.get(name):
            reported.add(name)
            yield (f"{name} (new file)" if name not in was else f"{name} (removed)" if name not in now
                   else f"{name} (now read from {_shown(root, now[name])})")
    if record.brief_version != __version__:
        reported.add("version")
        yield f"brief version ({record.brief_version} -> {__version__})"
    for key in sorted(set(settings) | set(record.settings)):
        if settings.get(key) != record.settings.get(key):
            reported.add(key)
            yield setting_name(key)
    digests: dict[str, str | None] = {}
    for name in sorted(record.inputs):
        path = root / name if name.startswith("content/") else record.input_paths.get(name)
        digests[name] = file_sha256(path) if path else None
        if digests[name] != record.inputs[name] and name not in reported:
            reported.add(name)
            yield name
    if not reported and source_hash(digests, settings=settings) != record.source_hash:
        yield "its source hash in build/manifest.json (edited by hand?)"
        return
    why = _files_differ(record, Path(build_dir))
    if why:
        yield why


def _shown(root: Path, path: str) -> str:
    try:
        return Path(path).relative_to(root.absolute()).as_posix()
    except ValueError:
        return path


def _files_differ(edition: EditionRecord, build_dir: Path) -> str | None:
    for f in edition.files:
        full = build_dir / f.path
        try:
            size = full.stat().st_size
        except OSError:
            return f"{f.path} is missing"
        if size != f.bytes or file_sha256(full) != f.sha256:
            return f"{f.path} differs from the manifest (changed since it was built)"
    return None
