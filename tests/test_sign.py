"""`brief publish --sign` and `brief verify`: signed release PDFs that a recipient can check.

Every test makes its own throwaway CA and signing certificate with `cryptography`; nothing is read from the machine.
"""
from __future__ import annotations

import hashlib
import io
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from brief.cli import main
from brief.commands.publish import run_publish
from helpers import fakebuild
from helpers.smtp import free_port

NOW = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # the publish clock; certificates below are valid around it and today
PASSWORD = "correct horse 7"
RELEASE = "2025-03-01-e1"  # the minimal pack's release
PDF = f"water-council-{RELEASE}.pdf"
SIGNER = "Briefs signing (Example Policy Lab)"


# ---- a throwaway PKI -----------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Policy Lab")])


def _usage(**on: bool) -> x509.KeyUsage:
    names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


class Pki:
    """A root CA that issues certificates, written to files as an operator would have them."""

    def __init__(self, folder: Path, cn: str = "Test Root CA"):
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
                     .not_valid_after(datetime.now(UTC) + timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = folder / f"{cn.replace(' ', '-')}.pem"
        self.pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str = "Briefs signing", *, until: datetime | None = None, usage: x509.KeyUsage | None = None,
              eku: x509.ObjectIdentifier | None = None, rsa_key: bool = False,
              no_usage: bool = False) -> tuple[Any, x509.Certificate]:
        key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
                   .not_valid_after(until or datetime.now(UTC) + timedelta(days=365)))
        if not no_usage:
            builder = builder.add_extension(usage or _usage(digital_signature=True, content_commitment=True),
                                            critical=True)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        return key, builder.sign(self.key, hashes.SHA256())

    def p12(self, name: str, key, cert, password: str | None = PASSWORD) -> Path:
        enc = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
        path = self.folder / name
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"brief", key, cert, [self.cert], enc))
        return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signing(pki) -> tuple[Path, x509.Certificate]:
    """The organisation's PKCS#12 file (password-protected) and its certificate."""
    key, cert = pki.issue()
    return pki.p12("signing.p12", key, cert), cert


def env_for(key: Path, **more: str) -> dict[str, str]:
    return {"BRIEF_SIGN_KEY": str(key), "BRIEF_SIGN_PASSWORD": PASSWORD, **more}


def fingerprint(cert: x509.Certificate) -> str:
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def verify(*args: str):
    return CliRunner().invoke(main, ["verify", *args])


@pytest.fixture
def pack(tmp_path):
    """The minimal pack with small real PDFs (pypdf) built, as the publish tests use."""
    p = fakebuild.copy_pack("minimal", tmp_path / "pack")
    fakebuild.fake_build(p)
    return p


def leftovers(pack: Path) -> list[str]:
    return [str(p) for p in (pack / "build").rglob(".*") if ".tmp-" in p.name]


# ---- signing a release -------------------------------------------------------------------

