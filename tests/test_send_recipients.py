"""`brief publish --send` with content/recipients.csv: each recipient gets their own PDF, once, over real SMTP.

The recipients' PDFs are small fake ones written with the manifest entries `brief build` gives them
(build/<audience>/recipients/<id>.pdf), so these tests need no WeasyPrint.
"""
from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief.cli import main
from brief.commands.publish import run_publish
from brief.edition.checks import load_pack
from brief.edition.render import template_files
from brief.output.manifest import read_manifest, write_manifest
from brief.output.recipient_records import RecipientFile, RecipientsRecord, recipient_path
from brief.output.recipients import inputs_of
from brief.output.settings import build_settings
from brief.publish.compose import Delivery, build_message, message_bytes
from brief.publish.rate import Rate, Throttle, parse_rate
from brief.publish.recipients_mail import shard_of
from brief.publish.release import read_release
from helpers import fakebuild
from helpers.smtp import Sink, delivered, env_for, sent_log, serving

RELEASE = "2025-03-01-e2"
AFTER_EMBARGO = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
COVER = "cover:\n  fields: [state, district]\n"  # the council edition is made per recipient
LISTED = {"grace@council.example.org", "alan@council.example.org", "nellie@paper.example.com"}  # distribution.yaml
COLUMNS = ["id", "name", "organisation", "email", "audience", "state", "district", "salutation"]


def office(i: int) -> dict[str, str]:
    return {"id": f"office-{i:03d}", "name": f"Member {i:03d}", "organisation": f"Office {i:03d}",
            "email": f"office-{i:03d}@house.example.gov", "audience": "council", "state": "ST",
            "district": f"{i:02d}", "salutation": f"Dear Member {i:03d}"}


