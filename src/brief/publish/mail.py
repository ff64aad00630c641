"""Distribution by email: each recipient gets their audience's PDF, once.

Recipients come from content/distribution.yaml (the edition's shared PDF) and
content/recipients.csv|yaml (each their own PDF where the edition has a cover:
brief.publish.recipients_mail). An address that gets its own PDF of an edition
is not also sent the shared one.

Every message is recorded in build/sent.json (brief.publish.transport.SendLog), written
atomically:

* before sending, as "pending"; after the server accepts it, as "sent" with its
  Message-ID; if sending fails before the message was handed over, the pending
  entry is removed.
* A re-run sends only what the log does not show as sent, and never sends a
  PDF (by sha256) twice to one address, whatever the release is called.
* A "pending" entry that survives means the message may or may not have gone:
  the run was killed while sending it, or the connection was lost after DATA
  began. It is not resent; brief warns until someone checks and removes it.

Each PDF is read once and checked against the release's manifest before it is
sent; an altered or missing file is never sent. One recipient's failure (a
refusal, a value that cannot go in a message) is reported and the others are
still sent; the run then exits 7.
"""
from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from brief.errors import ContentError, SendError
from brief.publish.compose import Delivery, build_message, header_problems, load_document, message_bytes, place
from brief.publish.publishers import PublishContext, Publisher, PublishEvent, Step
from brief.publish.rate import Rate, Throttle
from brief.publish.recipients_mail import Recipients, in_shard, own_bytes
from brief.publish.release import Release, verified_bytes
from brief.publish.transport import SENT_LOG, SendLog, SmtpConfig, Uncertain, close, open_session, text, transmit

if TYPE_CHECKING:
    from brief.output.shard import Shard

RETRY_DELAYS = (2.0, 8.0)  # seconds before the 2nd and 3rd try: 3 tries in all


