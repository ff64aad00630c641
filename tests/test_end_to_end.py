"""The whole unattended chain on real output: build, publish, mail, re-run does nothing."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from brief.cli import main
from brief.errors import NOTHING_TO_DO
from helpers import copy_pack
from helpers.smtp import env_for

ATOM = "{http://www.w3.org/2005/Atom}"
pytestmark = pytest.mark.slow


def test_build_publish_send_then_nothing_twice(tmp_path, smtp):  # smtp: a real SMTP server on 127.0.0.1
    sink, port = smtp
    pack = copy_pack("publish", tmp_path / "pack")
    runner = CliRunner()

    built = runner.invoke(main, ["build", "-C", str(pack), "--all"])
    assert built.exit_code == 0, built.output
    pdfs = {p.parent.name: p.read_bytes() for p in (pack / "build").glob("*/*.pdf")}
    assert set(pdfs) == {"council", "press"}

    # The fixture's embargo (3 March 2025) has passed: publish and send both go ahead.
    published = runner.invoke(main, ["publish", "-C", str(pack), "--send"], env=env_for(port))
    assert published.exit_code == 0, published.output
    release = pack / "build/dist/2025-03-01-e2"
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=release, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    feed = ET.parse(pack / "build/dist/feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    enclosures = [link for link in feed.iter(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert {link.get("type") for link in enclosures} == {"application/pdf"}
    assert len(enclosures) == 2

    # Every recipient got their own audience's PDF, byte for byte what the build wrote.
    received = {}
    for message in sink.parsed():
        (attachment,) = list(message.iter_attachments())
        received[str(message["To"])] = attachment.get_content()
    assert len(received) == 3
    for to, pdf in received.items():
        audience = "press" if "paper.example.com" in to else "council"
        assert pdf == pdfs[audience], to

    # Run everything again: nothing is rebuilt, released or sent.
    assert runner.invoke(main, ["build", "-C", str(pack), "--all", "--exit-unchanged"]).exit_code == NOTHING_TO_DO
    again = runner.invoke(main, ["publish", "-C", str(pack), "--send", "--exit-unchanged"], env=env_for(port))
    assert again.exit_code == NOTHING_TO_DO, again.output
    assert len(sink.messages) == 3
