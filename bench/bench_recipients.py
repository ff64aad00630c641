"""Time personalised PDFs for 535 recipients against printing each personalised edition whole; peak memory.

Run from the repository: .venv/bin/python bench/bench_recipients.py [--runs 3] [--recipients 535] [--sample 20]

The pack is a copy of the STA pack whose content/recipients.csv is replaced by N synthetic
offices of the congress edition (the profile's cover: state, district, committee, a note by focus).

- personalised build: `brief build -a congress` from an empty build/ (the body printed once, a
  one-page cover per recipient joined to it), a fresh subprocess per run; median of the runs.
- whole-edition baseline: what a tool that renders a parameterised document once per recipient
  does. A sample of recipients (--sample) is printed whole (that recipient's cover and the edition
  in one HTML document, one WeasyPrint render each) by one warm process per core at once, right
  after each build (so the machine is as busy for both); the time is extrapolated to all
  recipients. Said so below.
- peak memory: the largest sum, over one build, of the resident set of brief and all its workers
  (sampled every 50 ms from /proc; pages shared after fork count once per process, so this is an
  upper bound), and the same for PSS (shared pages split between processes: the real total).
Targets: personalised build <= 15 s on 2 cores, >= 10x faster than the baseline, peak <= 300 MB.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BRIEF = Path(sys.executable).with_name("brief")
STATES = ("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
          "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY").split()
FOCUS = ("basic-research", "research-security", "public-health")

WHOLE = """
import sys
from brief.output.settings import isolate_fonts
isolate_fonts()
import weasyprint, time
paths = sys.argv[1:]
weasyprint.HTML(filename=paths[0]).render().write_pdf(pdf_variant="pdf/ua-1")  # warm, not timed
start = time.perf_counter()
for path in paths:
    weasyprint.HTML(filename=path).render().write_pdf(pdf_variant="pdf/ua-1")
print((time.perf_counter() - start) / len(paths))
"""


def recipients_csv(n: int) -> str:
    """Return a recipients file of n invented congressional offices (435 districts, then senators)."""
    rows = ["id,name,organisation,email,audience,state,district,committee,salutation,focus"]
    for i in range(n):
        state = STATES[i % len(STATES)]
        house = i < 435
        seat = f"{i // len(STATES) + 1:02d}" if house else ""
        rid = f"{state.lower()}-{seat or 'senate'}-{i:03d}"
        office = f"Office of a sample {'Representative' if house else 'Senator'} ({state}{'-' + seat if seat else ''})"
        rows.append(f"{rid},Staff Member {i},{office},staff{i}@example.org,congress,{state},{seat},"
                    f"Committee {i % 7 + 1},Dear Staff Member {i},{FOCUS[i % len(FOCUS)]}")
    return "\n".join(rows) + "\n"


def fresh_pack(into: Path, n: int) -> Path:
    target = into / "pack"
    shutil.rmtree(target, ignore_errors=True)
    for part in ("content", "sources", "templates"):
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, target / part)
    (target / "content" / "recipients.csv").write_text(recipients_csv(n), encoding="utf-8")
    return target


def _tree(root: int) -> list[int]:
    """Return root and every process descended from it (from /proc/PID/task/TID/children)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return found


def _memory(pid: int) -> tuple[int, int]:
    """Return (RSS, PSS) of one process in kB (0 when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    value = {k: int(v) for k, v in re.findall(r"^(Rss|Pss):\s+(\d+) kB", text, re.M)}
    return value.get("Rss", 0), value.get("Pss", 0)


def measured_build(cmd: list[str], cwd: Path) -> tuple[float, float, float, float]:
    """Run cmd; return (seconds, CPU seconds, peak RSS sum in MB, peak PSS sum in MB) over brief and its workers."""
    peak = [0, 0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sums = [sum(x) for x in zip(*(_memory(p) for p in _tree(process.pid)), strict=True)] or [0, 0]
            peak[:] = [max(a, b) for a, b in zip(peak, sums, strict=True)]
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {process.returncode}: {err.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # brief and every worker it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, peak[0] / 1024, peak[1] / 1024


def whole_documents(pack: Path, sample: int) -> list[Path]:
    """Write `sample` personalised editions as single HTML documents: a recipient's cover, then the edition."""
    from brief.edition.checks import load_pack
    from brief.edition.covers import render_covers

    content = load_pack(pack)
    covers = list(render_covers(content, "congress").values())[:sample]
    out = pack / "build" / "congress"
    edition = next(out.glob("*.html")).read_text(encoding="utf-8")
    style = (REPO / "templates" / "editions" / "cover.css").read_text(encoding="utf-8")
    head, body = edition.split("<body", 1)
    head = head.replace("</head>", f"<style>{style}</style></head>")  # the cover's look, for its page
    paths = []
    for i, cover in enumerate(covers):
        inner = cover.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0]
        page = f'{head}<body{body.split(">", 1)[0]}><div style="break-after: page">{inner}</div>{body.split(">", 1)[1]}'
        path = out / f"whole-{i:03d}.html"
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    return paths


