"""Time `brief preview`'s re-render after a content save, in a warm process, for one edition.

Run from the repository: .venv/bin/python bench/bench_preview.py [--runs 20] [--pack .] [--audience congress]

The pack's content/ (and sources/, templates/) is copied to a temporary folder. Each run changes one
visible line of content/pack.yaml (the subtitle, shown in every edition), then measures:
- re-render: the session's refresh (load and validate the pack, tailor, render and check the HTML),
  called directly, as the watcher calls it; target <= 0.5 s median on 2 cores;
- save to update: from the write to the moment the server has the new HTML for the open page
  (the watcher's wait for quiet, then the re-render); target <= 1 s, "an edit shows within a second".
The PDF is off: it re-prints in its own process after the HTML, and does not delay the page.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from brief.preview.app import Preview
from brief.preview.session import PreviewSession

REPO = Path(__file__).resolve().parents[1]

RERENDER_TARGET = 0.5
UPDATE_TARGET = 1.0


def copy_pack(pack: Path, into: Path) -> Path:
    for part in ("content", "sources", "templates"):
        if (pack / part).is_dir():
            shutil.copytree(pack / part, into / part)
    return into


def edit(pack: Path, n: int) -> None:
    """Change the subtitle line of content/pack.yaml (a visible change in every edition)."""
    path = pack / "content" / "pack.yaml"
    text = path.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^(subtitle: .*?)(?: \(draft \d+\))?$", rf"\1 (draft {n})", text, count=1)
    if not count:
        sys.exit(f"{path} has no 'subtitle:' line to change")
    path.write_text(text, encoding="utf-8")


def rerenders(pack: Path, audience: str, runs: int) -> list[float]:
    session = PreviewSession(pack, [audience])
    session.refresh()  # warm: imports, babel data, template compilation paths
    times = []
    for n in range(runs):
        edit(pack, n)
        start = time.perf_counter()
        session.refresh()
        times.append(time.perf_counter() - start)
        if session.error or session.editions[audience].error:
            sys.exit(f"the edition did not render: {(session.error or session.editions[audience].error).text}")
    return times


def updates(pack: Path, audience: str, runs: int) -> list[float]:
    times = []
    with Preview(pack, [audience], port=0, pdf=False) as preview:
        session = preview.session
        time.sleep(0.5)  # let the watcher settle
        for n in range(runs):
            before = session.editions[audience].stamp
            edit(pack, 1000 + n)
            start = time.perf_counter()
            seen = session.version
            while session.editions[audience].stamp == before:
                seen = session.wait(seen, timeout=5)
                if time.perf_counter() - start > 10:
                    sys.exit("no update within 10 s of a save")
            times.append(time.perf_counter() - start)
            time.sleep(0.2)  # separate saves, as a person makes them
    return times


def line(label: str, times: list[float], target: float) -> str:
    median = statistics.median(times)
    verdict = "PASS" if median <= target else "FAIL"
    return (f"{label:<26} median {median:.3f} s  max {max(times):.3f} s  (target <= {target} s: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pack", type=Path, default=REPO)
    parser.add_argument("--audience", default="congress")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pack = copy_pack(args.pack.resolve(), Path(tmp) / "pack")
        render = rerenders(pack, args.audience, args.runs)
        update = updates(pack, args.audience, args.runs)
    print(f"cores: {os.cpu_count()}, runs: {args.runs}, edition: {args.audience}")
    print(line("re-render after a save", render, RERENDER_TARGET))
    print(line("save to updated page", update, UPDATE_TARGET))
    if statistics.median(render) > RERENDER_TARGET or statistics.median(update) > UPDATE_TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
