"""`brief publish --send`: each recipient gets their audience's PDF once, over a real SMTP server."""
from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief.cli import main
from brief.commands.publish import run_publish
from brief.errors import UsageError
from brief.publish.transport import SmtpConfig
from helpers import fakebuild
from helpers.smtp import Sink, delivered, env_for, free_port, sent_log, serving

FIXTURES = Path(__file__).parent / "fixtures" / "publish"
RELEASE = "2025-03-01-e2"
AFTER_EMBARGO = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
BEFORE_EMBARGO = datetime(2025, 3, 3, 13, 59, tzinfo=UTC)
RECIPIENTS = {"grace@council.example.org": "council", "alan@council.example.org": "council",
              "nellie@paper.example.com": "press"}


@pytest.fixture
def pack(tmp_path):
    p = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(p)
    return p


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def send(pack: Path, port: int, now=AFTER_EMBARGO, sleeps: Sleeps | None = None, **kwargs) -> int:
    options = {"email": {"sleep": sleeps if sleeps is not None else Sleeps(), "retry_delays": (0.25, 1.0),
                         "timeout": 10}}
    return run_publish(pack, send=True, exit_unchanged=True, env=kwargs.pop("env", env_for(port)), now=now,
                       publisher_options=options, **kwargs)


def test_each_recipient_gets_their_audiences_pdf(pack, smtp):
    sink, port = smtp
    assert send(pack, port) == 0
    assert sorted(rcpts[0] for _, rcpts, _ in sink.messages) == sorted(RECIPIENTS)
    assert all(len(rcpts) == 1 for _, rcpts, _ in sink.messages)  # nobody sees the rest of the list
    assert {mail_from for mail_from, _, _ in sink.messages} == {"briefs@example.org"}
    for msg in sink.parsed():
        address = msg["To"].addresses[0].addr_spec
        audience = RECIPIENTS[address]
        attachments = list(msg.iter_attachments())
        assert len(attachments) == 1
        pdf = attachments[0]
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == f"water-{audience}-{RELEASE}.pdf"
        built = pack / "build" / audience / f"water-{audience}.pdf"
        assert pdf.get_content() == built.read_bytes()  # byte for byte
        title = {"council": "Council brief", "press": "Press briefing"}[audience]
        assert msg["Subject"] == f"Municipal Water Compact: {title} (edition 2, as of 2025-03-01)"
        note = msg.get_body(("plain",)).get_content()
        assert f"Attached is the {title} of \"Municipal Water Compact\", edition 2, as of 1 March 2025." in note
        assert "EMBARGO: not for publication or onward distribution before 2025-03-03 09:00-05:00." in note
        assert "Handling: For the named recipient only until the embargo lifts." in note
    grace = next(m for m in sink.parsed() if "grace@" in str(m["To"]))
    assert grace["To"].addresses[0].display_name == "Grace Hopper (Water Committee)"

    log = sent_log(pack)
    assert sorted(e["email"] for e in log) == sorted(RECIPIENTS)
    assert {e["status"] for e in log} == {"sent"}
    for _, _, raw in sink.messages:  # never folded: some mail systems mangle a folded Message-ID
        assert re.search(rb"^Message-ID: <[^>\r\n]+>\r?$", raw, re.M | re.I), raw[:400]
    ids = {m["Message-ID"] for m in sink.parsed()}
    assert {e["message_id"] for e in log} == ids and len(ids) == 3
    assert all(e["release"] == RELEASE and e["time"] == "2025-03-03T14:00:00+00:00" for e in log)


def test_rerun_sends_nothing(pack, smtp):
    sink, port = smtp
    assert send(pack, port) == 0
    log = (pack / "build" / "sent.json").read_bytes()
    assert send(pack, port) == 3
    assert len(sink.messages) == 3
    assert (pack / "build" / "sent.json").read_bytes() == log


def test_rerun_sends_only_what_is_missing(pack, smtp):
    sink, port = smtp
    assert send(pack, port) == 0
    path = pack / "build" / "sent.json"
    data = json.loads(path.read_text())
    data["messages"] = [e for e in data["messages"] if e["email"] != "alan@council.example.org"]
    path.write_text(json.dumps(data))
    assert send(pack, port) == 0
    assert [rcpts for _, rcpts, _ in sink.messages[3:]] == [["alan@council.example.org"]]


def test_same_address_twice_in_a_list_gets_one_message(pack, smtp):
    sink, port = smtp
    dist = pack / "content" / "distribution.yaml"
    dist.write_text(dist.read_text().replace(
        "    - name: Alan Turing\n      email: alan@council.example.org\n",
        "    - name: Alan Turing\n      email: alan@council.example.org\n"
        "    - name: A. Turing\n      email: Alan@Council.example.org\n"))
    assert send(pack, port) == 0
    assert len(sink.messages) == 3