def write_recipients(pack: Path, rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (pack / "content" / "recipients.csv").write_text("# invented offices for the tests\n" + out.getvalue(),
                                                     encoding="utf-8")


def own_pdf(recipient_id: str, version: str = "") -> bytes:
    """A small fake PDF of one recipient's own, with every byte value in it (so transfer encoding shows)."""
    return b"%PDF-1.7\n%" + bytes(range(256)) + f"\n% cover for {recipient_id}{version}\n%%EOF\n".encode()


def record_own_pdfs(pack: Path, ids: list[str], audience: str = "council", version: str = "") -> None:
    """Write each recipient's PDF where `brief build` does and record them in build/manifest.json as it does."""
    build = pack / "build"
    manifest, warnings = read_manifest(build)
    assert warnings == []
    folder = build / audience / "recipients"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for rid in ids:
        data = own_pdf(rid, version)
        (folder / f"{rid}.pdf").write_bytes(data)
        files[rid] = RecipientFile(rid, hashlib.sha256(data + b"source").hexdigest(), recipient_path(audience, rid),
                                   hashlib.sha256(data).hexdigest(), len(data), 3)
    content = load_pack(pack)
    body = manifest.editions[audience].file("pdf")
    assert body is not None
    manifest.recipients[audience] = RecipientsRecord(audience, body.sha256,
                                                     inputs_of(content, audience, template_files(pack)),
                                                     build_settings(), files)
    write_manifest(build, manifest)


def make_pack(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    pack = fakebuild.copy_pack("publish", tmp_path / "pack")
    profile = pack / "content" / "audiences" / "council.yaml"
    profile.write_text(profile.read_text() + COVER)
    write_recipients(pack, rows)
    fakebuild.fake_build(pack)
    record_own_pdfs(pack, [r["id"] for r in rows if r["audience"] == "council"])
    return pack


class FakeClock:
    """time.monotonic and time.sleep for one test: time moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def send(pack: Path, port: int, clock: FakeClock | None = None, **options) -> int:
    clock = clock or FakeClock()
    email_options = {"sleep": clock.sleep, "clock": clock.monotonic, "retry_delays": (0.25, 1.0), "timeout": 10,
                     **options}
    return run_publish(pack, send=True, env=env_for(port), now=AFTER_EMBARGO, exit_unchanged=True,
                       publisher_options={"email": email_options})


def greeting(msg) -> str:
    return msg.get_body(("plain",)).get_content().splitlines()[0]


class QuotaSink(Sink):
    """A server that takes `quota` messages, then answers every RCPT with 421 (a provider's hourly quota)."""

    quota: int | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.quota is not None and len(self.messages) >= self.quota:
            return "421 4.7.0 hourly quota reached, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def quota_smtp():
    with serving(QuotaSink()) as server:
        yield server


# ---- 535 offices ---------------------------------------------------------------------------------------

OFFICES = [office(i) for i in range(1, 536)]


def check_each_office_got_its_own_pdf_once(pack: Path, sink: Sink) -> None:
    parsed = {rcpts[0]: email.message_from_bytes(raw, policy=email.policy.default)
              for _, rcpts, raw in sink.messages}
    assert len(parsed) == len(sink.messages)  # nobody twice
    assert set(parsed) == {r["email"] for r in OFFICES} | LISTED
    for r in OFFICES:
        msg = parsed[r["email"]]
        attachment, = msg.iter_attachments()
        assert attachment.get_filename() == f"water-council-{RELEASE}-{r['id']}.pdf"
        assert attachment.get_content() == (pack / "build" / "council" / "recipients" / f"{r['id']}.pdf").read_bytes()
        assert msg["To"].addresses[0].display_name == f"{r['name']} ({r['organisation']})"
        assert greeting(msg) == f"{r['salutation']},"
    shared = (pack / "build" / "council" / "water-council.pdf").read_bytes()
    grace, = parsed["grace@council.example.org"].iter_attachments()
    assert grace.get_content() == shared  # the distribution list still gets the shared edition


@pytest.mark.slow
def test_535_offices_each_get_their_own_pdf_once_even_after_a_failed_run(tmp_path, quota_smtp, capsys):
    pack = make_pack(tmp_path, OFFICES)
    sink, port = quota_smtp
    sink.quota = 200  # the server stops taking messages part-way through
    assert send(pack, port) == 7
    err = capsys.readouterr().err
    assert len(sink.messages) == 200
    # 421 is the server closing for everyone: the run stops rather than try each of the 335 others
    assert ("stopped taking messages (421 4.7.0 hourly quota reached, try again later) while sending to "
            "Member 198 <office-198@house.example.gov> (recipient office-198)") in err  # 3 list messages went first
    assert err.count("trying again") == 2
    log = sent_log(pack)
    assert len(log) == 200 and {e["status"] for e in log} == {"sent"}  # a refusal leaves nothing pending

    sink.quota = None  # the next hour: the re-run sends only what is missing
    assert send(pack, port) == 0
    check_each_office_got_its_own_pdf_once(pack, sink)
    log = sent_log(pack)
    assert len(log) == len(OFFICES) + 3 and {e["status"] for e in log} == {"sent"}
    assert {e["recipient"] for e in log if "recipient" in e} == {r["id"] for r in OFFICES}

    before = (pack / "build" / "sent.json").read_bytes()
    assert send(pack, port) == 3  # a second run sends nothing
    assert len(sink.messages) == len(OFFICES) + 3
    assert (pack / "build" / "sent.json").read_bytes() == before


@pytest.mark.slow
def test_535_offices_a_killed_run_then_a_rerun_sends_only_the_missing_ones(tmp_path, smtp):
    build_settings.cache_clear()  # hash brief's code as it is now, as the `brief publish` process below will
    pack = make_pack(tmp_path, OFFICES)
    sink, port = smtp
    env = {**os.environ, **env_for(port)}
    run = subprocess.Popen([sys.executable, "-m", "brief", "publish", "-C", str(pack), "--send", "--quiet"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(sink.messages) < 150 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    run.send_signal(signal.SIGKILL)  # as a power cut would: no clean-up at all
    run.wait()
    assert run.returncode == -signal.SIGKILL, run.stderr.read() if run.stderr else ""
    first = len(sink.messages)
    assert 150 <= first < len(OFFICES)

    assert send(pack, port) in (0, 7)
    log = sent_log(pack)
    pending = [e["email"] for e in log if e["status"] == "pending"]
    assert len(pending) <= 1  # at most the message in flight when the run was killed
    got = delivered(sink)
    assert len(got) == len(set(got))  # nothing twice
    assert set(got) | set(pending) == {r["email"] for r in OFFICES} | LISTED
    assert {e["email"] for e in log if e["status"] == "sent"} == set(got) - set(pending)


# ---- what is sent, to whom ---------------------------------------------------------------------------

def test_dry_run_lists_who_gets_which_file_and_sends_nothing(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:3])
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send", "--dry-run"], env=env_for(port))
    assert result.exit_code == 0, result.output
    assert (f"would send build/council/recipients/office-002.pdf to Member 002 <office-002@house.example.gov> "
            f"(recipient office-002) (council) via 127.0.0.1:{port}") in result.output
    assert f"would send water-press-{RELEASE}.pdf to Nellie Bly <nellie@paper.example.com>" in result.output
    assert result.output.count("would send") == 6
    assert sink.messages == []
    assert not (pack / "build" / "sent.json").exists() and not (pack / "build" / "dist").exists()


def test_json_names_each_recipient_and_their_file(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:2])
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send", "--json"], env=env_for(port))
    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)["sent"]
    own = sorted((m["recipient"], m["email"], m["file"]) for m in sent if "recipient" in m)
    assert own == [(f"office-00{i}", f"office-00{i}@house.example.gov", f"water-council-{RELEASE}-office-00{i}.pdf")
                   for i in (1, 2)]
    assert len(sent) == 5 and len(sink.messages) == 5


def test_a_recipient_of_an_edition_without_a_cover_gets_the_shared_pdf(tmp_path, smtp):
    reporter = {**office(9), "id": "reporter", "email": "desk@paper.example.com", "audience": "press",
                "salutation": ""}
    pack = make_pack(tmp_path, [office(1), reporter])
    sink, port = smtp
    assert send(pack, port) == 0
    msg = next(m for m in sink.parsed() if str(m["To"]).endswith("<desk@paper.example.com>"))
    attachment, = msg.iter_attachments()
    assert attachment.get_filename() == f"water-press-{RELEASE}.pdf"
    assert attachment.get_content() == (pack / "build" / "press" / "water-press.pdf").read_bytes()
    assert greeting(msg) == "Dear Member 009,"  # no salutation: by name


def test_an_address_on_the_list_that_has_its_own_pdf_gets_only_that(tmp_path, smtp):
    grace = {**office(1), "id": "grace", "name": "Grace Hopper", "email": "Grace@Council.example.org"}
    pack = make_pack(tmp_path, [grace])
    sink, port = smtp
    assert send(pack, port) == 0
    assert sorted(a.lower() for a in delivered(sink)) == sorted(LISTED)
    msg = next(m for m in sink.parsed() if "grace" in str(m["To"]).lower())
    attachment, = msg.iter_attachments()
    assert attachment.get_content() == own_pdf("grace")


def test_a_rebuilt_pdf_is_not_sent_again_in_the_same_release_but_a_new_edition_is(tmp_path, smtp, capsys):
    pack = make_pack(tmp_path, OFFICES[:2])
    sink, port = smtp
    assert send(pack, port) == 0
    assert len(sink.messages) == 5
    record_own_pdfs(pack, ["office-001", "office-002"], version=" (cover template changed)")
    assert send(pack, port) == 3  # one message per recipient and release: a cover tweak mails nobody again
    assert len(sink.messages) == 5
    assert "already sent water-council-2025-03-01-e2-office-001.pdf to Member 001" in capsys.readouterr().out

    pack_yaml = pack / "content" / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text().replace("edition: 2", "edition: 3"))
    fakebuild.fake_build(pack)
    record_own_pdfs(pack, ["office-001", "office-002"], version=" edition 3")
    assert send(pack, port) == 0
    new = sink.messages[5:]
    assert sorted(rcpts[0] for _, rcpts, _ in new) == sorted({"office-001@house.example.gov",
                                                              "office-002@house.example.gov"} | LISTED)


def test_message_ids_are_the_same_on_every_run_and_differ_between_recipients(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:3])
    sink, port = smtp
    assert send(pack, port) == 0
    first = {rcpts[0]: m["Message-ID"] for (_, rcpts, _), m in zip(sink.messages, sink.parsed(), strict=True)}
    (pack / "build" / "sent.json").unlink()  # as if on another machine
    assert send(pack, port) == 0
    second = {rcpts[0]: m["Message-ID"] for (_, rcpts, _), m in zip(sink.messages[6:], sink.parsed()[6:],
                                                                    strict=True)}
    assert first == second and len(set(first.values())) == 6
    assert all(mid.startswith("<brief.") and mid.endswith("@example.org>") for mid in first.values())


