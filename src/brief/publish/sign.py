"""`brief publish --sign`: sign each PDF of a new release with the organisation's certificate (PAdES, pyHanko).

Signing happens on the release's copies, never in build/: the build stays
byte-for-byte reproducible and unsigned, and a release's manifest.json and
SHA256SUMS record the signed files. Each PDF is signed (an incremental update,
so the tagged structure of a PDF/UA edition is kept) into a hidden temporary
folder, checked as a recipient would check it, and only then does the release
folder get written, in one rename. Any failure leaves no release behind.

The key is configured only by environment variables (ENV), like SMTP. A
certificate that is expired or not yet valid, a key file without its
certificate, or a wrong password is refused before anything is signed.
"""
from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from brief.errors import BuildError, UsageError
from brief.output.atomic import temp_name, write_bytes_atomic, write_error
from brief.publish.publishers import Clock, PublishEvent, Step
from brief.publish.release import Release, ReleaseFile, source_bytes, write_release
from brief.publish.verify import describe, fingerprint, quiet_pyhanko, require_pyhanko, verify_pdf

ENV = {
    "BRIEF_SIGN_KEY": "PKCS#12 file (.p12 or .pfx) holding the signing key and its certificate (required)",
    "BRIEF_SIGN_PASSWORD": "the file's password",
    "BRIEF_SIGN_PASSWORD_FILE": "or a file whose first line is the password (e.g. a systemd credential)",
    "BRIEF_SIGN_TSA_URL": "optional: an RFC 3161 time-stamping service, for a trusted signing time (PAdES B-T)",
}
FIELD = "Signature"  # the signature field's name, as PDF readers list it
RENEW_DAYS = 30  # warn when the certificate expires sooner than this
_CONVERT = "openssl pkcs12 -export -inkey key.pem -in cert.pem -certfile chain.pem -out signing.p12"


@dataclass(frozen=True)
class SignConfig:
    """Where the key is and how to open it; the password never appears in a repr or a message."""

    key: Path
    password: bytes | None = field(default=None, repr=False)
    tsa_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SignConfig:
        """Read the BRIEF_SIGN_* variables; raise UsageError (exit 2) saying what to set."""
        get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731
        key = get("BRIEF_SIGN_KEY")
        if key is None:
            names = "\n".join(f"  {k}: {v}" for k, v in ENV.items())
            raise UsageError(f"--sign needs BRIEF_SIGN_KEY set; brief reads the signing key only from these "
                             f"environment variables:\n{names}")
        tsa = get("BRIEF_SIGN_TSA_URL")
        if tsa is not None and (not tsa.startswith(("https://", "http://")) or any(c in tsa for c in ' "<>\r\n')):
            raise UsageError(f"BRIEF_SIGN_TSA_URL={tsa!r} must be the http(s) URL of an RFC 3161 time-stamping "
                             f"service, or unset")
        return cls(Path(key), _password(env), tsa)


def _password(env: Mapping[str, str]) -> bytes | None:
    """The password from BRIEF_SIGN_PASSWORD or the first line of BRIEF_SIGN_PASSWORD_FILE (not both)."""
    given, path = env.get("BRIEF_SIGN_PASSWORD") or None, (env.get("BRIEF_SIGN_PASSWORD_FILE") or "").strip()
    if given is not None and path:
        raise UsageError("BRIEF_SIGN_PASSWORD and BRIEF_SIGN_PASSWORD_FILE are both set; set one of them")
    if not path:
        return given.encode() if given is not None else None
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as e:
        raise UsageError(f"BRIEF_SIGN_PASSWORD_FILE={path}: cannot read it ({e.strerror or e})") from None
    return lines[0] if lines else b""


@dataclass(frozen=True)
class Signer:
    """A loaded, checked signing key: who it signs as, and pyHanko's signer."""

    config: SignConfig
    subject: str
    issuer: str
    fingerprint: str
    not_after: datetime
    pyhanko_signer: Any = field(repr=False)
    days_left: int = 365  # until the certificate expires, when it was loaded

    @property
    def level(self) -> str:
        return "PAdES B-T" if self.config.tsa_url else "PAdES B-B"

    def as_json(self) -> dict[str, str]:
        """What the release manifest records about a signed file's signature."""
        return {"signer": self.subject, "certificate_sha256": self.fingerprint, "level": self.level}


