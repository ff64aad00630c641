"""What a distribution message says: one recipient, one PDF, a short cover note.

Pure functions of the release and the recipient (no network, no files): the
SMTP side is in brief.publish.transport, the sending loop in brief.publish.mail.
The Message-ID is a hash of the recipient and the PDF, so the same message keeps
the same id on any machine and a receiving system can recognise a resend.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from brief.errors import Problem
from brief.publish.release import Release, ReleaseFile

DISTRIBUTION = "content/distribution.yaml"


@dataclass(frozen=True)
class Delivery:
    """One message to send: an audience's PDF to one recipient (entry `index` of its list), or, with
    `recipient` set, that recipient's own PDF (file.source) from content/recipients.csv|yaml (at `row`)."""

    audience: str
    release: str
    file: ReleaseFile
    name: str
    email: str
    office: str | None
    index: int = 0
    recipient: str | None = None  # the recipient's id: a personalised PDF
    salutation: str | None = None
    row: str | None = None  # "content/recipients.csv:12", where the recipient is

    def log_entry(self) -> dict[str, Any]:
        entry = {"audience": self.audience, "release": self.release, "file": self.file.file,
                 "sha256": self.file.sha256, "email": self.email}
        return {**entry, "recipient": self.recipient} if self.recipient else entry

    @property
    def to(self) -> str:
        """The recipient as shown in messages to the user, control characters escaped."""
        who = printable(f"{self.name} <{self.email}>")
        return f"{who} (recipient {printable(self.recipient)})" if self.recipient else who

    @property
    def key(self) -> str:
        """The message's work-item key, the same in every process (for --shard)."""
        if self.recipient:
            return f"recipient:{self.audience}/{self.recipient}"
        return f"list:{self.audience}/{self.email.strip().lower()}"


def printable(s: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def subject(release: Release, edition_title: str) -> str:
    return f"{release.title}: {edition_title} (edition {release.edition}, as of {release.as_of.isoformat()})"


def cover_note(release: Release, d: Delivery, handling: str | None = None) -> str:
    greeting = (d.salutation or f"Dear {d.name}").rstrip()
    lines = [greeting if greeting[-1:] in ",:;!" else f"{greeting},", "",
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
    # An Address, not formataddr(): a non-ASCII name with parentheses comes out of formataddr as an
    # encoded word that the header parser splits at the "(", and the reader sees an empty name.
    shown = f"{d.name} ({d.office})" if d.office else d.name
    if any(ord(c) < 32 or ord(c) == 127 for c in shown):  # line breaks, tabs, NUL: never in a header
        raise ValueError("the name has a control character, which cannot go in an email header")
    msg["To"] = Address(display_name=shown, addr_spec=d.email)
    msg["Subject"] = subject(release, d.file.title)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(sender, d)
    msg.set_content(cover_note(release, d, handling))
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=d.file.file)
    return msg


def message_id(sender: str, d: Delivery) -> str:
    """Return the Message-ID for this recipient and this PDF: the same on every run and machine."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "brief.invalid"
    digest = hashlib.sha256(f"{d.recipient or ''}\0{d.email.strip().lower()}\0{d.file.sha256}".encode())
    # Short enough never to be folded: a folded Message-ID is mangled by some mail systems.
    return f"<brief.{digest.hexdigest()[:32]}@{domain}>"


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP (CRLF line ends); raises ValueError for what SMTP cannot carry."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def header_problems(dist_path: Path | None, distribution: Any, release: Release, audiences: Sequence[str],
                    display: str = DISTRIBUTION) -> list[Problem]:
    """Find line breaks in anything that goes into a header, with file:line where known."""
    problems: list[Problem] = []
    doc, read = None, False  # content/distribution.yaml with its lines, read only once a value is bad

    def bad(s: str | None) -> bool:
        return s is not None and any(c in s for c in "\r\n\x00")

    msg = "contains a line break, which cannot go in an email header; write it on one line"
    for audience in audiences:
        for i, r in enumerate(distribution.lists.get(audience, []) if distribution else []):
            for attr in ("name", "office", "email"):
                if bad(getattr(r, attr)):
                    if not read:
                        doc, read = load_document(dist_path, display), True
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
