"""Record what each built edition was made from, so unchanged editions are not rebuilt.

An edition's *source hash* is a sha256 over everything it is made from: the
content files it uses (chosen by its profile's sections, see SECTION_FILES), its
profile, the template and font files the build used, brief's version, and any
build settings that change the output. Each input is named by a path that is
the same on every machine ("content/pack.yaml", "templates/congress.html.j2",
"templates/fonts/Inter-Regular.otf"), and the hash covers names and bytes only, sorted:
never modification times, absolute paths or clocks.

``build/manifest.json`` keeps, per edition, the source hash, the inputs and the
files written (sha256, bytes, pages). A manifest that cannot be trusted
(unreadable, hand-edited, files changed on disk) is never an error: the
editions it cannot vouch for are simply rebuilt.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Mapping

from brief import __version__
from brief.atomic import write_text_atomic

MANIFEST_NAME = "manifest.json"
FORMAT = 1

# Content files every edition uses.
ALWAYS = ("content/pack.yaml", "content/sources.yaml")

# Which content files each section kind reads (pack.yaml and the profile are always inputs).
SECTION_FILES: Mapping[str, tuple[str, ...]] = {
    "bottom_line": (),
    "assessments": ("content/assessments.yaml",),
    "changes": ("content/versions.yaml",),
    "scope": ("content/versions.yaml",),
    "provisions": ("content/versions.yaml",),
    "stakeholders": ("content/stakeholders.yaml",),
    "timeline": ("content/timeline.yaml", "content/versions.yaml"),
    "figures": ("content/figures.yaml",),
    "recommendations": ("content/recommendations.yaml",),
    "questions": ("content/questions.yaml",),
    "glossary": ("content/glossary.yaml",),
    "contacts": (),
    "sources": (),
}


@dataclass(frozen=True)
class Input:
    """One file an edition is made from: a machine-independent name and where it is here."""

    name: str
    path: Path


def profile_name(audience: str) -> str:
    return f"content/audiences/{audience}.yaml"


def content_files(audience: str, section_kinds: Iterable[str]) -> list[str]:
    """Return the content file names an edition with these sections is made from, sorted.

    Unknown section kinds raise KeyError: the loader rejects them first, and a
    new kind must be added to SECTION_FILES before it can be hashed.
    """
    names = set(ALWAYS) | {profile_name(audience)}
    for kind in section_kinds:
        names.update(SECTION_FILES[kind])
    return sorted(names)


def edition_inputs(pack_root: Path | str, profile: Any, *, templates: Mapping[str, Path | str]) -> list[Input]:
    """Return every input of one edition, sorted by name.

    profile is the edition's ``model.Audience`` (its ``name`` and ``sections``
    are used). templates is the {relative name: path} lookup rendering uses
    (``brief.render.template_files``: the pack's templates/ overriding the
    built-in ones, fonts and stylesheets included). A content file the sections
    need but the pack lacks is still an input: creating it changes the hash.
    """
    root = Path(pack_root)
    kinds = [s.kind for s in profile.sections]
    inputs = [Input(name, root / name) for name in content_files(profile.name, kinds)]
    inputs += [Input(f"templates/{PurePosixPath(rel).as_posix()}", Path(p)) for rel, p in templates.items()]
    return sorted(inputs, key=lambda i: i.name)


def file_sha256(path: Path | str) -> str | None:
    """Return the hex sha256 of a file's bytes, or None when it does not exist."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return h.hexdigest()


def input_digests(inputs: Iterable[Input]) -> dict[str, str | None]:
    """Return {name: sha256 or None if absent} for the inputs."""
    return {i.name: file_sha256(i.path) for i in sorted(inputs, key=lambda i: i.name)}


def source_hash(
    inputs: Iterable[Input] | Mapping[str, str | None],
    *,
    version: str = __version__,
    settings: Mapping[str, str] | None = None,
) -> str:
    """Return the sha256 (hex) over the inputs' names and bytes, brief's version and settings.

    inputs may be Input objects (files are read) or a {name: sha256|None} mapping
    already computed. Order does not matter; the result depends on nothing else.
    """
    digests = inputs if isinstance(inputs, Mapping) else input_digests(inputs)
    h = hashlib.sha256()
    h.update(f"brief-source-hash {FORMAT}\nversion\0{version}\n".encode())
    for name in sorted(digests):
        h.update(f"file\0{name}\0{digests[name] or '-absent-'}\n".encode())
    for key in sorted(settings or {}):
        h.update(f"setting\0{key}\0{(settings or {})[key]}\n".encode())
    return h.hexdigest()


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
class Edition:
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
        """Return the edition's first output of a kind ("pdf", "html"), if any."""
        return next((f for f in self.files if f.kind == kind), None)


