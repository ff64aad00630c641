"""Render build/dist/index.html and build/dist/feed.xml from templates/publish/.

Both are pure functions of the releases on disk (no clock, no machine paths),
so regenerating them without a new release gives the same bytes. The Atom feed
is written from a Jinja template rather than feedgen, which drops the rel, type
and length of entry links.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import jinja2

from brief.publish.release import RELEASE_MANIFEST, SUMS, Release
from brief.publish.snapshots import whats_new_head, whats_new_text
from brief.templating import builtin_templates, strict_environment

INDEX = "index.html"
FEED = "feed.xml"


def templates_dir() -> Path:
    """Return the built-in templates/publish folder."""
    return builtin_templates("publish")


def _env() -> jinja2.Environment:
    env = strict_environment([templates_dir()])
    env.filters["size"] = human_size
    env.filters["url"] = lambda s: quote(str(s), safe="/-._~")
    env.filters["whats_new"] = whats_new_text  # the same words on the index page and in the feed
    env.filters["whats_new_head"] = whats_new_head
    return env


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return f"{n} bytes"  # pragma: no cover


def feed_id(organisation: str, title: str) -> str:
    """A permanent id for the pack's feed, the same on every machine."""
    return "urn:sha256:" + hashlib.sha256(f"brief-feed\0{organisation}\0{title}".encode()).hexdigest()


def render_index(releases: Sequence[Release], *, title: str, organisation: str, language: str = "en") -> str:
    return _env().get_template("index.html.j2").render(
        releases=list(releases), title=title, organisation=organisation, language=language,
        sums=SUMS, manifest=RELEASE_MANIFEST, feed=FEED,
    )


def render_feed(releases: Sequence[Release], *, title: str, organisation: str, language: str = "en",
                base_url: str | None = None) -> str:
    """Render the Atom feed: one entry per release, one enclosure link per PDF."""
    releases = list(releases)
    if base_url is not None and not base_url.endswith("/"):
        base_url += "/"
    updated = max((r.updated for r in releases), default="1970-01-01T00:00:00Z")
    return _env().get_template("feed.xml.j2").render(
        releases=releases, title=title, organisation=organisation, language=language,
        feed_id=feed_id(organisation, title), updated=updated, base_url=base_url, index=INDEX, feed=FEED,
    )