def test_embargoed_edition_is_held_and_ignore_embargo_sends_it(pack, smtp):
    sink, port = smtp
    assert send(pack, port, now=BEFORE_EMBARGO) == 3
    assert sink.messages == []
    assert not (pack / "build" / "sent.json").exists() and not (pack / "build" / "dist").exists()
    assert send(pack, port, now=BEFORE_EMBARGO, ignore_embargo=True) == 0
    assert len(sink.messages) == 3


def test_unreachable_server_fails_with_exit_7_and_marks_nothing_sent(pack, smtp, capsys):
    sink, port = smtp
    closed = free_port()
    sleeps = Sleeps()
    assert send(pack, closed, sleeps=sleeps) == 7
    err = capsys.readouterr().err
    assert f"cannot reach the SMTP server 127.0.0.1:{closed} after 3 tries" in err
    assert sleeps == [0.25, 1.0]  # bounded retries with backoff, no real waiting in tests
    assert not (pack / "build" / "sent.json").exists()
    # The release was written; once the server is back, a re-run sends everything.
    assert (pack / "build" / "dist" / RELEASE).is_dir()
    assert send(pack, port) == 0
    assert len(sink.messages) == 3


def test_temporary_failure_is_retried(pack, smtp):
    sink, port = smtp
    sink.fail_data = 1
    sleeps = Sleeps()
    assert send(pack, port, sleeps=sleeps) == 0
    assert sleeps == [0.25]
    assert len(sink.messages) == 3
    assert len(sent_log(pack)) == 3


def test_refused_recipient_fails_and_only_the_others_are_logged(pack, smtp, capsys):
    sink, port = smtp
    sink.refuse.add("alan@council.example.org")
    assert send(pack, port) == 7
    err = capsys.readouterr().err
    assert "Alan Turing <alan@council.example.org>: refused by 127.0.0.1" in err
    assert "550" in err
    assert sorted(e["email"] for e in sent_log(pack)) == ["grace@council.example.org", "nellie@paper.example.com"]
    sink.refuse.clear()
    assert send(pack, port) == 0
    assert sorted(e["email"] for e in sent_log(pack)) == sorted(RECIPIENTS)
    assert len(sink.messages) == 3


def test_line_break_in_a_name_is_refused_before_connecting(pack, smtp):
    sink, port = smtp
    (pack / "content" / "distribution.yaml").write_text((FIXTURES / "crlf-name-distribution.yaml").read_text())
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send"],
                                env=env_for(free_port()))  # a closed port: connecting would fail with 7
    assert result.exit_code == 4, result.output
    assert "content/distribution.yaml:4:13: lists.council[0].name: " in result.output
    assert "line break" in result.output
    assert sink.messages == []
    assert not (pack / "build" / "dist").exists() and not (pack / "build" / "sent.json").exists()


def test_dry_run_lists_recipients_and_sends_nothing(pack, smtp):
    sink, port = smtp
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send", "--dry-run"], env=env_for(port))
    assert result.exit_code == 0, result.output
    assert (f"would send water-council-{RELEASE}.pdf to Grace Hopper <grace@council.example.org> (council) "
            f"via 127.0.0.1:{port}") in result.output
    assert f"would send water-press-{RELEASE}.pdf to Nellie Bly <nellie@paper.example.com>" in result.output
    assert sink.messages == []
    assert not (pack / "build" / "dist").exists() and not (pack / "build" / "sent.json").exists()


def test_missing_host_names_the_variables(pack):
    result = CliRunner().invoke(main, ["publish", "-C", str(pack), "--send"], env={"BRIEF_SMTP_HOST": ""})
    assert result.exit_code == 2
    for name in ("BRIEF_SMTP_HOST", "BRIEF_SMTP_PORT", "BRIEF_SMTP_USER", "BRIEF_SMTP_PASSWORD", "BRIEF_SMTP_FROM",
                 "BRIEF_SMTP_STARTTLS"):
        assert name in result.output
    assert not (pack / "build" / "dist").exists()


@pytest.mark.parametrize("host", ["smtp.example.org", "10.0.0.5", "localhost.evil.example"])
def test_starttls_off_is_refused_for_a_remote_server(host):
    env = {"BRIEF_SMTP_HOST": host, "BRIEF_SMTP_FROM": "b@example.org", "BRIEF_SMTP_STARTTLS": "0"}
    with pytest.raises(UsageError, match="allowed only for a server on this machine"):
        SmtpConfig.from_env(env)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_starttls_off_is_allowed_locally(host):
    env = {"BRIEF_SMTP_HOST": host, "BRIEF_SMTP_FROM": "b@example.org", "BRIEF_SMTP_STARTTLS": "off"}
    assert SmtpConfig.from_env(env).starttls is False