def whole_baseline(paths: list[Path], n: int, cores: int) -> tuple[float, float]:
    """Print the sample whole in `cores` processes at once, as a parallel loop would; extrapolate to n.

    Return (seconds for n documents, seconds a document in one process). Each process is warmed
    first (WeasyPrint imported, one document printed), which only flatters the baseline.
    """
    shares = [paths[i::cores] for i in range(cores)]
    running = [subprocess.Popen([sys.executable, "-c", WHOLE, *map(str, share)], stdout=subprocess.PIPE, text=True)
               for share in shares if share]
    per_document = [float(p.communicate()[0].strip()) for p in running]
    slowest = max(t * len(share) for t, share in zip(per_document, shares, strict=False))
    return slowest * n / len(paths), statistics.median(per_document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recipients", type=int, default=535)
    parser.add_argument("--sample", type=int, default=20, help="whole editions printed per run for the baseline")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            runs.append(one_run(Path(tmp), args.recipients, args.sample, cores))
    report(runs, args, cores)


def one_run(tmp: Path, n: int, sample: int, cores: int) -> dict[str, float]:
    """Time a personalised build, a no-op rebuild, then the baseline right after (a busy moment slows both)."""
    pack = fresh_pack(tmp, n)
    command = [str(BRIEF), "build", "-a", "congress", "-q", "-C", str(pack)]
    seconds, cpu, peak_rss, peak_pss = measured_build(command, tmp)
    written = len(list((pack / "build" / "congress" / "recipients").glob("*.pdf")))
    if written != n:
        sys.exit(f"expected {n} personalised PDFs, found {written}")
    start = time.perf_counter()
    subprocess.run(command, cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    noop = time.perf_counter() - start
    baseline, per_document = whole_baseline(whole_documents(pack, sample), n, cores)
    return {"build": seconds, "cpu": cpu, "rss": peak_rss, "pss": peak_pss, "noop": noop, "document": per_document,
            "baseline": baseline, "ratio": baseline / seconds, "load": os.getloadavg()[0]}


def report(runs: list[dict[str, float]], args: argparse.Namespace, cores: int) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def each(key: str, form: str = ".2f") -> str:
        return ", ".join(f"{r[key]:{form}}" for r in runs)

    print(f"cores: {cores}, runs: {args.runs}, recipients: {args.recipients}, "
          f"load average after each run: {each('load', '.1f')}")
    print(f"personalised build       median {median('build'):.2f} s  (runs: {each('build')}; target <= 15 s)")
    print(f"CPU time of the build    median {median('cpu'):.1f} s  (brief and its workers: on {cores} idle cores "
          f"no less than {median('cpu') / cores:.1f} s)")
    print(f"whole-edition baseline   median {median('baseline'):.1f} s  (extrapolated from {args.sample} recipients "
          f"printed whole by {cores} processes after each run, {median('document'):.3f} s a document in each)")
    print(f"ratio baseline / build   median {median('ratio'):.1f}x  (runs: {each('ratio', '.1f')}; target >= 10x)")
    print(f"peak memory, RSS sum     {max(r['rss'] for r in runs):.0f} MB  (upper bound: shared pages counted "
          "per process; target <= 300 MB)")
    print(f"peak memory, PSS sum     {max(r['pss'] for r in runs):.0f} MB  (shared pages split between processes)")
    print(f"no-op rebuild            median {median('noop'):.2f} s")


if __name__ == "__main__":
    main()
