"""Time the PDF/UA fixes and the archival copy against printing itself, edition by edition.

Run from the repository: .venv/bin/python bench/bench_pdf_fixes.py [--runs 5] [--pack .]

Builds the pack once into a temporary folder (for its editions' HTML), then, in this one process and
for each edition: prints it as WeasyPrint does (render and write PDF/UA), then times what brief adds:
the header-cell scopes and the pikepdf pass that makes margin boxes artifacts and checks the tag
rules (every build), and the PDF/A-3 copy with its attachments (--archival only). Times are CPU
seconds of this process (medians), so other work on the machine disturbs them little.
Targets: the fixes add at most 10% to printing; an archival copy costs at most half a print.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BRIEF = Path(sys.executable).with_name("brief")


def cpu(fn, runs: int) -> float:
    """Return the median CPU time of fn() over runs calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pack", type=Path, default=REPO)
    args = parser.parse_args()

    from brief.edition.checks import load_pack
    from brief.output import pdf as P  # before WeasyPrint starts: fontconfig sees only the shipped fonts
    from brief.output.archival import Archival, Attached, attachable, mime_type
    from brief.output.inputs import Input

    HTML = P.HTML

    with tempfile.TemporaryDirectory() as tmp:
        pack = Path(tmp) / "pack"
        for part in ("content", "sources", "templates"):
            if (args.pack / part).is_dir():
                shutil.copytree(args.pack / part, pack / part)
        subprocess.run([str(BRIEF), "build", "--all", "-q", "-C", str(pack)], check=True, capture_output=True)
        content = load_pack(pack)
        inputs = [Input(f"content/{p.relative_to(pack / 'content').as_posix()}", p)
                  for p in sorted((pack / "content").rglob("*.yaml"))]
        archival = Archival(tuple(Attached(i.name, i.path.read_bytes(), mime_type(i.name)) for i in attachable(inputs)),
                            content.pack.as_of)
        totals = {"print": 0.0, "fixes": 0.0, "archival": 0.0}
        print(f"runs: {args.runs}, CPU seconds (median) per edition")
        for html_path in sorted(pack.glob("build/*/*.html")):
            html = HTML(filename=str(html_path), media_type="print")
            document = html.render()
            raw = document.write_pdf(**P.PDF_OPTIONS)
            printing = cpu(lambda path=html_path: HTML(filename=str(path), media_type="print").render().write_pdf(
                **P.PDF_OPTIONS), args.runs)
            # What every build adds: the scope finisher (a walk over the laid-out boxes) and the pikepdf pass.
            fixes = (cpu(lambda doc=document: P.scope_headers(doc, None), args.runs)
                     + cpu(lambda data=raw: P.hold_tags(data), args.runs))
            copy = cpu(lambda doc=document: P.tagged("bench", P.write_archival(doc, archival), "pdf/a-3u",
                                                     P.unique_associated_files), args.runs)
            for key, value in (("print", printing), ("fixes", fixes), ("archival", copy)):
                totals[key] += value
            print(f"{html_path.parent.name:24s} print {printing:6.3f}  fixes +{fixes:5.3f} ({fixes / printing:5.1%})"
                  f"  archival copy +{copy:5.3f} ({copy / printing:5.1%})")
        print(f"{'all editions':24s} print {totals['print']:6.3f}  fixes +{totals['fixes']:5.3f} "
              f"({totals['fixes'] / totals['print']:5.1%}, target <= 10%)  archival copy +{totals['archival']:5.3f} "
              f"({totals['archival'] / totals['print']:5.1%}, target <= 50%)")


if __name__ == "__main__":
    main()
