"""Check a signed PDF as a recipient would: intact or altered, who signed it, when, and whether they are trusted.

pyHanko does the cryptography (the signed byte ranges' hash, the CMS signature,
the certificate path to a trust root) and the analysis of anything appended
after signing (``modification_level``). This module turns its findings into a
report a person can act on. It makes no network requests: revocation is not
checked, and trust is checked only against the roots the caller gives.
"""
from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from brief.errors import UsageError

NOT_CHECKED = "not checked against a trust root"
INSTALL = "signing and verifying need pyHanko: install brief with its signing extra, pip install 'brief-packs[sign]'"


@dataclass(frozen=True)
class SignatureReport:
    """What one signature in a PDF says, and whether it holds."""

    field: str
    intact: bool  # the signed bytes hash to what was signed, and the signature over that hash is valid
    whole_file: bool  # the signature covers every byte of the file
    modification: str | None  # pyHanko's modification_level of anything added after signing ("NONE", ...)
    acceptable: bool  # nothing, or only signature upkeep (timestamps, validation data), was added after it
    signer: str
    issuer: str
    fingerprint: str  # SHA-256 of the signer's certificate, as `openssl x509 -fingerprint -sha256` prints it
    signed_at: datetime | None  # the signer's own clock
    timestamp: datetime | None  # a time-stamping authority's time (PAdES B-T), when there is one
    trusted: bool | None  # None: no trust root was given
    trust_problem: str | None = None

    @property
    def level(self) -> str:
        return "PAdES B-T" if self.timestamp else "PAdES B-B"


@dataclass
class VerifyReport:
    """The verdict on one file: its signatures and everything wrong with it (nothing: it verifies)."""

    file: str
    signatures: list[SignatureReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    trust_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@contextmanager
def quiet_pyhanko() -> Iterator[None]:
    """Silence pyHanko's own logging (it logs tracebacks for expected failures); we report them ourselves."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    previous = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
        lg.propagate = False
    try:
        yield
    finally:
        for lg, (level, propagate) in zip(loggers, previous, strict=True):
            lg.setLevel(level)
            lg.propagate = propagate


def require_pyhanko() -> None:
    """Raise UsageError (exit 2) saying how to install pyHanko when it is missing."""
    try:
        import pyhanko  # noqa: F401
        import pyhanko_certvalidator  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL) from None


def printable(text: Any) -> str:
    """Escape control and formatting characters: a certificate or PDF could otherwise forge lines on a terminal."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                   for c in str(text))


def describe(name: Any) -> str:
    """Name a certificate's subject or issuer as 'Common Name (Organisation)'."""
    parts = name.native if hasattr(name, "native") else {}
    cn, org = parts.get("common_name"), parts.get("organization_name")
    if cn and org:
        return printable(f"{cn} ({org})")
    return printable(cn or org or name.human_friendly)


def fingerprint(der: bytes) -> str:
    """Return the SHA-256 fingerprint of a DER certificate as colon-separated upper-case hex."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def load_trust_roots(paths: Sequence[Path]) -> list[Any]:
    """Read trust-root certificates (PEM or DER, several per file allowed); UsageError naming a bad file."""
    from pyhanko.keys import load_certs_from_pemder

    roots: list[Any] = []  # asn1crypto certificates
    for path in paths:
        try:
            found = list(load_certs_from_pemder([str(path)]))
        except OSError as e:
            raise UsageError(f"--trust {path}: cannot read it ({e.strerror or e})") from None
        except ValueError:
            found = []
        if not found:
            raise UsageError(f"--trust {path}: no certificate in it; give the signer's CA certificate as a PEM "
                             f"or DER file")
        roots += found
    return roots


def verify_pdf(data: bytes, name: str, trust_roots: Sequence[Any] | None = None,
               moment: datetime | None = None) -> VerifyReport:
    """Check every signature in a PDF's bytes; list each problem in the report (trust only with trust_roots).

    moment is when to judge the certificates (default: now).
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    report = VerifyReport(name, trust_checked=trust_roots is not None)
    if b"%PDF-" not in data[:1024]:  # where the PDF standard allows the header to start
        report.problems.append("not a PDF file")
        return report
    with quiet_pyhanko():
        try:
            embedded = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        except (PdfError, ValueError, KeyError, TypeError, IndexError) as e:
            report.problems.append(f"damaged: it cannot be read as a PDF ({printable(e)}); if it was signed, it "
                                   f"was altered")
            return report
        if not embedded:
            report.problems.append("not signed: it carries no signature, so nothing vouches for where it came from")
            return report
        for sig in embedded:
            try:
                report.signatures.append(_check(sig, trust_roots, moment))
            except (PdfError, ValueError, KeyError, TypeError, IndexError) as e:
                report.problems.append(f"signature {printable(sig.field_name)}: damaged, cannot be checked "
                                       f"({printable(e)})")
    _judge(report)
    return report


def _validate(sig: Any, trust_roots: Sequence[Any] | None, moment: datetime | None) -> Any:
    """Run pyHanko's validation, offline; with a trusted timestamp, judge the signer as of that time.

    Without the second step a time-stamped (B-T) signature would turn untrusted the day its certificate
    expires, which is what the timestamp is there to prevent.
    """
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)

    def context(at: datetime | None) -> Any:
        return ValidationContext(trust_roots=list(trust_roots or []), allow_fetching=False, moment=at)

    status = validate_pdf_signature(sig, context(moment), key_usage_settings=usage)
    ts = status.timestamp_validity
    if trust_roots and not status.trusted and status.intact and status.valid and ts is not None and ts.trusted:
        status = validate_pdf_signature(sig, context(ts.timestamp), ts_validation_context=context(moment),
                                        key_usage_settings=usage)
    return status


