"""Unattended builds: deterministic, incremental, atomic, one at a time, readable by machines."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief import JSON_FORMAT_VERSION
from brief.cli import main
from brief.errors import NOTHING_TO_DO
from helpers import copy_pack

pytestmark = pytest.mark.slow  # every test here prints PDFs


def build(pack: Path, *args: str):
    # --exit-unchanged: these tests tell "rebuilt" from "up to date" by the exit code (3 = nothing to do)
    return CliRunner().invoke(main, ["build", "-C", str(pack), "--all", "--exit-unchanged", *args])


def run_cli(pack: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", "build", "-C", str(pack), "--all", "--exit-unchanged",
                           *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def outputs(pack: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every edition file (PDF and HTML) in build/."""
    return {str(p.relative_to(pack)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((pack / "build").glob("*/*")) if p.suffix in (".pdf", ".html")}


@pytest.fixture
def built(built_editions) -> Path:
    """The pack built once per run by `brief build --all` in its own process (conftest.py), shared: for the
    tests that only read or skip. A test that changes the pack or build/ takes built_editions_copy instead."""
    return built_editions


def test_builds_in_separate_processes_are_byte_identical(tmp_path, built):
    # Another directory, another process, another clock: the same bytes.
    other = copy_pack("editions", tmp_path / "elsewhere")
    result = run_cli(other, env={"SOURCE_DATE_EPOCH": "0", "TZ": "Asia/Tokyo"})
    assert result.returncode == 0, result.stderr
    assert outputs(other) == outputs(built)
    assert len(outputs(built)) == 6


def test_second_build_skips_without_importing_weasyprint(built):
    code = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from brief.cli import main
        r = CliRunner().invoke(main, ["build", "-C", {str(built)!r}, "--all", "--exit-unchanged"])
        print(r.output)
        assert r.exit_code == {NOTHING_TO_DO}, r.output
        assert "weasyprint" not in sys.modules
        assert "pydantic" not in sys.modules
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("unchanged, skipped") == 3
    assert "nothing to do" in proc.stdout


def test_touching_one_content_file_rebuilds_only_the_editions_that_use_it(built_editions_copy):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    before = outputs(pack)
    path = pack / "content" / "questions.yaml"  # only the press edition has a questions section
    path.write_text(path.read_text().replace("question: ", "question: Briefly, ", 1))
    result = build(pack)
    assert result.exit_code == 0, result.output
    assert "press/" in result.output and "(budget" in result.output
    assert result.output.count("unchanged, skipped") == 2
    changed = {k for k in outputs(pack) if outputs(pack)[k] != before[k]}
    assert changed and all(k.startswith("build/press/") for k in changed)


def test_force_rebuilds_and_json_reports(built_editions_copy):
    built = built_editions_copy  # --force rewrites build/: this test's own copy
    result = CliRunner().invoke(main, ["build", "-C", str(built), "--all", "--json"])
    assert result.exit_code == 0  # up to date is success; the JSON status tells it apart
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 0 and summary["status"] == "unchanged"
    assert summary["format_version"] == JSON_FORMAT_VERSION
    assert {e["audience"]: e["status"] for e in summary["editions"]} == {
        "press": "skipped", "research": "skipped", "staff": "skipped"}
    result = CliRunner().invoke(main, ["build", "-C", str(built), "--audience", "staff", "--force", "--json"])
    assert result.exit_code == 0
    (edition,) = json.loads(result.stdout)["editions"]
    assert edition["status"] == "built" and edition["pages"] >= 1
    pdf = next(f for f in edition["files"] if f["path"].endswith(".pdf"))
    assert pdf["sha256"] == hashlib.sha256((built / pdf["path"]).read_bytes()).hexdigest()
    assert pdf["bytes"] == (built / pdf["path"]).stat().st_size


def test_quiet_prints_nothing_on_success(built):
    result = run_cli(built, "--quiet")
    assert result.returncode == NOTHING_TO_DO
    assert result.stdout == "" and result.stderr == ""


def broken_print(page):
    raise OSError("injected fault while printing")


def test_fault_in_the_pdf_step_leaves_the_last_good_build(built_editions_copy, monkeypatch):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    good, manifest = outputs(pack), (pack / "build/manifest.json").read_bytes()

    monkeypatch.setattr("brief.output.printing.print_one", broken_print)  # forked workers inherit the patch
    result = build(pack, "--force")
    assert result.exit_code == 5, result.output
    assert "press: printing the PDF failed: OSError: injected fault while printing" in result.output
    assert outputs(pack) == good
    assert (pack / "build/manifest.json").read_bytes() == manifest


def test_disk_full_leaves_the_last_good_build(built_editions_copy, monkeypatch):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    good, manifest = outputs(pack), (pack / "build/manifest.json").read_bytes()
    real_write = os.write

    def full(fd, data):
        if len(data) > 1000:  # let the lock file's pid through; fail the edition files
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr("brief.output.atomic.os.write", full)
    result = build(pack, "--force")
    assert result.exit_code == 5, result.output
    assert "no space left on device; free some space and run again" in result.output
    assert "manifest" not in result.output.splitlines()[-1]  # the first failure is the one reported
    assert outputs(pack) == good
    assert (pack / "build/manifest.json").read_bytes() == manifest
    assert not [p for p in (pack / "build").rglob(".*.tmp-*")]


KILLER = """
import sys, time
import brief.output.atomic, brief.output.build
real = brief.output.atomic.write_bytes_atomic
def slow(path, data):
    if str(path).endswith(".pdf"):
        # Start the temp file as the real function would, then stop for the kill.
        tmp = path.parent / brief.output.atomic.temp_name(path.name)
        tmp.write_bytes(data[: len(data) // 2])
        open(sys.argv[2], "w").close()
        time.sleep(60)
    return real(path, data)
brief.output.build.write_bytes_atomic = slow
from brief.cli import main
main(["build", "-C", sys.argv[1], "--all", "--force"])
"""


def test_sigkill_mid_write_keeps_the_last_good_build_and_next_run_recovers(tmp_path, built_editions_copy):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    good, manifest = outputs(pack), (pack / "build/manifest.json").read_bytes()
    path = pack / "content" / "pack.yaml"  # every edition changes: the killed run had work to do
    path.write_text(path.read_text().replace("keeps & changes", "keeps and changes"))
    marker = tmp_path / "writing"
    proc = subprocess.Popen([sys.executable, "-c", KILLER, str(pack), str(marker)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the build never reached the PDF write"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Every PDF a reader can open is the last good one, and the manifest is untouched.
    now = outputs(pack)
    assert {k: v for k, v in now.items() if k.endswith(".pdf")} == {k: v for k, v in good.items() if k.endswith(".pdf")}
    assert (pack / "build/manifest.json").read_bytes() == manifest
    assert [p for p in (pack / "build").rglob(".*.tmp-*")], "the kill should have left a temp file"
    # The next run removes the leftover, sees the half-finished edition, and rebuilds it.
    result = build(pack)
    assert result.exit_code == 0, result.output
    assert "left by an interrupted run" in result.output
    assert not [p for p in (pack / "build").rglob(".*.tmp-*")]
    assert result.output.count("(budget") == 3
    assert all(outputs(pack)[k] != good[k] for k in good if k.endswith(".pdf"))
    assert build(pack).exit_code == NOTHING_TO_DO


HOLDER = """
import sys, time
from brief.output.lock import build_lock
with build_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_second_run_waits_then_gives_up_with_its_own_exit_code(built_editions_copy):
    built = built_editions_copy  # its lock is held and waited for: this test's own copy
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(built / "build")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_cli(built, "--wait", "0.5")
        assert result.returncode == 6
        assert f"another brief run holds build/.brief.lock (pid {holder.pid}) after waiting 0.5 s" in result.stderr
    finally:
        holder.kill()
        holder.wait()
    assert run_cli(built).returncode == NOTHING_TO_DO  # the kernel dropped the lock with its holder


@pytest.mark.parametrize("damage", ["not json {", '{"format": 1, "editions": {"press": 7}}', ""])
def test_a_damaged_manifest_means_rebuild_not_crash(built_editions_copy, damage):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    good = outputs(pack)
    (pack / "build/manifest.json").write_text(damage)
    result = build(pack)
    assert result.exit_code == 0, result.output
    assert "rebuilding what it cannot vouch for" in result.output
    assert result.output.count("(budget") == 3
    assert outputs(pack) == good
    assert build(pack).exit_code == NOTHING_TO_DO


def test_an_edited_output_is_rebuilt(built_editions_copy):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    good = outputs(pack)
    html = next((pack / "build/staff").glob("*.html"))
    html.write_text("<p>edited by hand</p>")
    result = build(pack)
    assert result.exit_code == 0
    assert result.output.count("unchanged, skipped") == 2
    assert outputs(pack) == good


def test_read_only_build_directory_fails_clearly_and_keeps_the_last_build(built_editions_copy):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    good = outputs(pack)
    if os.geteuid() == 0:
        # root ignores permission bits: make build/ a read-only mount in a private namespace.
        if not shutil.which("unshare"):
            pytest.skip("running as root without unshare(1): cannot make a read-only directory")
        run = subprocess.run(
            ["unshare", "-m", "sh", "-c",
             'mount --bind -o ro "$1" "$1" && exec "$2" -m brief build -C "$3" --all --force',
             "sh", str(pack / "build"), sys.executable, str(pack)], capture_output=True, text=True)
        if "mount" in run.stderr:
            pytest.skip(f"cannot make a read-only mount here: {run.stderr.strip()}")
    else:
        (pack / "build").chmod(0o555)
        try:
            run = run_cli(pack, "--force")
        finally:
            (pack / "build").chmod(0o755)
    assert run.returncode == 5, run.stderr
    assert "Traceback" not in run.stderr
    assert "read-only" in run.stderr or "permission denied" in run.stderr
    assert outputs(pack) == good


def test_a_file_where_build_should_be_is_named(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack")
    (pack / "build").write_text("not a directory")
    result = build(pack)
    assert result.exit_code == 5
    assert "build: a file stands where a directory must be; move it away and run again" in result.output


def test_renamed_edition_files_replace_the_old_ones(built_editions_copy):
    pack = built_editions_copy  # the last good build: a copy of the one built per run (conftest.py)
    assert build(pack).exit_code == NOTHING_TO_DO  # which brief sees as up to date here
    path = pack / "content" / "pack.yaml"
    path.write_text(path.read_text().replace("title: The Harbour Data Accord",
                                             "title: The Harbour Data Accord\nshort_title: HDA"))
    assert build(pack).exit_code == 0
    assert sorted(p.name for p in (pack / "build/staff").glob("*.pdf")) == ["hda-staff.pdf"]
    assert sorted(p.name for p in (pack / "build/press").glob("*.html")) == ["hda-press.html"]


def test_the_build_process_leaves_weasyprint_to_its_workers(tmp_path):
    # Importing WeasyPrint costs most of a second: only the print workers pay it, never the main process,
    # whatever it makes (editions, covers for recipients, a facts sheet).
    pack = tmp_path / "treaty"
    shutil.copytree(Path(__file__).parent / "packs" / "treaty", pack, ignore=shutil.ignore_patterns("build"))
    code = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from brief.cli import main
        r = CliRunner().invoke(main, ["build", "-C", {str(pack)!r}, "--all"])
        assert r.exit_code == 0, r.output
        assert "personalised PDFs built" in r.output, r.output
        assert "weasyprint" not in sys.modules and "pikepdf" not in sys.modules
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
