"""Time what signing adds to `brief publish`, and `brief verify` on one signed PDF.

Run from the repository: .venv/bin/python bench/bench_sign.py [--runs 5] [--pack .]

The pack is built once; each run then publishes into an empty build/dist/, unsigned and
with --sign (a throwaway EC P-256 key and certificate made here), in a fresh subprocess.
`brief verify` checks one signed edition with --trust, as a recipient would.
Targets: --sign adds <= 0.6 s per PDF (pyHanko's import, ~0.5 s, included); `brief verify` of one PDF < 1.5 s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BRIEF = Path(sys.executable).with_name("brief")
PASSWORD = "bench"


def make_key(folder: Path) -> tuple[Path, Path]:
    """Write a CA certificate and a PKCS#12 signing key it issued; return (p12, ca.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def cert(cn: str, key, issuer, signer, ca: bool):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(not ca, not ca, False, False, False, ca, ca, False, False), critical=True)
                .sign(signer, hashes.SHA256()))

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("Bench CA", ca_key, None, ca_key, True)
    leaf = cert("Bench signing", key, ca.subject, ca_key, False)
    p12, pem = folder / "sign.p12", folder / "ca.pem"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"bench", key, leaf, [ca], serialization.BestAvailableEncryption(PASSWORD.encode())))
    pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return p12, pem


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pack", type=Path, default=REPO)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pack = tmp / "pack"
        for part in ("content", "sources", "templates"):
            if (args.pack / part).is_dir():
                shutil.copytree(args.pack / part, pack / part)
        timed([str(BRIEF), "build", "-C", str(pack), "--all", "--quiet"])
        p12, ca = make_key(tmp)
        env = {**os.environ, "BRIEF_SIGN_KEY": str(p12), "BRIEF_SIGN_PASSWORD": PASSWORD}
        dist = pack / "build" / "dist"
        publish = [str(BRIEF), "publish", "-C", str(pack), "--quiet"]

        def run(extra: list[str]) -> float:
            shutil.rmtree(dist, ignore_errors=True)
            return timed(publish + extra, env)

        plain = statistics.median(run([]) for _ in range(args.runs))
        signed = statistics.median(run(["--sign"]) for _ in range(args.runs))
        pdfs = sorted(p for p in dist.rglob("*.pdf"))
        verify = statistics.median(timed([str(BRIEF), "verify", "--trust", str(ca), str(pdfs[0])])
                                   for _ in range(args.runs))
    per_pdf = (signed - plain) / len(pdfs)
    print(f"publish, unsigned:        {plain:.2f} s (median of {args.runs})")
    print(f"publish --sign:           {signed:.2f} s for {len(pdfs)} PDFs: +{per_pdf:.2f} s per PDF "
          f"(target <= 0.6) {'OK' if per_pdf <= 0.6 else 'OVER'}")
    print(f"brief verify, one PDF:    {verify:.2f} s (target < 1.5) {'OK' if verify < 1.5 else 'OVER'}")


if __name__ == "__main__":
    main()