class EmailPublisher(Publisher):
    """Send each audience's PDF to its distribution list, and each recipient their own PDF, over SMTP."""

    name = "email"

    def __init__(self, *, release_dir: Path, build_dir: Path, distribution: Any, dist_path: Path | None = None,
                 handling: str | None = None, env: Mapping[str, str] | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP,
                 sleep: Callable[[float], None] = time.sleep, retry_delays: Sequence[float] = RETRY_DELAYS,
                 timeout: float = 30.0, recipients: Recipients | None = None, rate: Rate | None = None,
                 shard: Shard | None = None, clock: Callable[[], float] = time.monotonic):
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
        self.recipients = recipients  # content/recipients.csv|yaml, when the pack has one
        self.shard = shard
        self.throttle = Throttle(rate, clock, sleep)
        self._planned: tuple[Release, list[Delivery], list[Delivery]] | None = None  # (release, to send, covered)
        self._doc: Any = None  # content/distribution.yaml as a Document, for file:line in reports
        self._doc_read = False

    @classmethod
    def from_context(cls, context: PublishContext, **options: Any) -> EmailPublisher:
        """Make the publisher from what every publisher is given, plus options for tests and tuning."""
        content = context.content
        options.setdefault("env", context.env)
        options.setdefault("now", context.now)
        if content.recipients:
            options.setdefault("recipients", Recipients(content, context.build_dir))
        return cls(release_dir=context.release_dir, build_dir=context.build_dir, distribution=content.distribution,
                   dist_path=content.files.get("content/distribution.yaml"), handling=content.pack.handling,
                   **options)

    @property
    def has_recipients(self) -> bool:
        return self.distribution is not None or self.recipients is not None

    def preflight(self, release: Release) -> Iterator[PublishEvent]:
        """Say what will not be sent because the pack does not ask for it."""
        if not self.has_recipients:
            yield PublishEvent(Step.WARNING, "no content/distribution.yaml or content/recipients.csv; nothing to send")
            return
        listed = {r.audience for r in self.recipients.content.recipients} if self.recipients else set()
        for audience in release.audiences():
            if not (self.distribution and self.distribution.lists.get(audience)) and audience not in listed:
                yield PublishEvent(Step.SKIP, f"no distribution list or recipients for '{audience}'")

    @property
    def log_path(self) -> Path:
        return self.build_dir / SENT_LOG

    def check(self, release: Release) -> None:
        if not self.has_recipients:
            return  # nothing to send, so no SMTP settings needed
        self.config = SmtpConfig.from_env(self.env)
        problems = header_problems(self.dist_path, self.distribution, release, release.audiences())
        if problems:
            raise ContentError(problems, summary=f"{len(problems)} header value{'s' if len(problems) != 1 else ''} "
                                                 f"refused; nothing was sent")
        SendLog.load(self.log_path)  # a damaged log stops us before anything else happens
        self._plan(release)  # a recipient's PDF not built (or changed since) stops us here, before writing

    def _plan(self, release: Release) -> tuple[Release, list[Delivery], list[Delivery]]:
        """Work out (once per release) the deliveries, and the list entries covered by a recipient's own PDF."""
        if self._planned is None or self._planned[0] != release:  # not just its name: --sign changes its PDFs
            own = self.recipients.deliveries(release, self.shard) if self.recipients else []
            personal = {(d.audience, d.email.lower()) for d in own if d.recipient}
            out: list[Delivery] = []
            covered: list[Delivery] = []
            seen: set[tuple[str, str]] = set()
            for d in [*self._listed(release), *own]:
                key = (d.file.sha256, d.email.lower())
                if d.recipient is None and (d.audience, d.email.lower()) in personal:
                    covered.append(d)
                elif key not in seen:  # the same address twice in one list gets one message
                    seen.add(key)
                    out.append(d)
            self._planned = release, in_shard(out, self.shard), in_shard(covered, self.shard)
        return self._planned

    def _listed(self, release: Release) -> Iterator[Delivery]:
        """The distribution lists' deliveries: each audience's shared PDF, to each address on its list."""
        for audience in release.audiences():
            pdf = release.pdf(audience)
            if pdf is None or self.distribution is None:
                continue
            for i, r in enumerate(self.distribution.lists.get(audience, [])):
                yield Delivery(audience, release.name, pdf, r.name, r.email, r.office, i)

    def publish(self, release: Release, dry_run: bool = False) -> Iterator[PublishEvent]:
        if not self.has_recipients:
            return
        if self.config is None:
            self.check(release)
        config = self.config
        assert config is not None  # check() sets it whenever there is a distribution
        log = SendLog.load(self.log_path)
        todo = yield from self._unsent(release, log)
        if not todo:
            return
        if dry_run:
            for d in todo:
                yield PublishEvent(Step.SEND, f"would send {self._shown(d)} to {d.to} ({d.audience}) via "
                                   f"{config.server}", {**_data(d), "dry_run": True})
            return

        failed: list[str] = []
        uncertain: list[str] = []
        pdfs = yield from self._verified_pdfs([d for d in todo if d.recipient is None], failed)
        smtp: smtplib.SMTP | None = None
        try:
            for d in todo:
                data = pdfs.get(d.audience) if d.recipient is None else (yield from self._own_pdf(d, failed))
                if data is not None:
                    smtp = yield from self._deliver(smtp, config, release, d, data, log, failed, uncertain)
        finally:
            close(smtp)
        _raise_if_any_unsent(log, release, failed, uncertain)

    def _unsent(self, release: Release, log: SendLog) -> Generator[PublishEvent, None, list[Delivery]]:
        """Return the deliveries the log does not show as sent or pending; say why each other one is left out."""
        todo: list[Delivery] = []
        _, planned, covered = self._plan(release)
        for d in covered:
            yield PublishEvent(Step.SKIP, f"not sending the shared {d.file.file} to {d.to}: they get their own PDF "
                               f"of the {d.file.title}", {"email": d.email, "file": d.file.file})
        for d in planned:
            status = log.status_of(d.log_entry())
            if status == "sent":
                yield PublishEvent(Step.SKIP, f"already sent {d.file.file} to {d.to}",
                                   {"email": d.email, "file": d.file.file})
            elif status == "pending":
                yield PublishEvent(Step.UNCERTAIN, f"{d.file.file} to {d.to} may or may not have been delivered (a "
                                   f"run was stopped or lost the connection while sending it); not resending. Check "
                                   f"with the recipient, then remove the \"pending\" entry from {self.log_path} to "
                                   f"send it again", {"email": d.email, "file": d.file.file})
            else:
                todo.append(d)
        return todo

    def _verified_pdfs(self, todo: list[Delivery],
                       failed: list[str]) -> Generator[PublishEvent, None, dict[str, bytes]]:
        """Read and check each audience's PDF once (the bytes then sent); fail the deliveries of a bad one."""
        pdfs: dict[str, bytes] = {}
        for audience, pdf in sorted({d.audience: d.file for d in todo}.items()):
            try:
                pdfs[audience] = verified_bytes(self.release_dir, pdf)
            except ValueError as e:
                for d in (d for d in todo if d.audience == audience):
                    failed.append(f"{d.to}: not sent, {e}")
                    yield PublishEvent(Step.FAILED, f"not sending {d.file.file} to {d.to}: in {self.release_dir}, "
                                       f"{e}; brief never sends a file that differs from its release",
                                       {"email": d.email, "file": d.file.file})
        return pdfs

    def _own_pdf(self, d: Delivery, failed: list[str]) -> Generator[PublishEvent, None, bytes | None]:
        """Read and check a recipient's own PDF (the bytes then sent); report it and return None if it changed."""
        try:
            return own_bytes(self.build_dir, d)
        except ValueError as e:
            failed.append(f"{d.to}: not sent, {e}")
            yield PublishEvent(Step.FAILED, f"not sending to {d.to}: {e}", _data(d))
            return None

    def _shown(self, d: Delivery) -> str:
        """The file as the user finds it: a recipient's in build/, a shared one by its release name."""
        if d.recipient and d.file.source is not None and d.file.source.is_relative_to(self.build_dir):
            return f"build/{d.file.source.relative_to(self.build_dir).as_posix()}"
        return d.file.file

    def _place(self, d: Delivery) -> str:
        """Where the recipient's entry is (file:line), content/distribution.yaml read only when needed."""
        if d.row:
            return d.row
        if not self._doc_read:
            self._doc, self._doc_read = load_document(self.dist_path), True
        return place(self._doc, d)

    def _unsendable(self, d: Delivery, why: Exception, failed: list[str]) -> Iterator[PublishEvent]:
        failed.append(f"{self._place(d)}: {d.to}: cannot be sent ({why})")
        yield PublishEvent(Step.FAILED, f"cannot send {d.file.file} to {d.to} ({self._place(d)}): {why}",
                           {"email": d.email, "file": d.file.file})

    def _deliver(self, smtp: smtplib.SMTP | None, config: SmtpConfig, release: Release, d: Delivery, data: bytes,
                 log: SendLog, failed: list[str],
                 uncertain: list[str]) -> Generator[PublishEvent, None, smtplib.SMTP | None]:
        """Send one message, retrying what may be retried; return the SMTP session for the next one (or None)."""
        entry = d.log_entry()
        for attempt in range(len(self.retry_delays) + 1):
            try:
                msg = build_message(config.sender, release, d, data, self.now(), self.handling)
                raw = message_bytes(msg)
            except ValueError as e:  # a name or address that cannot go in a message (UnicodeEncodeError too)
                yield from self._unsendable(d, e, failed)
                return smtp
            if smtp is None:
                smtp = yield from self._connect(config, log, release)
            self.throttle.wait()  # --rate: counts every message handed to the server, retries too
            log.mark_pending(entry)
            try:
                transmit(smtp, config.envelope_from, d.email, raw)
            except Uncertain as e:  # the server may have the message: never send it again by itself
                uncertain.append(f"{d.to}: {d.file.file}")
                yield PublishEvent(Step.UNCERTAIN, f"lost the connection to {config.server} after handing over "
                                   f"{d.file.file} for {d.to} ({e}); it may or may not have been delivered, so it "
                                   f"is not resent. Check with the recipient, then remove the \"pending\" entry "
                                   f"from {log.path} to send it again", {"email": d.email, "file": d.file.file})
                close(smtp)
                return None
            except smtplib.SMTPRecipientsRefused as e:
                log.drop_pending(entry)
                code, reply = next(iter(e.recipients.values()), (0, b""))
                failed.append(f"{d.to}: refused by {config.server} ({code} {text(reply)})")
                yield PublishEvent(Step.FAILED, f"{config.server} refused {d.to}: {code} {text(reply)}",
                                   {"email": d.email, "file": d.file.file})
                return smtp
            except smtplib.SMTPResponseException as e:
                log.drop_pending(entry)
                if e.smtp_code == 421 and attempt == len(self.retry_delays):
                    _stop(config, d, e, log, release, failed)
                if e.smtp_code >= 500 or attempt == len(self.retry_delays):
                    failed.append(f"{d.to}: {config.server} answered {e.smtp_code} {text(e.smtp_error)}")
                    yield PublishEvent(Step.FAILED, f"{config.server} did not accept {d.file.file} for {d.to}: "
                                       f"{e.smtp_code} {text(e.smtp_error)}", {"email": d.email})
                    return smtp
                yield from self._pause(attempt, f"{config.server} answered {e.smtp_code} for {d.to}")
            except ValueError as e:  # the address cannot be written in an SMTP command
                log.drop_pending(entry)
                yield from self._unsendable(d, e, failed)
                return smtp
            except (smtplib.SMTPServerDisconnected, OSError) as e:  # before DATA: nothing was handed over
                log.drop_pending(entry)
                close(smtp)
                smtp = None
                if attempt == len(self.retry_delays):
                    raise SendError(f"lost the connection to {config.server} while sending to {d.to} "
                                    f"({e}); {_tally(log, release)}. Run brief publish --send again to "
                                    f"send the rest") from None
                yield from self._pause(attempt, f"lost the connection to {config.server} ({e})")
            else:
                log.mark_sent(entry, msg["Message-ID"], self.now())
                yield PublishEvent(Step.SENT, f"sent {d.file.file} to {d.to}",
                                   {**_data(d), "message_id": msg["Message-ID"]})
                return smtp
        return smtp  # pragma: no cover (every attempt returns or retries)

    def _pause(self, attempt: int, why: str) -> Iterator[PublishEvent]:
        delay = self.retry_delays[attempt]
        yield PublishEvent(Step.RETRY, f"{why}; trying again in {delay:g} s")
        self.sleep(delay)

    def _connect(self, config: SmtpConfig, log: SendLog,
                 release: Release) -> Generator[PublishEvent, None, smtplib.SMTP]:
        """Open an SMTP session; retry with backoff; raise SendError at the end."""
        last: Exception | None = None
        tries = len(self.retry_delays) + 1
        for attempt in range(tries):
            if attempt:
                yield from self._pause(attempt - 1, f"cannot reach {config.server} ({last})")
            try:
                return open_session(config, self.smtp_factory, self.timeout)
            except (smtplib.SMTPException, OSError) as e:
                last = e
        raise SendError(f"cannot reach the SMTP server {config.server} after {tries} tries ({last}); "
                        f"{_tally(log, release)}. Check BRIEF_SMTP_HOST/BRIEF_SMTP_PORT and the network, "
                        f"then run brief publish --send again to send the rest")


