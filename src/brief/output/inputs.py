"""Record what each built edition was made from, so unchanged editions are not rebuilt.

An edition's *source hash* is a sha256 over everything it is made from: the
content files it uses (chosen by its profile's sections, as the section registry declares), its
profile, the template and font files the build used, brief's version, and any
build settings that change the output. Each input is named by a path that is
the same on every machine ("content/pack.yaml", "templates/congress.html.j2",
"templates/fonts/Inter-Regular.otf"), and the hash covers names and bytes only, sorted:
never modification times, absolute paths or clocks.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from brief import __version__
from brief.edition.sections import SECTIONS

FORMAT = 1  # of the source hash and the manifest

# Content files every edition uses.
ALWAYS = ("content/pack.yaml", "content/sources.yaml")


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
    new kind must be declared in the section registry before it can be hashed.
    """
    names = set(ALWAYS) | {profile_name(audience)}
    for kind in section_kinds:
        names.update(SECTIONS[kind].reads)
    return sorted(names)


def edition_inputs(pack_root: Path | str, profile: Any, *, templates: Mapping[str, Path | str],
                   pack_files: Iterable[str] = ()) -> list[Input]:
    """Return every input of one edition, sorted by name.

    profile is the edition's ``model.Audience`` (its ``name`` and ``sections``
    are used). templates is the {relative name: path} lookup rendering uses
    (``brief.edition.render.template_files``: the pack's templates/ overriding the
    built-in ones, fonts and stylesheets included). A content file the sections
    need but the pack lacks is still an input: creating it changes the hash.
    pack_files are other files of the pack the edition prints from (a source copy a title is read from).
    """
    root = Path(pack_root)
    kinds = [s.kind for s in profile.sections]
    inputs = [Input(name, root / name) for name in content_files(profile.name, kinds)]
    inputs += [Input(f"templates/{PurePosixPath(rel).as_posix()}", Path(p)) for rel, p in templates.items()]
    inputs += [Input(PurePosixPath(name).as_posix(), root / name) for name in sorted(set(pack_files))]
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


def is_sha256(v: object) -> bool:
    """True for a hex sha256 as file_sha256 returns it (64 lower-case hex digits)."""
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


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