@dataclass
class Manifest:
    editions: dict[str, Edition] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "brief_version": __version__,
            "editions": {
                a: {
                    "audience": e.audience,
                    "title": e.title,
                    "source_hash": e.source_hash,
                    "brief_version": e.brief_version,
                    "settings": dict(sorted(e.settings.items())),
                    "inputs": [{"name": n, "sha256": e.inputs[n], "path": e.input_paths.get(n)} for n in sorted(e.inputs)],
                    "files": [asdict(f) for f in e.files],
                }
                for a, e in sorted(self.editions.items())
            },
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Parse a manifest; raise ValueError (with what is wrong) for anything unexpected."""
        data = json.loads(text)
        _expect(isinstance(data, dict), "the top level is not an object")
        _expect(data.get("format") == FORMAT, f"unknown format {data.get('format')!r} (expected {FORMAT})")
        editions = data.get("editions")
        _expect(isinstance(editions, dict), "'editions' is not an object")
        out: dict[str, Edition] = {}
        for key, e in editions.items():
            _expect(isinstance(e, dict), f"edition {key!r} is not an object")
            _expect(e.get("audience") == key, f"edition {key!r} names audience {e.get('audience')!r}")
            _expect(_is_hex(e.get("source_hash")), f"edition {key!r} has no valid source_hash")
            files = e.get("files")
            _expect(isinstance(files, list) and files, f"edition {key!r} lists no files")
            outs = []
            for f in files:
                _expect(isinstance(f, dict) and isinstance(f.get("path"), str) and f["path"]
                        and _is_hex(f.get("sha256")) and _is_count(f.get("bytes"))
                        and (f.get("pages") is None or _is_count(f.get("pages"))),
                        f"edition {key!r} has a malformed file entry")
                _expect(_safe_relative(f["path"]), f"edition {key!r} names a file outside the build directory")
                outs.append(OutputFile(f["path"], f["sha256"], f["bytes"], f.get("pages")))
            inputs, paths = {}, {}
            for i in e.get("inputs", []):
                _expect(isinstance(i, dict) and isinstance(i.get("name"), str)
                        and (i.get("sha256") is None or _is_hex(i.get("sha256"))),
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
            out[key] = Edition(key, e["source_hash"], tuple(outs), inputs, paths, settings, version, title)
        return cls(out)


def _expect(ok: bool, why: str) -> None:
    if not ok:
        raise ValueError(why)


def _is_hex(v: object) -> bool:
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


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
    rel = rel.as_posix()
    return OutputFile(rel, file_sha256(full) or "", full.stat().st_size, pages)


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
) -> Edition:
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
    return Edition(
        audience=audience,
        source_hash=source_hash(digests, version=version, settings=settings),
        files=tuple(sorted(outs, key=lambda o: o.path)),
        inputs=digests,
        input_paths={i.name: str(Path(i.path).absolute()) for i in inputs},  # re-read by publish from any cwd
        settings=dict(settings or {}),
        brief_version=version,
        title=title,
    )


def edition_unchanged(record: Edition, pack_root: Path | str, templates: Mapping[str, Path | str],
                      settings: Mapping[str, str], build_dir: Path | str) -> bool:
    """True when everything the record was made from hashes as recorded and its outputs are intact.

    templates is the current {relative name: path} lookup (pack overrides first): an
    override added or removed since the build changes the edition. Content files are
    the ones recorded; the profile is among them, so the same profile means the same
    files. Build and publish both decide "current" here. Stops at the first change.
    """
    return next(_changes(record, pack_root, templates, settings, build_dir), None) is None


def edition_changes(record: Edition, pack_root: Path | str, templates: Mapping[str, Path | str],
                    settings: Mapping[str, str], build_dir: Path | str) -> list[str]:
    """Name what changed since the record was made (empty exactly when edition_unchanged is True)."""
    return list(_changes(record, pack_root, templates, settings, build_dir))


_SETTING_NAMES = {"brief_code": "brief's code", "weasyprint": "WeasyPrint's version", "pdf_variant": "PDF variant"}


def _changes(record: Edition, pack_root: Path | str, templates: Mapping[str, Path | str],
             settings: Mapping[str, str], build_dir: Path | str) -> Iterator[str]:
    """Yield what differs between the record and now, cheapest checks first."""
    root = Path(pack_root)
    reported: set[str] = set()
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
            yield _SETTING_NAMES.get(key, f"build setting {key}")
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


def outputs_intact(edition: Edition, build_dir: Path | str) -> bool:
    """True when every file the edition recorded is on disk with its recorded size and sha256."""
    return _files_differ(edition, Path(build_dir)) is None


def _files_differ(edition: Edition, build_dir: Path) -> str | None:
    for f in edition.files:
        full = build_dir / f.path
        try:
            size = full.stat().st_size
        except OSError:
            return f"{f.path} is missing"
        if size != f.bytes or file_sha256(full) != f.sha256:
            return f"{f.path} differs from the manifest (changed since it was built)"
    return None
