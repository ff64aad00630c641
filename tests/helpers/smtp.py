"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1 (the `smtp` fixture in conftest.py runs it)."""
from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(sink: Sink, **options: Any) -> Iterator[tuple[Sink, int]]:
    """Run a real SMTP server (aiosmtpd) with sink as its handler on 127.0.0.1: yield (sink, port)."""
    from aiosmtpd.controller import Controller

    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


class Sink:
    """An aiosmtpd handler keeping every message; can refuse addresses or fail DATA for a while."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.fail_data = 0  # answer 451 to this many DATA commands first
        self.hang_up_at_rcpt: set[str] = set()  # close the connection once at RCPT TO for these
        self.hang_up_after_data: set[str] = set()  # take the message, then close without answering

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.hang_up_at_rcpt:
            self.hang_up_at_rcpt.discard(address)
            server.transport.close()
            return "250 OK"  # never reaches the client
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_data:
            self.fail_data -= 1
            return "451 4.3.0 try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if set(envelope.rcpt_tos) & self.hang_up_after_data:
            server.transport.close()
        return "250 Message accepted for delivery"

    def parsed(self):
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]


def delivered(sink: Sink) -> list[str]:
    """The address each message the server took went to, in order."""
    return [rcpts[0] for _, rcpts, _ in sink.messages]


def sent_log(pack: Path) -> list[dict]:
    """The messages build/sent.json records."""
    return json.loads((pack / "build" / "sent.json").read_text())["messages"]


def env_for(port: int, **extra: str) -> dict[str, str]:
    return {"BRIEF_SMTP_HOST": "127.0.0.1", "BRIEF_SMTP_PORT": str(port), "BRIEF_SMTP_STARTTLS": "0",
            "BRIEF_SMTP_FROM": "Example Policy Lab <briefs@example.org>", **extra}
