"""What a distribution message says: one recipient, one PDF, a short cover note.

Pure functions of the release and the recipient (no network, no files): the
SMTP side is in brief.publish.transport, the sending loop in brief.publish.mail.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from brief.errors import Problem
from brief.publish.release import Release, ReleaseFile

DISTRIBUTION = "content/distribution.yaml"


@dataclass(frozen=True)
class Delivery:
    """One message to send: an audience's PDF to one recipient (entry `index` of its list)."""

    audience: str
    release: str
    file: ReleaseFile
    name: str
    email: str
    office: str | None
    index: int = 0

    def log_entry(self) -> dict[str, Any]:
        return {"audience": self.audience, "release": self.release, "file": self.file.file,
                "sha256": self.file.sha256, "email": self.email}

    @property
    def to(self) -> str:
        """The recipient as shown in messages to the user, control characters escaped."""
        return printable(f"{self.name} <{self.email}>")


def printable(s: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def subject(release: Release, edition_title: str) -> str:
    return f"{release.title}: {edition_title} (edition {release.edition}, as of {release.as_of.isoformat()})"


def cover_note(release: Release, d: Delivery, handling: str | None = None) -> str:
    lines = [f"Dear {d.name},", "",
             f"Attached is the {d.file.title} of \"{release.title}\", edition {release.edition}, "
             f"as of {release.as_of.strftime('%-d %B %Y')}."]
    if release.embargo:
        lines += ["", f"EMBARGO: not for publication or onward distribution before "
                      f"{release.embargo.isoformat(sep=' ', timespec='minutes')}."]
    if handling:
        lines += ["", f"Handling: {handling}"]
    pages = f", {d.file.pages} page{'s' if d.file.pages != 1 else ''}" if d.file.pages else ""
    lines += ["", f"File: {d.file.file} ({d.file.bytes} bytes{pages})",
              f"SHA-256: {d.file.sha256}", "", "--", release.organisation, ""]
    return "\n".join(lines)


def build_message(sender: str, release: Release, d: Delivery, data: bytes, now: datetime,
                  handling: str | None = None) -> EmailMessage:
    """Compose the message; raise ValueError (UnicodeEncodeError included) when a value cannot go in it."""
    if not d.email.isascii():
        raise ValueError("the address has non-ASCII characters, which brief cannot send (no SMTPUTF8)")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((f"{d.name} ({d.office})" if d.office else d.name, d.email))
    msg["Subject"] = subject(release, d.file.title)
    msg["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    # Short enough never to be folded: a folded Message-ID is mangled by some mail systems.
    msg["Message-ID"] = make_msgid(idstring="brief", domain=domain)
    msg.set_content(cover_note(release, d, handling))
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=d.file.file)
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP (CRLF line ends); raises ValueError for what SMTP cannot carry."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def header_problems(dist_path: Path | None, distribution: Any, release: Release, audiences: Sequence[str],
                    display: str = DISTRIBUTION) -> list[Problem]:
    """Find line breaks in anything that goes into a header, with file:line where known."""
    problems: list[Problem] = []
    doc = load_document(dist_path, display)

    def bad(s: str | None) -> bool:
        return s is not None and any(c in s for c in "\r\n\x00")

    msg = "contains a line break, which cannot go in an email header; write it on one line"
    for audience in audiences:
        for i, r in enumerate(distribution.lists.get(audience, [])):
            for attr in ("name", "office", "email"):
                if bad(getattr(r, attr)):
                    path = ("lists", audience, i, attr)
                    problems.append(doc.problem(path, msg) if doc else Problem(display, None, None,
                                                                               f"lists.{audience}[{i}].{attr}", msg))
    if bad(release.title):
        problems.append(Problem("content/pack.yaml", None, None, "title", msg))
    for a in audiences:
        if bad(release.edition_title(a)):
            problems.append(Problem(f"content/audiences/{a}.yaml", None, None, "title", msg))
    return problems


def load_document(dist_path: Path | None, display: str = DISTRIBUTION):
    """The distribution file's yamlload Document (for file:line), or None when it cannot be read."""
    if dist_path is None or not dist_path.exists():
        return None
    from brief.content.yamlload import load as load_yaml

    return load_yaml(dist_path, display)[0]


def place(doc: Any, d: Delivery, display: str = DISTRIBUTION) -> str:
    """Where a recipient's entry is: 'content/distribution.yaml:7: lists.council[1]'."""
    where = f"lists.{d.audience}[{d.index}]"
    if doc is None:
        return f"{display}: {where}"
    line, _ = doc.place(("lists", d.audience, d.index))
    return f"{display}:{line}: {where}" if line else f"{display}: {where}"
