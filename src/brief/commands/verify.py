"""`brief verify FILE...`: tell a recipient whether a signed PDF is intact, who signed it, and whether to trust them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from brief.commands import Output
from brief.errors import NotVerified, UsageError
from brief.publish.verify import (
    NOT_CHECKED,
    SignatureReport,
    VerifyReport,
    load_trust_roots,
    require_pyhanko,
    verify_pdf,
)


def run_verify(files: Sequence[Path], trust: Sequence[Path] = ()) -> int:
    """Verify each file and print its report; return 0, or raise NotVerified (exit 8) naming each that fails."""
    require_pyhanko()
    roots = load_trust_roots(trust) if trust else None
    out = Output()
    failed: list[str] = []
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {file} ({e.strerror or e})") from None
        report = verify_pdf(data, file.name, roots)
        for line in report_lines(report):
            out.echo(line)
        if not report.ok:
            failed.append(f"{file.name} does not verify: " + "; ".join(report.problems))
    if failed:  # the verdict first: a file that does not verify exits 8 even when stdout is full
        raise NotVerified("\n".join(failed))
    out.check()
    return 0


def report_lines(report: VerifyReport) -> list[str]:
    """The report for a person: a verdict line, then each signature's details."""
    if not report.signatures:
        return []
    verdict = "intact" if report.ok else "NOT VERIFIED"
    n = len(report.signatures)
    lines = [f"{report.file}: {verdict}, {n} signature{'s' if n != 1 else ''}"]
    for s in report.signatures:
        lines += [f"  {s.field}:", *(f"    {label:<12} {text}" for label, text in _details(s, report.trust_checked))]
    return lines


def _details(s: SignatureReport, trust_checked: bool) -> list[tuple[str, str]]:
    rows = [
        ("signed by", s.signer),
        ("certificate", f"SHA-256 {s.fingerprint}"),
        ("issued by", s.issuer),
        ("signed at", _when(s)),
        ("integrity", _integrity(s)),
    ]
    if not s.intact:
        rows.append(("trust", "not assessed: the signature does not hold"))
    elif not trust_checked:
        rows.append(("trust", f"{NOT_CHECKED}; pass --trust CA.pem (the organisation's CA certificate) to check"))
    elif s.trusted:
        rows.append(("trust", "trusted: the certificate leads to a given trust root"))
    else:
        rows.append(("trust", f"NOT trusted: {s.trust_problem or 'no path to a given trust root'}"))
    return rows


def _when(s: SignatureReport) -> str:
    if s.timestamp is not None:
        return f"{_utc(s.timestamp)} (time-stamping authority; {s.level})"
    claimed = _utc(s.signed_at) if s.signed_at else "unknown"
    return f"{claimed} (the signer's own clock; {s.level}, no trusted timestamp)"


def _integrity(s: SignatureReport) -> str:
    if not s.intact:
        return "ALTERED: the signed bytes do not match the signature"
    if s.whole_file:
        return "intact: the signature covers the whole file"
    if s.acceptable:
        return "intact: only signature upkeep (timestamps, validation data) was added after signing"
    return f"CHANGED after signing: content was added (modification level {s.modification or 'unknown'})"


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