def load_signer(env: Mapping[str, str], now: Clock) -> Signer:
    """Open the configured key and check its certificate; UsageError (exit 2) before anything is signed."""
    config = SignConfig.from_env(env)
    require_pyhanko()
    key, cert, chain = _open_pkcs12(config)
    _check_certificate(config, key, cert, now())
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1 as to_asn1_cert
    from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1 as to_asn1_key
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    asn1_cert = to_asn1_cert(cert)
    store = SimpleCertificateStore()
    store.register_multiple([to_asn1_cert(c) for c in chain])
    signer = SimpleSigner(signing_cert=asn1_cert, signing_key=to_asn1_key(key), cert_registry=store)
    return Signer(config, describe(asn1_cert.subject), describe(asn1_cert.issuer), fingerprint(asn1_cert.dump()),
                  cert.not_valid_after_utc, signer, (cert.not_valid_after_utc - now()).days)


def _open_pkcs12(config: SignConfig) -> tuple[Any, Any, list[Any]]:
    """Return (private key, certificate, other certificates) from the PKCS#12 file, or say what is wrong."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    where = f"BRIEF_SIGN_KEY={config.key}"
    try:
        data = config.key.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file; point it at the PKCS#12 (.p12) file with the signing key and "
                         f"its certificate") from None
    except OSError as e:
        raise UsageError(f"{where}: cannot read it ({e.strerror or e}); the user running brief must be able "
                         f"to read it") from None
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, config.password)
    except ValueError:
        raise UsageError(_pkcs12_problem(where, data, config.password)) from None
    except TypeError:  # an encrypted file opened without a password, or a password on a file that has none
        raise UsageError(_pkcs12_problem(where, data, config.password)) from None
    if cert is None:
        raise UsageError(f"{where} holds a key but no certificate; export the key together with its certificate "
                         f"and chain, e.g. {_CONVERT}")
    if key is None:
        raise UsageError(f"{where} holds a certificate but no private key; export the key with it, e.g. {_CONVERT}")
    return key, cert, list(chain)


def _pkcs12_problem(where: str, data: bytes, password: bytes | None) -> str:
    """Tell a wrong password from a file that is not PKCS#12 at all."""
    from asn1crypto import pkcs12 as asn1_pkcs12  # type: ignore[import-untyped]

    try:
        asn1_pkcs12.Pfx.load(data).native  # noqa: B018 (parse it through, to tell structure from password)
    except (ValueError, TypeError, KeyError):
        return (f"{where} is not a PKCS#12 file; brief needs the key and its certificate in one .p12 file, "
                f"e.g. {_CONVERT}")
    if password is None:
        return f"{where} is protected by a password: set BRIEF_SIGN_PASSWORD or BRIEF_SIGN_PASSWORD_FILE"
    return (f"cannot open {where}: the password is wrong (from BRIEF_SIGN_PASSWORD or BRIEF_SIGN_PASSWORD_FILE); "
            f"nothing was signed")


def _check_certificate(config: SignConfig, key: Any, cert: Any, now: datetime) -> None:
    """Refuse a certificate that is expired, not yet valid, not for signing, or not the key's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    where = f"the certificate in BRIEF_SIGN_KEY={config.key} ({cert.subject.rfc4514_string()})"
    if now > cert.not_valid_after_utc:
        raise UsageError(f"{where} expired on {_day(cert.not_valid_after_utc)}; nothing was signed. Renew it and "
                         f"point BRIEF_SIGN_KEY at the new file")
    if now < cert.not_valid_before_utc:
        raise UsageError(f"{where} is not valid before {_day(cert.not_valid_before_utc)}; nothing was signed "
                         f"(check this machine's clock)")
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise UsageError(f"{where} does not belong to the private key in the same file; export the matching pair")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:  # PAdES validators (Acrobat, pyHanko) reject a signer without one
        raise UsageError(f"{where} has no key usage extension, so validators would reject its signatures; use a "
                         f"document-signing certificate (key usage digitalSignature or nonRepudiation)") from None
    if not (usage.digital_signature or usage.content_commitment):
        raise UsageError(f"{where} is not for signing documents (its key usage allows neither digitalSignature "
                         f"nor nonRepudiation); use a document-signing certificate")


def _day(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def sign_pdf(data: bytes, signer: Signer) -> bytes:
    """Return data signed as an incremental update with an invisible certification signature."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import InvisSigSettings, MDPPerm, SigFieldSpec, SigSeedSubFilter

    timestamper = None
    if signer.config.tsa_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(signer.config.tsa_url, timeout=30)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
        certify=True, docmdp_permissions=MDPPerm.NO_CHANGES)  # an author signature: any later change shows
    # Printable (PDF/A asks for it) yet outside the page (PDF/UA asks an untagged annotation to be hidden or
    # off the page), so both kinds of edition stay valid.
    spec = SigFieldSpec(FIELD, invis_sig_settings=InvisSigSettings(set_print_flag=True, box_out_of_bounds=True))
    out = signers.PdfSigner(meta, signer.pyhanko_signer, timestamper=timestamper, new_field_spec=spec)
    with quiet_pyhanko():
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        return out.sign_pdf(writer).getvalue()