def _check(sig: Any, trust_roots: Sequence[Any] | None, moment: datetime | None) -> SignatureReport:
    """Validate one embedded signature and describe it."""
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        status = _validate(sig, trust_roots, moment)
    except SignatureValidationError as e:  # a CMS structure pyHanko cannot even evaluate: not intact
        cert = sig.signer_cert
        return SignatureReport(printable(sig.field_name), False, False, None, False, describe(cert.subject),
                               describe(cert.issuer), fingerprint(cert.dump()), None, None,
                               False if trust_roots is not None else None, printable(e))
    level = status.modification_level
    ts = status.timestamp_validity
    cert = status.signing_cert
    return SignatureReport(
        field=printable(sig.field_name),
        intact=bool(status.intact and status.valid),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modification=level.name if level is not None else None,
        acceptable=status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        or (level is not None and level.name == "LTA_UPDATES" and status.docmdp_ok is not False),
        signer=describe(cert.subject), issuer=describe(cert.issuer), fingerprint=fingerprint(cert.dump()),
        signed_at=status.signer_reported_dt,
        timestamp=ts.timestamp if ts is not None and ts.intact and ts.valid else None,
        trusted=status.trusted if trust_roots is not None else None,
        trust_problem=_words(status.trust_problem_indic) if trust_roots is not None else None,
    )


def _judge(report: VerifyReport) -> None:
    """Add a problem for each signature that is broken, extended beyond upkeep, or not trusted."""
    for s in report.signatures:
        if not s.intact:
            report.problems.append(f"altered: the signed bytes of {s.field} no longer match its signature")
        elif not s.acceptable:
            report.problems.append(f"altered after signing: content was added after {s.field} "
                                   f"(modification level {s.modification or 'unknown'})")
        if s.intact and s.trusted is False:  # a broken signature says nothing about trust: reported above
            report.problems.append(f"not trusted: {s.signer}'s certificate does not hold against the given trust "
                                   f"root: {s.trust_problem or 'no valid path'}")


_INDICATIONS = {  # the AdES sub-indications a recipient meets, in words
    "NO_CERTIFICATE_CHAIN_FOUND": "no chain of certificates leads from it to a given trust root",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "its chain does not verify up to the given trust root (another CA "
                                         "of the same name, or a broken chain)",
    "OUT_OF_BOUNDS_NO_POE": "it has expired (or is not yet valid), and no trusted timestamp shows the file was "
                            "signed while it was valid",
    "OUT_OF_BOUNDS_NOT_REVOKED": "it has expired (or is not yet valid)",
    "EXPIRED": "it has expired",
    "NOT_YET_VALID": "it is not valid yet",
    "CHAIN_CONSTRAINTS_FAILURE": "the certificate chain breaks a constraint (e.g. it is not meant for signing)",
}


def _words(indication: Any) -> str | None:
    """Turn a pyHanko AdES sub-indication (e.g. NO_CERTIFICATE_CHAIN_FOUND) into words."""
    if indication is None:
        return None
    name = str(getattr(indication, "name", indication))
    return _INDICATIONS.get(name, name.lower().replace("_", " "))