def test_defaults():
    c = SmtpConfig.from_env({"BRIEF_SMTP_HOST": "smtp.example.org", "BRIEF_SMTP_FROM": "Lab <b@example.org>"})
    assert (c.port, c.starttls, c.user, c.envelope_from) == (587, True, None, "b@example.org")
    with pytest.raises(UsageError, match="BRIEF_SMTP_PORT"):
        SmtpConfig.from_env({"BRIEF_SMTP_HOST": "h", "BRIEF_SMTP_FROM": "b@x.org", "BRIEF_SMTP_PORT": "smtp"})
    with pytest.raises(UsageError, match="BRIEF_SMTP_PASSWORD"):
        SmtpConfig.from_env({"BRIEF_SMTP_HOST": "h", "BRIEF_SMTP_FROM": "b@x.org", "BRIEF_SMTP_USER": "u"})


def test_server_without_starttls_is_never_used_in_clear(pack, smtp, capsys):
    sink, port = smtp
    env = env_for(port)
    del env["BRIEF_SMTP_STARTTLS"]  # on by default; the test server offers no STARTTLS
    assert send(pack, port, env=env) == 7
    assert "does not offer STARTTLS, so brief will not send over it" in capsys.readouterr().err
    assert sink.messages == [] and not (pack / "build" / "sent.json").exists()


def test_damaged_send_log_stops_sending(pack, smtp, capsys):
    sink, port = smtp
    (pack / "build" / "sent.json").write_text("{not json")
    assert send(pack, port) == 7
    assert "is damaged" in capsys.readouterr().err
    assert sink.messages == []
    assert not (pack / "build" / "dist").exists()  # refused before anything was written


def test_message_pending_from_a_killed_run_is_not_resent(pack, smtp, capsys):
    sink, port = smtp
    assert send(pack, port) == 0
    path = pack / "build" / "sent.json"
    data = json.loads(path.read_text())
    for e in data["messages"]:
        if e["email"] == "nellie@paper.example.com":
            e["status"] = "pending"
            del e["message_id"], e["time"]
    path.write_text(json.dumps(data))
    assert send(pack, port) == 3
    assert len(sink.messages) == 3
    err = capsys.readouterr().err
    assert "Nellie Bly <nellie@paper.example.com> may or may not have been delivered" in err


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # fine on 127.0.0.1
def test_login_with_user_and_password(pack, capsys):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"lab", b"s3cret")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    with serving(Sink(), authenticator=authenticator, auth_required=True, auth_require_tls=False) as (sink, port):
        wrong = env_for(port, BRIEF_SMTP_USER="lab", BRIEF_SMTP_PASSWORD="guess")
        sleeps = Sleeps()
        assert send(pack, port, env=wrong, sleeps=sleeps) == 7
        assert sleeps == []  # a refused login is not retried
        assert "refused the login for lab (535" in capsys.readouterr().err
        assert sink.messages == [] and not (pack / "build" / "sent.json").exists()
        right = env_for(port, BRIEF_SMTP_USER="lab", BRIEF_SMTP_PASSWORD="s3cret")
        assert send(pack, port, env=right) == 0
        assert len(sink.messages) == 3


def test_connection_lost_before_data_is_retried(pack, smtp):
    sink, port = smtp
    sink.hang_up_at_rcpt.add("alan@council.example.org")
    sleeps = Sleeps()
    assert send(pack, port, sleeps=sleeps) == 0
    assert sleeps == [0.25]
    assert sorted(delivered(sink)) == sorted(RECIPIENTS)  # alan once, on the second try
    assert {e["status"] for e in sent_log(pack)} == {"sent"}


def test_connection_lost_after_data_is_never_resent(pack, smtp, capsys):
    sink, port = smtp
    sink.hang_up_after_data.add("alan@council.example.org")
    sleeps = Sleeps()
    assert send(pack, port, sleeps=sleeps) == 7
    err = capsys.readouterr().err
    assert "after handing over water-council-2025-03-01-e2.pdf for Alan Turing <alan@council.example.org>" in err
    assert "may or may not have been delivered" in err
    assert sleeps == []  # not retried
    assert sorted(delivered(sink)) == sorted(RECIPIENTS)  # alan's copy was handed over once; nellie still got hers
    status = {e["email"]: e["status"] for e in sent_log(pack)}
    assert status == {"grace@council.example.org": "sent", "alan@council.example.org": "pending",
                      "nellie@paper.example.com": "sent"}
    sink.hang_up_after_data.clear()
    assert send(pack, port) == 3  # a re-run does not send it again, and says so
    assert "Alan Turing <alan@council.example.org> may or may not have been delivered" in capsys.readouterr().err
    assert len(sink.messages) == 3