# ---- refusing ------------------------------------------------------------------------------------------

def test_a_recipient_pdf_not_built_stops_before_anything_is_written(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:3])
    write_recipients(pack, OFFICES[:4])  # a row added since the build
    fakebuild.fake_build(pack)
    record_own_pdfs(pack, ["office-001", "office-002", "office-003"])
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send"], env=env_for(port))
    assert result.exit_code == 2, result.output
    assert ("build/council/recipients/office-004.pdf: not built (recipient office-004, "
            "content/recipients.csv:6)") in result.output
    assert "Run `brief build -a council` first, then publish --send" in result.output
    assert sink.messages == []
    assert not (pack / "build" / "dist").exists() and not (pack / "build" / "sent.json").exists()


def test_a_recipient_pdf_changed_since_the_build_is_refused(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:3])
    (pack / "build" / "council" / "recipients" / "office-002.pdf").write_bytes(own_pdf("someone else"))
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send"], env=env_for(port))
    assert result.exit_code == 2, result.output
    assert ("build/council/recipients/office-002.pdf: changed since the build (recipient office-002, "
            "content/recipients.csv:4)") in result.output
    assert "Run `brief build -a council` first" in result.output
    assert sink.messages == [] and not (pack / "build" / "dist").exists()


def test_recipient_pdfs_made_before_the_recipients_changed_are_refused(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:3])
    write_recipients(pack, [OFFICES[0], {**OFFICES[1], "salutation": "Dear Chair"}, OFFICES[2]])
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send"], env=env_for(port))
    assert result.exit_code == 2, result.output
    assert "build/council/recipients/: made before content/recipients.csv changed" in result.output
    assert sink.messages == [] and not (pack / "build" / "dist").exists()


