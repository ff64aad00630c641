"""SMTP for distribution: settings, the session, handing over one message, and the send log.

SMTP is configured only by environment variables (ENV, docs/operations.md).
``transmit`` hands one message over in three steps (MAIL, RCPT, DATA) so the
caller knows whether a lost connection came before the message was handed over
(safe to retry) or after DATA began (it may have been delivered: never retried).
"""
from __future__ import annotations

import json
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from brief.errors import SendError, UsageError
from brief.output.atomic import write_text_atomic

ENV = {
    "BRIEF_SMTP_HOST": "SMTP server name (required)",
    "BRIEF_SMTP_PORT": "port (default 587)",
    "BRIEF_SMTP_USER": "user name to log in with (optional)",
    "BRIEF_SMTP_PASSWORD": "password for BRIEF_SMTP_USER",
    "BRIEF_SMTP_FROM": "sender address, e.g. 'Policy Lab <briefs@example.org>' (required)",
    "BRIEF_SMTP_STARTTLS": "1 (default) or 0; 0 is allowed only for a server on this machine",
}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SENT_LOG = "sent.json"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = ""
    starttls: bool = True

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def envelope_from(self) -> str:
        return parseaddr(self.sender)[1]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig:
        """Read the BRIEF_SMTP_* variables; raise UsageError (exit 2) saying what to set."""
        env = os.environ if env is None else env
        get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731
        host, sender = get("BRIEF_SMTP_HOST"), get("BRIEF_SMTP_FROM")
        if host is None or sender is None:
            missing = [k for k, v in (("BRIEF_SMTP_HOST", host), ("BRIEF_SMTP_FROM", sender)) if not v]
            names = "\n".join(f"  {k}: {v}" for k, v in ENV.items())
            raise UsageError(f"--send needs {' and '.join(missing)} set; brief reads SMTP settings only from "
                             f"these environment variables:\n{names}")
        port_text = get("BRIEF_SMTP_PORT") or "587"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"BRIEF_SMTP_PORT={port_text!r} is not a port number (1-65535; default 587)")
        tls_text = (get("BRIEF_SMTP_STARTTLS") or "1").lower()
        if tls_text not in _TRUE | _FALSE:
            raise UsageError(f"BRIEF_SMTP_STARTTLS={tls_text!r}: write 1 (on, the default) or 0 (off)")
        starttls = tls_text in _TRUE
        if not starttls and host.lower().strip("[]") not in LOCAL_HOSTS:
            raise UsageError(f"BRIEF_SMTP_STARTTLS=0 sends the password and the briefs unencrypted; it is allowed "
                             f"only for a server on this machine (127.0.0.1, localhost, ::1), not {host}. "
                             f"Remove BRIEF_SMTP_STARTTLS to use STARTTLS")
        for k in ("BRIEF_SMTP_FROM", "BRIEF_SMTP_HOST", "BRIEF_SMTP_USER"):
            if any(c in (get(k) or "") for c in "\r\n"):
                raise UsageError(f"{k} contains a line break; write it on one line")
        if "@" not in parseaddr(sender)[1]:
            raise UsageError(f"BRIEF_SMTP_FROM={sender!r} is not an email address, e.g. 'Lab <briefs@example.org>'")
        user = get("BRIEF_SMTP_USER")
        password = env.get("BRIEF_SMTP_PASSWORD") or None
        if user and not password:
            raise UsageError("BRIEF_SMTP_USER is set but BRIEF_SMTP_PASSWORD is not; set both, or neither")
        return cls(host, int(port_text), user, password, sender, starttls)


# ---- the send log ------------------------------------------------------------------

