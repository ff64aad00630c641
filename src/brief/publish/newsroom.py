"""Newsroom files in a release: listed, versioned and checked like the editions, under newsroom/."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from brief.output.manifest import OutputFile
from brief.publish.release import ReleaseFile, versioned_name

FOLDER = "newsroom"  # as brief.edition.newsroom.FOLDER: the facts sheet's HTML links ../ stylesheets from it
_WHAT = {"pdf": "quotable facts (PDF)", "html": "quotable facts (web page)", "csv": "figures and quotes (CSV)",
         "json": "figures and quotes (JSON)", "vcf": "press contacts (vCard)"}


def is_newsroom(rel: str) -> bool:
    """True for a built file at this path inside build/<audience>/ that is a newsroom file."""
    return PurePosixPath(rel).parts[:1] == (FOLDER,)


def newsroom_file(out: OutputFile, rel: str, release: str, audience: str, title: str, source_hash: str,
                  build_dir: Path) -> ReleaseFile:
    """Describe a built newsroom file as the release's file newsroom/<name>-<release>.<ext>."""
    name = PurePosixPath(rel).name
    return ReleaseFile(file=f"{FOLDER}/{versioned_name(name, release)}", audience=audience,
                       title=f"{title}: {_WHAT.get(out.kind, out.kind)}", kind=out.kind, sha256=out.sha256,
                       bytes=out.bytes, pages=out.pages, source_hash=source_hash, source=build_dir / out.path,
                       role="newsroom")