class RebuildingSink(Sink):
    """A server during whose first message someone rebuilds one recipient's PDF (a file changed mid-run)."""

    victim: Path | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.victim is not None:
            self.victim.write_bytes(own_pdf("rebuilt meanwhile"))
            self.victim = None
        return await super().handle_DATA(server, session, envelope)


def test_a_recipient_pdf_changed_during_the_run_is_not_sent(tmp_path, capsys):
    pack = make_pack(tmp_path, OFFICES[:3])
    sink = RebuildingSink()
    sink.victim = pack / "build" / "council" / "recipients" / "office-003.pdf"
    with serving(sink) as (_, port):
        assert send(pack, port) == 7
    err = capsys.readouterr().err
    assert ("not sending to Member 003 <office-003@house.example.gov> (recipient office-003): "
            "build/council/recipients/office-003.pdf changed since the build; run brief build again") in err
    assert "office-003@house.example.gov" not in delivered(sink) and len(sink.messages) == 5
    assert "office-003" not in {e.get("recipient") for e in sent_log(pack)}


def test_a_refused_recipient_is_reported_by_id_and_the_others_are_sent(tmp_path, smtp, capsys):
    pack = make_pack(tmp_path, OFFICES[:3])
    sink, port = smtp
    sink.refuse.add("office-002@house.example.gov")
    assert send(pack, port) == 7
    err = capsys.readouterr().err
    assert "Member 002 <office-002@house.example.gov> (recipient office-002): refused by 127.0.0.1" in err
    assert "550" in err
    assert "office-002@house.example.gov" not in delivered(sink) and len(sink.messages) == 5
    sink.refuse.clear()
    assert send(pack, port) == 0
    assert delivered(sink)[5:] == ["office-002@house.example.gov"]


def test_a_name_with_a_line_break_is_refused_with_its_line_and_nothing_is_sent(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:2])
    rows = [OFFICES[0], {**OFFICES[1], "name": "Eve\nBcc: everyone@example.com"}]
    write_recipients(pack, rows)
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send"], env=env_for(port))
    assert result.exit_code == 4, result.output
    assert "content/recipients.csv:4" in result.output and "name" in result.output
    assert sink.messages == [] and not (pack / "build" / "dist").exists()


