"""Distribution by email: each recipient gets their audience's PDF, once.

SMTP is configured only by environment variables (see ENV and docs/operations.md).
Every message is recorded in build/sent.json, written atomically:

* before sending, as "pending"; after the server accepts it, as "sent" with its
  Message-ID; if sending fails, the pending entry is removed.
* A re-run sends only what the log does not show as sent, and never sends a
  PDF (by sha256) twice to one address, whatever the release is called.
* A "pending" entry that survives means a run was killed mid-send: the message
  may or may not have gone. It is not resent; brief warns until someone checks
  and removes the entry.
"""
from __future__ import annotations

import json
import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from brief.atomic import write_text_atomic
from brief.errors import ContentError, Problem, SendError, UsageError
from brief.release import Event, Publisher, Release, ReleaseFile

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
RETRY_DELAYS = (2.0, 8.0)  # seconds before the 2nd and 3rd try: 3 tries in all
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
    def from_env(cls, env: Mapping[str, str] | None = None) -> "SmtpConfig":
        """Read the BRIEF_SMTP_* variables; raise UsageError (exit 2) saying what to set."""
        env = os.environ if env is None else env
        get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731
        host, sender = get("BRIEF_SMTP_HOST"), get("BRIEF_SMTP_FROM")
        missing = [k for k, v in (("BRIEF_SMTP_HOST", host), ("BRIEF_SMTP_FROM", sender)) if not v]
        if missing:
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
    """build/sent.json: every message sent (or being sent), one JSON object each."""

    def __init__(self, path: Path, entries: list[dict[str, Any]] | None = None):
        self.path = path
        self.entries = entries or []

    @classmethod
    def load(cls, path: Path) -> "SendLog":
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
            ok = data.get("format") == 1 and isinstance(entries, list) and all(
                isinstance(e, dict) and e.get("status") in ("sent", "pending")
                and isinstance(e.get("sha256"), str) and isinstance(e.get("email"), str) for e in entries)
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise SendError(f"the send log {path} is damaged (not the JSON brief writes); nothing was sent. "
                            f"Repair it from a backup, or move it away to send every PDF to everyone again")
        return cls(path, entries)

    def _key(self, sha256: str, email: str) -> tuple[str, str]:
        return sha256, email.strip().lower()

    def status(self, sha256: str, email: str) -> str | None:
        """Return "sent", "pending" or None for this PDF and address."""
        key = self._key(sha256, email)
        found = [e["status"] for e in self.entries if self._key(e["sha256"], e["email"]) == key]
        return "sent" if "sent" in found else ("pending" if found else None)

    def mark_pending(self, entry: dict[str, Any]) -> None:
        self.entries.append({**entry, "status": "pending"})
        self.save()

    def mark_sent(self, entry: dict[str, Any], message_id: str, when: datetime) -> None:
        self._drop(entry)
        self.entries.append({**entry, "status": "sent", "message_id": message_id,
                             "time": when.isoformat(timespec="seconds")})
        self.save()

    def drop_pending(self, entry: dict[str, Any]) -> None:
        self._drop(entry)
        self.save()

    def _drop(self, entry: dict[str, Any]) -> None:
        key = self._key(entry["sha256"], entry["email"])
        self.entries = [e for e in self.entries
                        if not (e["status"] == "pending" and self._key(e["sha256"], e["email"]) == key)]

    def save(self) -> None:
        data = {"format": 1, "messages": self.entries}
        write_text_atomic(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# ---- messages --------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """One message to send: an audience's PDF to one recipient."""

    audience: str
    release: str
    file: ReleaseFile
    name: str
    email: str
    office: str | None

    def log_entry(self) -> dict[str, Any]:
        return {"audience": self.audience, "release": self.release, "file": self.file.file,
                "sha256": self.file.sha256, "email": self.email}

    @property
    def to(self) -> str:
        return f"{self.name} <{self.email}>"


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


def build_message(config: SmtpConfig, release: Release, d: Delivery, data: bytes, now: datetime,
                  handling: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = formataddr((f"{d.name} ({d.office})" if d.office else d.name, d.email))
    msg["Subject"] = subject(release, d.file.title)
    msg["Date"] = format_datetime(now)
    domain = config.envelope_from.rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(idstring=f"brief.{release.name}.{d.audience}", domain=domain)
    msg.set_content(cover_note(release, d, handling))
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=d.file.file)
    return msg


def header_problems(dist_path: Path | None, distribution: Any, release: Release, audiences: Sequence[str],
                    display: str = "content/distribution.yaml") -> list[Problem]:
    """Find line breaks in anything that goes into a header, with file:line where known."""
    problems: list[Problem] = []
    doc = None
    if dist_path is not None and dist_path.exists():
        from brief.yamlload import load as load_yaml
        doc, _ = load_yaml(dist_path, display)

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


# ---- the publisher -----------------------------------------------------------------

class EmailPublisher(Publisher):
    """Send each audience's PDF to its distribution list over SMTP."""

    name = "email"

    def __init__(self, *, release_dir: Path, build_dir: Path, distribution: Any, dist_path: Path | None = None,
                 handling: str | None = None, env: Mapping[str, str] | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP,
                 sleep: Callable[[float], None] = time.sleep, retry_delays: Sequence[float] = RETRY_DELAYS,
                 timeout: float = 30.0):
        self.release_dir = release_dir
        self.build_dir = build_dir
        self.distribution = distribution
        self.dist_path = dist_path
        self.handling = handling
        self.env = env
        self.now = now
        self.smtp_factory = smtp_factory
        self.sleep = sleep
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.config: SmtpConfig | None = None

    @property
    def log_path(self) -> Path:
        return self.build_dir / SENT_LOG

    def check(self, release: Release) -> None:
        self.config = SmtpConfig.from_env(self.env)
        problems = header_problems(self.dist_path, self.distribution, release, release.audiences())
        if problems:
            raise ContentError(problems, summary=f"{len(problems)} header value{'s' if len(problems) != 1 else ''} "
                                                 f"refused; nothing was sent")
        SendLog.load(self.log_path)  # a damaged log stops us before anything else happens

    def deliveries(self, release: Release) -> list[Delivery]:
        out: list[Delivery] = []
        seen: set[tuple[str, str]] = set()
        for audience in release.audiences():
            pdf = release.pdf(audience)
            if pdf is None:
                continue
            for r in (self.distribution.lists.get(audience, []) if self.distribution else []):
                key = (pdf.sha256, r.email.lower())
                if key in seen:  # the same address twice in one list gets one message
                    continue
                seen.add(key)
                out.append(Delivery(audience, release.name, pdf, r.name, r.email, r.office))
        return out

    def publish(self, release: Release, dry_run: bool = False) -> Iterator[Event]:
        if self.config is None:
            self.check(release)
        config = self.config
        log = SendLog.load(self.log_path)
        todo: list[Delivery] = []
        for d in self.deliveries(release):
            status = log.status(d.file.sha256, d.email)
            if status == "sent":
                yield Event("skip", f"already sent {d.file.file} to {d.to}", {"email": d.email, "file": d.file.file})
            elif status == "pending":
                yield Event("uncertain", f"{d.file.file} to {d.to} may or may not have been delivered (a run was "
                            f"stopped while sending it); not resending. Check with the recipient, then remove the "
                            f"\"pending\" entry from {self.log_path} to send it again",
                            {"email": d.email, "file": d.file.file})
            else:
                todo.append(d)
        if not todo:
            return
        if dry_run:
            for d in todo:
                yield Event("send", f"would send {d.file.file} to {d.to} ({d.audience}) via {config.server}",
                            {"email": d.email, "file": d.file.file, "audience": d.audience, "dry_run": True})
            return

        smtp = yield from self._connect(config)
        failed: list[str] = []
        try:
            for d in todo:
                data = (self.release_dir / d.file.file).read_bytes()
                entry = d.log_entry()
                for attempt in range(len(self.retry_delays) + 1):
                    msg = build_message(config, release, d, data, self.now(), self.handling)
                    log.mark_pending(entry)
                    try:
                        smtp.send_message(msg, from_addr=config.envelope_from, to_addrs=[d.email])
                    except smtplib.SMTPRecipientsRefused as e:
                        log.drop_pending(entry)
                        code, text = next(iter(e.recipients.values()), (0, b""))
                        failed.append(f"{d.to}: refused by {config.server} ({code} {_text(text)})")
                        yield Event("failed", f"{config.server} refused {d.to}: {code} {_text(text)}",
                                    {"email": d.email, "file": d.file.file})
                        break
                    except smtplib.SMTPResponseException as e:
                        log.drop_pending(entry)
                        if e.smtp_code >= 500 or attempt == len(self.retry_delays):
                            failed.append(f"{d.to}: {config.server} answered {e.smtp_code} {_text(e.smtp_error)}")
                            yield Event("failed", f"{config.server} did not accept {d.file.file} for {d.to}: "
                                        f"{e.smtp_code} {_text(e.smtp_error)}", {"email": d.email})
                            break
                        yield from self._pause(attempt, f"{config.server} answered {e.smtp_code} for {d.to}")
                    except (smtplib.SMTPServerDisconnected, OSError) as e:
                        log.drop_pending(entry)
                        if attempt == len(self.retry_delays):
                            raise SendError(f"lost the connection to {config.server} while sending to {d.to} "
                                            f"({e}); {_tally(log, release)}. Run brief publish --send again to "
                                            f"send the rest") from None
                        yield from self._pause(attempt, f"lost the connection to {config.server} ({e})")
                        _close(smtp)
                        smtp = yield from self._connect(config)
                    else:
                        log.mark_sent(entry, msg["Message-ID"], self.now())
                        yield Event("sent", f"sent {d.file.file} to {d.to}",
                                    {"email": d.email, "file": d.file.file, "audience": d.audience,
                                     "message_id": msg["Message-ID"]})
                        break
        finally:
            _close(smtp)
        if failed:
            raise SendError(f"{len(failed)} message{'s' if len(failed) != 1 else ''} not delivered:\n  "
                            + "\n  ".join(failed) + f"\n{_tally(log, release)}; the others were sent")

    def _pause(self, attempt: int, why: str) -> Iterator[Event]:
        delay = self.retry_delays[attempt]
        yield Event("retry", f"{why}; trying again in {delay:g} s")
        self.sleep(delay)

    def _connect(self, config: SmtpConfig) -> Iterator[Event]:
        """Open an SMTP session (STARTTLS, login); retry with backoff; raise SendError at the end."""
        last: Exception | None = None
        tries = len(self.retry_delays) + 1
        for attempt in range(tries):
            if attempt:
                yield from self._pause(attempt - 1, f"cannot reach {config.server} ({last})")
            smtp = None
            try:
                smtp = self.smtp_factory(config.host, config.port, timeout=self.timeout)
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
                _close(smtp)
                raise SendError(f"{config.server} refused the login for {config.user} ({e.smtp_code} "
                                f"{_text(e.smtp_error)}); check BRIEF_SMTP_USER and BRIEF_SMTP_PASSWORD; "
                                f"nothing was sent") from None
            except ssl.SSLError as e:
                _close(smtp)
                raise SendError(f"TLS with {config.server} failed ({e}); nothing was sent") from None
            except SendError:
                _close(smtp)
                raise
            except (smtplib.SMTPException, OSError) as e:
                _close(smtp)
                last = e
        raise SendError(f"cannot reach the SMTP server {config.server} after {tries} tries ({last}); "
                        f"nothing was sent in this run. Check BRIEF_SMTP_HOST/BRIEF_SMTP_PORT and the network, "
                        f"then run brief publish --send again")


def _tally(log: SendLog, release: Release) -> str:
    n = sum(1 for e in log.entries if e.get("status") == "sent" and e.get("release") == release.name)
    return f"{n} message{'s' if n != 1 else ''} of release {release.name} recorded as sent in {log.path}"


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _close(smtp: Any) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:
        try:
            smtp.close()
        except Exception:
            pass