def test_altered_release_pdf_is_never_sent(pack, smtp, capsys):
    sink, port = smtp
    assert run_publish(pack, now=AFTER_EMBARGO) == 0  # published, not sent yet
    pdf = pack / "build" / "dist" / RELEASE / f"water-press-{RELEASE}.pdf"
    pdf.write_bytes(pdf.read_bytes().replace(b"Press briefing", b"Press briefinG"))
    assert send(pack, port) == 7
    err = capsys.readouterr().err
    assert (f"not sending water-press-{RELEASE}.pdf to Nellie Bly <nellie@paper.example.com>: "
            f"in {pack / 'build' / 'dist' / RELEASE}, water-press-{RELEASE}.pdf differs from the release's "
            f"manifest.json") in err
    assert f"build/dist/{RELEASE}/ is damaged" in err and f"rm -r build/dist/{RELEASE}" in err
    assert sorted(delivered(sink)) == ["alan@council.example.org", "grace@council.example.org"]
    assert sorted(e["email"] for e in sent_log(pack)) == ["alan@council.example.org", "grace@council.example.org"]
    # Doing what the message says brings back the published file, which is then sent.
    import shutil
    shutil.rmtree(pack / "build" / "dist" / RELEASE)
    assert send(pack, port) == 0
    (_, rcpts, raw), = sink.messages[2:]
    assert rcpts == ["nellie@paper.example.com"]
    attachment, = email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
    assert attachment.get_content() == (pack / "build" / "press" / "water-press.pdf").read_bytes()


def test_missing_release_pdf_fails_only_its_audience(pack, smtp, capsys):
    sink, port = smtp
    assert run_publish(pack, now=AFTER_EMBARGO) == 0
    (pack / "build" / "dist" / RELEASE / f"water-council-{RELEASE}.pdf").unlink()
    assert send(pack, port) == 7
    err = capsys.readouterr().err
    assert f"not sending water-council-{RELEASE}.pdf to Grace Hopper <grace@council.example.org>" in err
    assert f"water-council-{RELEASE}.pdf is missing" in err
    assert delivered(sink) == ["nellie@paper.example.com"]
    assert [e["email"] for e in sent_log(pack)] == ["nellie@paper.example.com"]


UNSENDABLE = """\
lists:
  council:
    - name: Grace Hopper
      email: grace@council.example.org
    - name: Jürgen Habermas
      email: jürgen@council.example.org
    - name: "Ada\\vLovelace"
      email: ada@council.example.org
  press:
    - name: Nellie Bly
      email: nellie@paper.example.com
"""


def test_a_recipient_that_cannot_be_sent_is_reported_and_the_others_are_sent(pack, smtp):
    # The content model refuses such values; this is the safety net behind it, so the
    # publisher is given the list directly.
    from types import SimpleNamespace

    from brief.errors import SendError
    from brief.publish.mail import EmailPublisher
    from brief.publish.release import read_release

    sink, port = smtp
    assert run_publish(pack, now=AFTER_EMBARGO) == 0
    dist_file = pack / "content" / "distribution.yaml"
    dist_file.write_text(UNSENDABLE, encoding="utf-8")
    people = lambda *rs: [SimpleNamespace(name=n, email=e, office=None) for n, e in rs]  # noqa: E731
    distribution = SimpleNamespace(lists={
        "council": people(("Grace Hopper", "grace@council.example.org"),
                          ("Jürgen Habermas", "jürgen@council.example.org"),
                          ("Ada\vLovelace", "ada@council.example.org")),
        "press": people(("Nellie Bly", "nellie@paper.example.com"))})
    folder = pack / "build" / "dist" / RELEASE
    publisher = EmailPublisher(release_dir=folder, build_dir=pack / "build", distribution=distribution,
                               dist_path=dist_file, env=env_for(port), now=lambda: AFTER_EMBARGO, sleep=Sleeps(),
                               retry_delays=(0.25, 1.0))
    events = []
    with pytest.raises(SendError) as failure:
        for event in publisher.publish(read_release(folder)):
            events.append(event)
    assert failure.value.exit_code == 7
    report = failure.value.message
    assert "2 messages not delivered" in report
    assert "content/distribution.yaml:5: lists.council[1]: Jürgen Habermas <jürgen@council.example.org>" in report
    assert "content/distribution.yaml:7: lists.council[2]: Ada\\x0bLovelace <ada@council.example.org>" in report
    assert sorted(delivered(sink)) == ["grace@council.example.org", "nellie@paper.example.com"]
    assert sorted((e["email"], e["status"]) for e in sent_log(pack)) == [
        ("grace@council.example.org", "sent"), ("nellie@paper.example.com", "sent")]
    assert [e.kind for e in events].count("failed") == 2