def test_no_header_can_be_injected_through_a_name(tmp_path):
    # The content loader refuses such names; the message itself refuses them too.
    pack = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(pack)
    assert run_publish(pack, now=AFTER_EMBARGO) == 0
    release = read_release(pack / "build" / "dist" / RELEASE)
    pdf = release.files[0]
    for name in ("Eve\r\nBcc: everyone@example.com", "Eve\nBcc: everyone@example.com"):
        d = Delivery("council", release.name, pdf, name, "eve@example.org", "Office", recipient="eve")
        with pytest.raises(ValueError):
            message_bytes(build_message("Lab <briefs@example.org>", release, d, b"%PDF", AFTER_EMBARGO))


def test_a_non_ascii_name_arrives_intact_in_an_ascii_header(tmp_path, smtp):
    zoe = {**office(1), "name": "Zoë Ñúñez-Łukasz", "organisation": "Büro für Wasser", "salutation": "Liebe Zoë"}
    pack = make_pack(tmp_path, [zoe])
    sink, port = smtp
    assert send(pack, port) == 0
    raw = next(raw for _, rcpts, raw in sink.messages if rcpts == [zoe["email"]])
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # RFC 2047 encoded words, no raw UTF-8 in the header
    assert b"\nBcc" not in head and b"\nCc" not in head
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"].addresses[0].display_name == "Zoë Ñúñez-Łukasz (Büro für Wasser)"
    assert greeting(msg) == "Liebe Zoë,"


# ---- --rate, --shard -----------------------------------------------------------------------------------

def test_rate_spaces_the_messages_on_the_clock(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:4])
    sink, port = smtp
    clock = FakeClock()
    assert send(pack, port, clock=clock, rate=parse_rate("120/min")) == 0
    assert len(sink.messages) == 7
    assert clock.sleeps == [0.5] * 6  # the first at once, then one every half second


def test_throttle_waits_only_for_what_is_left_of_the_interval():
    clock = FakeClock()
    throttle = Throttle(Rate(2, "s"), clock.monotonic, clock.sleep)
    assert throttle.wait() == 0
    clock.now += 0.2  # sending took 0.2 s
    assert throttle.wait() == pytest.approx(0.3)
    clock.now += 0.9  # slower than the rate: no waiting
    assert throttle.wait() == 0
    assert Throttle(None, clock.monotonic, clock.sleep).wait() == 0


@pytest.mark.parametrize("text, interval", [("30/min", 2.0), ("2/s", 0.5), ("3600/h", 1.0), (" 1.5 / min ", 40.0)])
def test_rates(text, interval):
    assert parse_rate(text).interval == pytest.approx(interval)


def test_shards_split_the_messages_and_together_send_each_once(tmp_path, smtp):
    pack = make_pack(tmp_path, OFFICES[:40])
    sink, port = smtp
    from brief.output.shard import parse_shard

    for i in (1, 2, 3):
        assert send(pack, port, shard=parse_shard(f"{i}/3")) == 0
    got = delivered(sink)
    assert sorted(got) == sorted({r["email"] for r in OFFICES[:40]} | LISTED)
    assert send(pack, port, shard=parse_shard("2/3")) == 3


def test_a_recipient_stays_in_its_shard_when_rows_are_added():
    before = {r["id"]: shard_of(f"recipient:council/{r['id']}", 4) for r in OFFICES[:100]}
    after = {r["id"]: shard_of(f"recipient:council/{r['id']}", 4) for r in OFFICES}
    assert all(after[k] == v for k, v in before.items())
    counts = [list(after.values()).count(i) for i in (1, 2, 3, 4)]
    assert min(counts) > 100  # 535 over 4 shards: each gets a fair share


@pytest.mark.parametrize("args, message", [
    (["--send", "--shard", "3/2"], "--shard"),
    (["--send", "--shard", "0/0"], "--shard"),
    (["--send", "--rate", "fast"], "30/min"),
    (["--send", "--rate", "0/min"], "above 0"),
    (["--rate", "30/min"], "add --send"),
])
def test_bad_rate_or_shard_is_a_usage_error(tmp_path, args, message):
    result = CliRunner().invoke(main, ["publish", "-C", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output

