"""Time `brief publish --send` of 535 personalised congress PDFs to a local SMTP server (aiosmtpd).

Run from the repository: .venv/bin/python bench/bench_send.py [--runs 3] [--recipients 535] [--rate RATE]

The pack is a copy of the STA pack with N synthetic offices (as bench_recipients.py makes them),
built once with `brief build --all`. Each run then sends from an empty send log, in a fresh
`brief publish --send` process: every recipient's own PDF plus the distribution lists, each
message written to the send log before and after it is handed over (two atomic, fsynced writes).
The server keeps the messages in memory; the first run's are checked (one per address, the
attachment byte for byte the built file). Also timed: a re-run that finds everything sent.
No target: the figures say how long a mailing takes on this machine, and what the send log costs.
"""
from __future__ import annotations

import argparse
import csv
import email
import email.policy
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from bench_recipients import fresh_pack

BRIEF = Path(sys.executable).with_name("brief")


class Keep:
    """An aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed


def check(messages: list[tuple[list[str], bytes]], pack: Path) -> int:
    """Check one message per address and each office's attachment against its built file; return the count."""
    with open(pack / "content" / "recipients.csv", encoding="utf-8", newline="") as f:
        ids = {row["email"]: row["id"] for row in csv.DictReader(f)}
    addresses = [rcpts[0] for rcpts, _ in messages]
    if len(addresses) != len(set(addresses)) or not set(ids) <= set(addresses):
        sys.exit("not every office got exactly one message")
    for address, raw in messages:
        if address[0] in ids:
            attachment = next(email.message_from_bytes(raw, policy=email.policy.default).iter_attachments())
            path = pack / "build" / "congress" / "recipients" / f"{ids[address[0]]}.pdf"
            if attachment.get_content() != path.read_bytes():
                sys.exit(f"{address[0]}: the attachment differs from {path}")
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recipients", type=int, default=535)
    parser.add_argument("--rate", help="pass --rate to brief publish (e.g. 6000/min)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pack = fresh_pack(Path(tmp), args.recipients)
        start = time.perf_counter()
        run([str(BRIEF), "build", "--all", "-q", "-C", str(pack)], dict(os.environ))
        print(f"brief build --all with {args.recipients} recipients: {time.perf_counter() - start:.1f} s (once)")
        sizes = [p.stat().st_size for p in (pack / "build" / "congress" / "recipients").glob("*.pdf")]

        keep = Keep()
        controller = Controller(keep, hostname="127.0.0.1", port=free_port())
        controller.start()
        env = {**os.environ, "BRIEF_SMTP_HOST": "127.0.0.1", "BRIEF_SMTP_PORT": str(controller.port),
               "BRIEF_SMTP_STARTTLS": "0", "BRIEF_SMTP_FROM": "Bench <briefs@example.org>"}
        send = [str(BRIEF), "publish", "--send", "--ignore-embargo", "-q", "-C", str(pack)]
        send += ["--rate", args.rate] if args.rate else []
        sends, reruns, counts = [], [], []
        try:
            for i in range(args.runs):
                (pack / "build" / "sent.json").unlink(missing_ok=True)
                keep.messages.clear()
                sends.append(run(send, env))
                counts.append(len(keep.messages))
                if i == 0:
                    own = check(keep.messages, pack)
                reruns.append(run(send, env))
        finally:
            controller.stop()
        log = (pack / "build" / "sent.json").stat().st_size

    sent, per = counts[0], statistics.median(sends) / counts[0]
    print(f"cores: {os.cpu_count()}, runs: {args.runs}, messages per run: {sent} ({own} own PDFs, checked byte "
          f"for byte), PDF median {statistics.median(sizes) / 1024:.0f} KiB")
    print(f"brief publish --send     median {statistics.median(sends):.2f} s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in sends)}), {per * 1000:.1f} ms a message, "
          f"{sent / statistics.median(sends):.0f} messages/s")
    print(f"re-run, all sent         median {statistics.median(reruns):.2f} s")
    print(f"send log                 {log / 1024:.0f} KiB for {sent} messages")


if __name__ == "__main__":
    main()