def signed_copy(f: ReleaseFile, signer: Signer, staging: Path) -> ReleaseFile:
    """Sign one release PDF into staging, check it as a recipient would, and describe the signed copy."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    data = source_bytes(f)
    try:
        signed = sign_pdf(data, signer)
    except TimestampRequestError as e:
        raise BuildError(f"cannot sign {f.file}: the time-stamping service BRIEF_SIGN_TSA_URL="
                         f"{signer.config.tsa_url} failed ({e}); nothing was published") from None
    except (PdfError, ValueError, KeyError, TypeError, OSError) as e:
        raise BuildError(f"cannot sign {f.file} ({type(e).__name__}: {e}); nothing was published") from None
    report = verify_pdf(signed, f.file)
    if not report.ok or [s.fingerprint for s in report.signatures] != [signer.fingerprint]:
        raise BuildError(f"the signed copy of {f.file} does not verify ({'; '.join(report.problems) or 'signer'}); "
                         f"nothing was published")
    path = staging / f.file
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, signed)
    return replace(f, sha256=hashlib.sha256(signed).hexdigest(), bytes=len(signed), source=path,
                   signature={**signer.as_json(), "unsigned_sha256": f.sha256})  # ties it to build/


def sign_and_write(dist: Path, release: Release,
                   signer: Signer | None) -> Generator[PublishEvent, None, Release]:
    """Sign the release's PDFs in a hidden folder beside dist (unless signer is None), write the release,
    and return it as written."""
    if signer is None:
        write_release(dist, release)
        return release
    if signer.days_left < RENEW_DAYS:  # unattended runs: say so while there is time to renew
        yield PublishEvent(Step.WARNING, f"the signing certificate ({signer.subject}) expires on "
                           f"{_day(signer.not_after)}, in {signer.days_left} days; renew it and point BRIEF_SIGN_KEY "
                           f"at the new file")
    staging = dist.parent / temp_name(f"{release.name}-signing")  # a killed run's is removed like any leftover
    try:
        staging.mkdir()
    except OSError as e:
        raise write_error(staging, e, "create the folder") from e
    try:
        files = []
        for f in release.files:
            if f.kind == "pdf":
                f = signed_copy(f, signer, staging)
                yield PublishEvent(Step.SIGN, f"signed {f.file} as {signer.subject} ({signer.level})",
                                   {"file": f.file, **signer.as_json()})
            files.append(f)
        signed = replace(release, files=tuple(files))
        write_release(dist, signed)
        return signed
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def planned(release: Release, signer: Signer) -> Iterator[PublishEvent]:
    """Say, for --dry-run, what signing would do."""
    pdfs = [f.file for f in release.files if f.kind == "pdf"]
    yield PublishEvent(Step.SIGN, f"would sign {len(pdfs)} PDF{'s' if len(pdfs) != 1 else ''} as {signer.subject} "
                       f"({signer.level}; certificate valid until {_day(signer.not_after)})")


def unsigned_notice(release: Release, signer: Signer | None) -> Iterator[PublishEvent]:
    """Warn when --sign meets a release that was already published unsigned (it is never rewritten)."""
    if signer is None or all(f.signature for f in release.files if f.kind == "pdf"):
        return
    yield PublishEvent(Step.WARNING, f"release {release.name} was published unsigned and is never rewritten; "
                       f"--sign applies to new releases. If nobody has received it yet, delete build/dist/"
                       f"{release.name} and publish again to sign it")