def _data(d: Delivery) -> dict[str, Any]:
    """What --json reports of a message."""
    data = {"email": d.email, "file": d.file.file, "audience": d.audience}
    return {**data, "recipient": d.recipient} if d.recipient else data


def _stop(config: SmtpConfig, d: Delivery, e: smtplib.SMTPResponseException, log: SendLog, release: Release,
          failed: list[str]) -> NoReturn:
    """Stop the run: 421 is the server closing for everyone (a quota, a shutdown), not a refusal of one."""
    earlier = "\n  ".join(["", *failed]) if failed else ""
    raise SendError(f"{config.server} stopped taking messages ({e.smtp_code} {text(e.smtp_error)}) while sending "
                    f"to {d.to}; {_tally(log, release)}. Run brief publish --send again later to send the rest"
                    + (f"; not delivered before that:{earlier}" if earlier else ""))


def _raise_if_any_unsent(log: SendLog, release: Release, failed: list[str], uncertain: list[str]) -> None:
    """Raise SendError listing the messages not delivered and those that may or may not have been."""
    parts = []
    if failed:
        parts.append(f"{len(failed)} message{'s' if len(failed) != 1 else ''} not delivered:\n  "
                     + "\n  ".join(failed))
    if uncertain:
        parts.append(f"{len(uncertain)} message{'s' if len(uncertain) != 1 else ''} may or may not have been "
                     f"delivered (left \"pending\" in {log.path}, never resent):\n  " + "\n  ".join(uncertain))
    if parts:
        raise SendError("\n".join(parts) + f"\n{_tally(log, release)}; the others were sent")


def _tally(log: SendLog, release: Release) -> str:
    n = sum(1 for e in log.entries if e.get("status") == "sent" and e.get("release") == release.name)
    return f"{n} message{'s' if n != 1 else ''} of release {release.name} recorded as sent in {log.path}"
