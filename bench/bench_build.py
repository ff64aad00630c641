"""Time `brief build --all` against a bare WeasyPrint script, a no-op rebuild, and `brief --help`.

Run from the repository: .venv/bin/python bench/bench_build.py [--runs 5] [--pack .]

Each timing runs a fresh subprocess. The bare script imports WeasyPrint and renders the
HTML the build printed (the editions and the journalists' facts sheet, as the build wrote
them) one after the other in one process: what a build would cost without tailoring, checks,
the PDF/UA fixes or parallel workers. The build also prints the congress edition's
personalised covers (three sample recipients), which the bare script does not: they count
against brief. The no-op is a second
`brief build --all` on unchanged content (it must skip without importing WeasyPrint).
Targets: ratio <= 0.9 on 2 cores, no-op <= 0.3 s, `brief --help` < 0.2 s.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BRIEF = Path(sys.executable).with_name("brief")

BARE = """
import sys, weasyprint
for path in sys.argv[1:]:
    weasyprint.HTML(filename=path).render().write_pdf(pdf_variant="pdf/ua-1")
"""


def timed(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    code = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    elapsed = time.perf_counter() - start
    if code not in ok:
        sys.exit(f"{' '.join(cmd)} exited {code}")
    return elapsed


def fresh_pack(pack: Path, into: Path) -> Path:
    """Copy the pack's content/ (and templates/, if any) so every run builds from nothing."""
    target = into / "pack"
    shutil.rmtree(target, ignore_errors=True)
    for part in ("content", "sources", "templates"):
        if (pack / part).is_dir():
            shutil.copytree(pack / part, target / part)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pack", type=Path, default=REPO)
    args = parser.parse_args()
    pack = args.pack.resolve()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        builds, bares, noops = [], [], []
        # Interleaved, so a busy moment on the machine slows both sides alike.
        for _ in range(args.runs):
            copy = fresh_pack(pack, tmp)
            command = [str(BRIEF), "build", "--all", "-q", "-C", str(copy)]
            builds.append(timed(command, tmp))
            noops.append(timed(command, tmp))  # up to date: exit 0, says "nothing to do"
            # Every document the build prints from HTML: the editions and any newsroom facts sheet.
            htmls = sorted(str(p) for p in (copy / "build").glob("*/*.html"))
            htmls += sorted(str(p) for p in (copy / "build").glob("*/newsroom/*.html"))
            if len(htmls) < 2:
                sys.exit(f"expected the editions' HTML under {copy / 'build'}, found {htmls}")
            bares.append(timed([sys.executable, "-c", BARE, *htmls], tmp))
    helps = [timed([str(BRIEF), "--help"], REPO) for _ in range(args.runs)]

    build, bare, noop, help_ = (statistics.median(x) for x in (builds, bares, noops, helps))
    print(f"cores: {os.cpu_count()}, runs: {args.runs}, editions: {len(htmls)}")
    print(f"brief build --all        median {build:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in builds)})")
    print(f"bare WeasyPrint, serial  median {bare:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in bares)})")
    print(f"ratio build / bare       {build / bare:.2f}  (target <= 0.9)")
    print(f"no-op brief build --all  median {noop:.3f} s  (target <= 0.3)")
    print(f"brief --help             median {help_:.3f} s  (target < 0.2)")


if __name__ == "__main__":
    main()