class SendLog:
    """build/sent.json: every message sent (or being sent), one JSON object each.

    A message is known by its key (``entry_key``): a shared PDF by its sha256 and the
    address; a recipient's own PDF by the release, the recipient's id and the address.
    The file has one message a line (easy to edit by hand); each line is encoded
    once, so writing the log after every message stays quick with thousands of them.
    """

    def __init__(self, path: Path, entries: list[dict[str, Any]] | None = None):
        self.path = path
        self.entries = entries or []
        self._lines = [_line(e) for e in self.entries]  # each entry's JSON, in step with entries
        self._status: dict[tuple[str, ...], str] = {}  # key -> "sent" or "pending": a lookup per message
        for e in self.entries:
            self._note(e)

    @classmethod
    def load(cls, path: Path) -> SendLog:
        """Read the log; a missing log is empty. An unreadable one stops sending (SendError):
        treating it as empty would send everything again."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as e:
            raise SendError(f"cannot read the send log {path} ({e}); nothing was sent") from None
        try:
            data = json.loads(text)
            entries = data["messages"]
            ok = data.get("format") == 1 and isinstance(entries, list) and all(map(_valid_entry, entries))
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise SendError(f"the send log {path} is damaged (not the JSON brief writes); nothing was sent. "
                            f"Repair it from a backup, or move it away to send every PDF to everyone again")
        return cls(path, entries)

    def _note(self, entry: dict[str, Any]) -> None:
        key = entry_key(entry)
        if self._status.get(key) != "sent":
            self._status[key] = entry["status"]

    def status_of(self, entry: dict[str, Any]) -> str | None:
        """Return "sent", "pending" or None for the message this entry describes."""
        return self._status.get(entry_key(entry))

    def mark_pending(self, entry: dict[str, Any]) -> None:
        self._add({**entry, "status": "pending"})
        self.save()

    def mark_sent(self, entry: dict[str, Any], message_id: str, when: datetime) -> None:
        self._drop(entry)
        self._add({**entry, "status": "sent", "message_id": message_id, "time": when.isoformat(timespec="seconds")})
        self.save()

    def _add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        self._lines.append(_line(entry))
        self._note(entry)

    def drop_pending(self, entry: dict[str, Any]) -> None:
        self._drop(entry)
        self.save()

    def _drop(self, entry: dict[str, Any]) -> None:
        key = entry_key(entry)
        kept = [(e, line) for e, line in zip(self.entries, self._lines, strict=True)
                if not (e["status"] == "pending" and entry_key(e) == key)]
        self.entries, self._lines = [e for e, _ in kept], [line for _, line in kept]
        if self._status.get(key) == "pending":
            del self._status[key]

    def save(self) -> None:
        items = ",\n".join(f"    {line}" for line in self._lines)
        write_text_atomic(self.path, '{\n  "format": 1,\n  "messages": [' + (f"\n{items}\n  " if items else "")
                          + "]\n}\n")


def _line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False)  # no indent: the C encoder, and one line per message


def entry_key(entry: dict[str, Any]) -> tuple[str, ...]:
    """Name the message an entry records: a recipient's own PDF once per release, a shared PDF once per address."""
    email = entry["email"].strip().lower()
    if entry.get("recipient"):
        # Not by sha256: a cover rebuilt within the same release (a template tweak) must not mail everyone again.
        return "recipient", str(entry.get("release")), entry["recipient"], email
    return "file", entry["sha256"], email


def _valid_entry(e: Any) -> bool:
    return (isinstance(e, dict) and e.get("status") in ("sent", "pending") and isinstance(e.get("sha256"), str)
            and isinstance(e.get("email"), str) and isinstance(e.get("recipient", ""), str)
            and isinstance(e.get("release", ""), str))


# ---- one session, one message ------------------------------------------------------

class Uncertain(Exception):
    """The connection was lost after DATA began: the message may or may not have been delivered."""


def open_session(config: SmtpConfig, factory: Callable[..., smtplib.SMTP], timeout: float) -> smtplib.SMTP:
    """Connect, STARTTLS (unless allowed off), log in. One try.

    Raises SendError for what retrying cannot fix (no STARTTLS, TLS failure, login
    refused); smtplib.SMTPException or OSError for what it may (unreachable, 4xx).
    """
    smtp = None
    try:
        smtp = factory(config.host, config.port, timeout=timeout)
        smtp.ehlo()
        if config.starttls:
            if not smtp.has_extn("starttls"):
                raise SendError(f"{config.server} does not offer STARTTLS, so brief will not send over it; "
                                f"fix the server, or for a relay on this machine only set "
                                f"BRIEF_SMTP_HOST=127.0.0.1 and BRIEF_SMTP_STARTTLS=0; nothing was sent")
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.user:
            smtp.login(config.user, config.password or "")
        return smtp
    except smtplib.SMTPAuthenticationError as e:
        close(smtp)
        raise SendError(f"{config.server} refused the login for {config.user} ({e.smtp_code} "
                        f"{text(e.smtp_error)}); check BRIEF_SMTP_USER and BRIEF_SMTP_PASSWORD; "
                        f"nothing was sent") from None
    except ssl.SSLError as e:
        close(smtp)
        raise SendError(f"TLS with {config.server} failed ({e}); nothing was sent") from None
    except BaseException:
        close(smtp)
        raise


def transmit(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """Hand one message (bytes with CRLF line ends) to the server for one recipient.

    Before DATA, nothing was handed over and every error may be retried or
    reported: SMTPRecipientsRefused (5xx to RCPT), SMTPResponseException (any
    other refusal, 4xx included), SMTPServerDisconnected or OSError (connection
    lost), ValueError (an address SMTP cannot carry). Once DATA has begun, a
    lost connection raises Uncertain; an explicit refusal is still an
    SMTPResponseException (the server said it did not take the message).
    """
    options = [f"size={len(data)}"] if smtp.has_extn("size") else []
    try:
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code >= 500:
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        if code not in (250, 251):
            raise smtplib.SMTPResponseException(code, reply)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, ValueError):
        _reset(smtp)
        raise
    try:
        code, reply = smtp.data(data)  # DATA, the message, and the server's answer
    except smtplib.SMTPResponseException:  # DATA itself refused: the message was not sent
        _reset(smtp)
        raise
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        raise Uncertain(str(e) or type(e).__name__) from e
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPDataError(code, reply)


def _reset(smtp: Any) -> None:
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        pass


def text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def close(smtp: Any) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:
        try:
            smtp.close()
        except Exception:
            pass