def test_publish_sign_signs_the_release_copies_and_records_them(pack, signing, capsys):
    key, cert = signing
    built = (pack / "build" / "council" / "water-council.pdf").read_bytes()
    assert run_publish(pack, sign=True, env=env_for(key), now=NOW) == 0
    out = capsys.readouterr().out
    assert f"signed {PDF} as {SIGNER} (PAdES B-B)" in out
    folder = pack / "build" / "dist" / RELEASE
    signed = (folder / PDF).read_bytes()
    assert signed.startswith(built)  # an incremental update: the built bytes, then the signature
    assert (pack / "build" / "council" / "water-council.pdf").read_bytes() == built  # build/ stays unsigned

    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if f["file"] == PDF)
    assert entry["sha256"] == hashlib.sha256(signed).hexdigest() and entry["bytes"] == len(signed)
    assert entry["signature"] == {"signer": SIGNER, "certificate_sha256": fingerprint(cert), "level": "PAdES B-B",
                                  "unsigned_sha256": hashlib.sha256(built).hexdigest()}
    html = next(f for f in manifest["files"] if f["file"].endswith(".html"))
    assert "signature" not in html
    sums = dict(line.split("  ")[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert sums[PDF] == hashlib.sha256(signed).hexdigest()
    assert leftovers(pack) == []

    # Publishing again finds the same release: nothing new, nothing re-signed.
    capsys.readouterr()
    run_publish(pack, sign=True, env=env_for(key), now=NOW)
    out = capsys.readouterr().out
    assert "already published with this content" in out and "signed" not in out.replace("unsigned", "")
    assert (folder / PDF).read_bytes() == signed


def test_verify_reports_who_signed_and_that_the_file_is_intact(pack, pki, signing, capsys):
    key, cert = signing
    run_publish(pack, sign=True, env=env_for(key), now=NOW)
    pdf = pack / "build" / "dist" / RELEASE / PDF

    result = verify(str(pdf))
    assert result.exit_code == 0, result.output
    assert f"{PDF}: intact, 1 signature" in result.output
    assert f"signed by    {SIGNER}" in result.output
    assert f"certificate  SHA-256 {fingerprint(cert)}" in result.output
    assert "issued by    Test Root CA (Example Policy Lab)" in result.output
    assert "PAdES B-B, no trusted timestamp" in result.output
    assert "the signature covers the whole file" in result.output
    assert "not checked against a trust root" in result.output

    trusted = verify("--trust", str(pki.pem), str(pdf))
    assert trusted.exit_code == 0, trusted.output
    assert "trusted: the certificate leads to a given trust root" in trusted.output


def test_a_signer_outside_the_given_trust_root_is_not_trusted(pack, signing, tmp_path):
    run_publish(pack, sign=True, env=env_for(signing[0]), now=NOW)
    other = Pki(tmp_path, "Another Root")
    result = verify("--trust", str(other.pem), str(pack / "build" / "dist" / RELEASE / PDF))
    assert result.exit_code == 8
    assert "NOT trusted" in result.output and "does not verify: not trusted" in result.output


def test_one_altered_byte_inside_the_signed_range_fails_verification(pack, signing, tmp_path):
    run_publish(pack, sign=True, env=env_for(signing[0]), now=NOW)
    signed = (pack / "build" / "dist" / RELEASE / PDF).read_bytes()
    with pikepdf.open(io.BytesIO(signed)) as doc:
        start, length = [int(n) for n in doc.Root.AcroForm.Fields[0].V.ByteRange[:2]]
    assert start == 0 and length > 200
    title = signed.index(b"/Title")  # a byte of the document's own text, well inside the first signed range
    assert title < length
    altered = bytearray(signed)
    altered[title + 1] ^= 0x01  # /Title -> /Uitle
    path = tmp_path / PDF
    path.write_bytes(bytes(altered))

    result = verify(str(path))
    assert result.exit_code == 8
    assert "ALTERED: the signed bytes do not match the signature" in result.output
    assert f"{PDF} does not verify: altered" in result.output


def test_content_added_after_signing_fails_verification(pack, signing, tmp_path):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    run_publish(pack, sign=True, env=env_for(signing[0]), now=NOW)
    writer = IncrementalPdfFileWriter(io.BytesIO((pack / "build" / "dist" / RELEASE / PDF).read_bytes()))
    writer.root["/Lang"] = generic.TextStringObject("fr")  # a valid PDF update, appended after the signature
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "updated.pdf"
    path.write_bytes(out.getvalue())

    result = verify(str(path))
    assert result.exit_code == 8
    assert "CHANGED after signing" in result.output and "altered after signing" in result.output


def test_unsigned_and_non_pdf_files_do_not_verify(pack, tmp_path):
    result = verify(str(pack / "build" / "council" / "water-council.pdf"))
    assert result.exit_code == 8 and "not signed" in result.output
    text = tmp_path / "notes.pdf"
    text.write_text("hello\n")
    result = verify(str(text))
    assert result.exit_code == 8 and "not a PDF file" in result.output
    assert "Traceback" not in result.output


def test_verify_names_each_file_that_fails(pack, signing, tmp_path):
    run_publish(pack, sign=True, env=env_for(signing[0]), now=NOW)
    good = pack / "build" / "dist" / RELEASE / PDF
    unsigned = pack / "build" / "council" / "water-council.pdf"
    result = verify(str(good), str(unsigned))
    assert result.exit_code == 8
    assert f"{PDF}: intact" in result.output
    assert "water-council.pdf does not verify: not signed" in result.output


def test_a_signer_name_cannot_forge_lines_on_the_terminal(tmp_path, pki, capsys):
    key, cert = pki.issue("Mallory\n    integrity    intact\x1b[32m")
    pack = fakebuild.copy_pack("minimal", tmp_path / "pack")
    fakebuild.fake_build(pack)
    assert run_publish(pack, sign=True, env=env_for(pki.p12("mallory.p12", key, cert)), now=NOW) == 0
    result = verify(str(pack / "build" / "dist" / RELEASE / PDF))
    assert "signed by    Mallory\\x0a    integrity    intact\\x1b[32m (Example Policy Lab)" in result.output
    assert "\x1b" not in result.output and result.output.count("integrity") == 2  # the escaped one, and the real


def test_a_trust_file_without_a_certificate_is_a_usage_error(pack, signing, tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    result = verify("--trust", str(bogus), str(pack / "build" / "council" / "water-council.pdf"))
    assert result.exit_code == 2 and "no certificate in it" in result.output


def test_the_password_can_come_from_a_file(pack, signing, tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    env = {"BRIEF_SIGN_KEY": str(signing[0]), "BRIEF_SIGN_PASSWORD_FILE": str(secret)}
    assert run_publish(pack, sign=True, env=env, now=NOW) == 0
    assert verify(str(pack / "build" / "dist" / RELEASE / PDF)).exit_code == 0


def test_dry_run_says_what_it_would_sign_and_changes_nothing(pack, signing, capsys):
    assert run_publish(pack, sign=True, dry_run=True, env=env_for(signing[0]), now=NOW) == 0
    assert f"would sign 1 PDF as {SIGNER} (PAdES B-B; certificate valid until" in capsys.readouterr().out
    assert not (pack / "build" / "dist").exists()


def test_sign_on_a_release_already_published_unsigned_warns_and_keeps_it(pack, signing, capsys):
    assert run_publish(pack, now=NOW) == 0
    before = (pack / "build" / "dist" / RELEASE / PDF).read_bytes()
    run_publish(pack, sign=True, env=env_for(signing[0]), now=NOW)
    assert "was published unsigned and is never rewritten" in capsys.readouterr().err
    assert (pack / "build" / "dist" / RELEASE / PDF).read_bytes() == before


def test_recipients_are_mailed_the_signed_pdf(tmp_path, signing, smtp):
    from helpers.smtp import env_for as smtp_env

    sink, port = smtp
    pack = fakebuild.copy_pack("publish", tmp_path / "pack")
    fakebuild.fake_build(pack)
    env = {**smtp_env(port), **env_for(signing[0])}
    options = {"email": {"sleep": lambda seconds: None, "timeout": 10}}
    assert run_publish(pack, send=True, sign=True, env=env, now=NOW, publisher_options=options) == 0
    assert len(sink.messages) == 3
    folder = pack / "build" / "dist" / "2025-03-01-e2"
    for msg in sink.parsed():
        pdf = next(msg.iter_attachments())
        data = pdf.get_content()
        assert data == (folder / pdf.get_filename()).read_bytes()  # the release's signed copy, byte for byte
        assert hashlib.sha256(data).hexdigest() in msg.get_body(("plain",)).get_content()  # the note's sha256
        attached = tmp_path / pdf.get_filename()
        attached.write_bytes(data)
        result = verify(str(attached))
        assert result.exit_code == 0 and f"signed by    {SIGNER}" in result.output


def test_a_certificate_close_to_expiry_signs_with_a_warning(pack, pki, capsys):
    key, cert = pki.issue("Expiring signing", until=datetime.now(UTC) + timedelta(days=10, hours=1))
    assert run_publish(pack, sign=True, env=env_for(pki.p12("expiring.p12", key, cert))) == 0  # today's clock
    err = capsys.readouterr().err
    assert "the signing certificate (Expiring signing (Example Policy Lab)) expires on" in err
    assert "in 10 days; renew it" in err


# ---- bad keys: refused before anything is signed or written ---------------------------------

def refused(pack: Path, env: dict[str, str], capsys) -> str:
    """Publish with --sign and env; assert it was refused with exit 2 and wrote nothing; return stderr."""
    assert run_publish(pack, sign=True, env=env, now=NOW) == 2
    assert not (pack / "build" / "dist").exists() and leftovers(pack) == []
    return capsys.readouterr().err


def test_without_a_key_the_variables_are_listed(pack, capsys):
    err = refused(pack, {}, capsys)
    assert "--sign needs BRIEF_SIGN_KEY" in err and "BRIEF_SIGN_PASSWORD_FILE" in err and "BRIEF_SIGN_TSA_URL" in err


def test_a_missing_key_file_is_named(pack, tmp_path, capsys):
    err = refused(pack, env_for(tmp_path / "nowhere.p12"), capsys)
    assert f"BRIEF_SIGN_KEY={tmp_path / 'nowhere.p12'}: no such file" in err


def test_a_wrong_password_is_refused_without_printing_it(pack, signing, capsys):
    err = refused(pack, {"BRIEF_SIGN_KEY": str(signing[0]), "BRIEF_SIGN_PASSWORD": "hunter2-wrong"}, capsys)
    assert "the password is wrong" in err and "nothing was signed" in err
    assert "hunter2" not in err


def test_a_missing_password_is_asked_for(pack, signing, capsys):
    err = refused(pack, {"BRIEF_SIGN_KEY": str(signing[0])}, capsys)
    assert "is protected by a password: set BRIEF_SIGN_PASSWORD" in err


def test_an_expired_certificate_is_refused_naming_its_expiry(pack, pki, capsys):
    key, cert = pki.issue("Old signing", until=datetime(2024, 1, 31, 12, 0, tzinfo=UTC))
    err = refused(pack, env_for(pki.p12("old.p12", key, cert)), capsys)
    assert "expired on 2024-01-31 12:00 UTC; nothing was signed" in err


def test_a_key_without_its_certificate_is_refused(pack, pki, capsys):
    key = ec.generate_private_key(ec.SECP256R1())
    path = pki.folder / "key-only.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"brief", key, None, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    err = refused(pack, env_for(path), capsys)
    assert "holds a key but no certificate" in err and "openssl pkcs12 -export" in err


def test_a_file_that_is_not_pkcs12_is_refused(pack, pki, capsys):
    err = refused(pack, env_for(pki.pem), capsys)
    assert "is not a PKCS#12 file" in err


def test_a_certificate_not_meant_for_signing_is_refused(pack, pki, capsys):
    key, cert = pki.issue("Web server", usage=_usage(key_encipherment=True))
    err = refused(pack, env_for(pki.p12("tls.p12", key, cert)), capsys)
    assert "is not for signing documents" in err
    key, cert = pki.issue("Anything", no_usage=True)  # validators reject it: refused before signing too
    err = refused(pack, env_for(pki.p12("any.p12", key, cert)), capsys)
    assert "has no key usage extension" in err


# ---- a trusted time (PAdES B-T) and a failure half-way ------------------------------------

@pytest.fixture
def tsa(pki):
    """A local RFC 3161 time-stamping service (pyHanko's test TSA behind HTTP); yields its URL."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key, cert = pki.issue("Test TSA", usage=_usage(digital_signature=True), eku=ExtendedKeyUsageOID.TIME_STAMPING,
                          rsa_key=True)  # pyHanko's test TSA signs with RSA only
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_with_a_time_stamping_service_the_signature_carries_a_trusted_time(pack, pki, signing, tsa, capsys):
    assert run_publish(pack, sign=True, env=env_for(signing[0], BRIEF_SIGN_TSA_URL=tsa), now=NOW) == 0
    assert "(PAdES B-T)" in capsys.readouterr().out
    result = verify("--trust", str(pki.pem), str(pack / "build" / "dist" / RELEASE / PDF))
    assert result.exit_code == 0, result.output
    assert "(time-stamping authority; PAdES B-T)" in result.output


def test_a_time_stamped_signature_outlives_its_certificate_and_a_plain_one_does_not(pki, tsa, tmp_path):
    from pyhanko.keys import load_cert_from_pemder

    from brief.publish.verify import verify_pdf

    key, cert = pki.issue("Short-lived signing", until=datetime.now(UTC) + timedelta(days=2))
    p12 = pki.p12("short.p12", key, cert)
    later = datetime.now(UTC) + timedelta(days=30)  # when a recipient checks, the certificate has expired
    roots = [load_cert_from_pemder(str(pki.pem))]
    verdicts = {}
    for name, extra in (("plain", {}), ("stamped", {"BRIEF_SIGN_TSA_URL": tsa})):
        pack = fakebuild.copy_pack("minimal", tmp_path / name)
        fakebuild.fake_build(pack)
        assert run_publish(pack, sign=True, env=env_for(p12, **extra), now=NOW) == 0
        verdicts[name] = verify_pdf((pack / "build" / "dist" / RELEASE / PDF).read_bytes(), PDF, roots, later)
    assert verdicts["stamped"].ok and verdicts["stamped"].signatures[0].trusted
    assert not verdicts["plain"].ok and verdicts["plain"].signatures[0].intact
    assert "not trusted" in verdicts["plain"].problems[0]


def test_a_signing_failure_leaves_no_release_and_no_temporary_files(pack, signing, capsys):
    dead = f"http://127.0.0.1:{free_port()}/"  # nothing listens there: the time stamp cannot be had
    assert run_publish(pack, sign=True, env=env_for(signing[0], BRIEF_SIGN_TSA_URL=dead), now=NOW) == 5
    err = capsys.readouterr().err
    assert f"the time-stamping service BRIEF_SIGN_TSA_URL={dead} failed" in err and "nothing was published" in err
    assert not (pack / "build" / "dist" / RELEASE).exists()
    assert leftovers(pack) == []


# ---- a real edition: signed, and still a tagged PDF ----------------------------------------

@pytest.mark.slow
def test_a_signed_edition_keeps_its_tagged_structure_and_verifies(built_editions_copy, pki, signing):
    pack = built_editions_copy
    assert run_publish(pack, sign=True, env=env_for(signing[0]), now=NOW) == 0
    folder = pack / "build" / "dist" / "2025-03-01-e2"
    manifest = json.loads((folder / "manifest.json").read_text())
    pdfs = [f for f in manifest["files"] if f["file"].endswith(".pdf")]
    assert {f["audience"] for f in pdfs} == {"press", "research", "staff"}  # every PDF of the release, signed
    assert all(f["signature"]["signer"] == SIGNER for f in pdfs)
    built = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in (pack / "build").rglob("*.pdf")
             if "dist" not in p.relative_to(pack / "build").parts}
    for f in pdfs:
        source = built[f["signature"]["unsigned_sha256"]]  # the build's PDF it was made from, left unsigned
        with pikepdf.open(source) as before, pikepdf.open(folder / f["file"]) as after:
            assert ("/StructTreeRoot" in after.Root) == ("/StructTreeRoot" in before.Root)
            if f.get("role", "edition") == "edition":  # the editions are tagged PDF/UA, and stay so
                assert "/StructTreeRoot" in after.Root
            if "/StructTreeRoot" in before.Root:
                assert after.Root.StructTreeRoot.objgen == before.Root.StructTreeRoot.objgen  # the same tree, kept
                assert bool(after.Root.MarkInfo.Marked)
                assert after.open_metadata().get("pdfuaid:part") == "1"
            assert str(after.Root.Lang) == str(before.Root.Lang) and len(after.pages) == len(before.pages)
            widget = after.Root.AcroForm.Fields[0]
            box = after.pages[0].MediaBox
            # PDF/UA: an untagged annotation must be hidden or off the page; this one lies off the page.
            assert float(widget.Rect[2]) < float(box[0]) and float(widget.Rect[3]) < float(box[1])
    result = verify("--trust", str(pki.pem), *(str(folder / f["file"]) for f in pdfs))
    assert result.exit_code == 0, result.output
    assert result.output.count(": intact, 1 signature") == len(pdfs)
