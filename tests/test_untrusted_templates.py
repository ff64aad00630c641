"""A pack's templates and build folder are untrusted: nothing outside the pack is read, run or written."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief.cli import main
from helpers import copy_pack

MARKER = "MARKER-7f3a9c-outside-the-pack"


def pack_with_secret(tmp_path: Path) -> tuple[Path, Path]:
    """Copy the editions fixture pack and put a marker file beside it, outside the pack."""
    pack = copy_pack("editions", tmp_path / "pack")
    (pack / "templates").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER + "\n")
    return pack, secret


def staff_template(pack: Path, body: str) -> None:
    """Make the staff edition's template the built-in one plus body in its head block."""
    (pack / "templates" / "layouts").mkdir(parents=True, exist_ok=True)
    (pack / "templates" / "layouts" / "dense.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block head %}' + body + "{% endblock %}\n", encoding="utf-8")


def brief(*args: str | Path) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def refused_build(pack: Path, body: str) -> str:
    """Build the staff edition with body in its template; check the build is refused (exit 4); return its output."""
    staff_template(pack, body)
    r = brief("build", "-C", pack, "-a", "staff")
    assert r.exit_code == 4, r.output
    return r.output


def leaked(tmp_path: Path) -> list[Path]:
    """Return every file brief wrote (build/, releases included) that holds the marker."""
    return [p for p in (tmp_path / "pack" / "build").rglob("*")
            if p.is_file() and not p.is_symlink() and MARKER.encode() in p.read_bytes()]


def test_globals_are_out_of_reach_of_a_template(tmp_path):
    pack, secret = pack_with_secret(tmp_path)
    output = refused_build(pack, "{{ cycler.__init__.__globals__.os.popen('cat " + str(secret) + "').read() }}")
    assert "templates/layouts/dense.html.j2:2" in output and "unsafe" in output
    assert "Traceback" not in output
    assert not (pack / "build" / "staff").exists() and not leaked(tmp_path)


def test_a_template_cannot_mutate_what_it_is_given(tmp_path):
    pack, _ = pack_with_secret(tmp_path)
    assert "templates/layouts/dense.html.j2:2" in refused_build(pack, "{{ pack.keywords.append('x') }}")


def test_include_through_a_symlink_out_of_the_pack_is_refused(tmp_path):
    pack, secret = pack_with_secret(tmp_path)
    (pack / "templates" / "notes.html.j2").symlink_to(secret)
    output = refused_build(pack, '{% include "notes.html.j2" %}')
    assert "templates/notes.html.j2: leads outside the pack's templates/" in output
    assert not leaked(tmp_path)


def test_include_with_dotdot_is_refused(tmp_path):
    pack, _ = pack_with_secret(tmp_path)
    assert "../secret.txt" in refused_build(pack, '{% include "../secret.txt" %}')
    assert not leaked(tmp_path)


def test_a_symlinked_templates_folder_is_refused(tmp_path):
    pack, _ = pack_with_secret(tmp_path)
    shutil.rmtree(pack / "templates")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "brief.css").write_text(f"/* {MARKER} */\n")
    (pack / "templates").symlink_to(elsewhere)
    r = brief("build", "-C", pack, "-a", "staff")
    assert r.exit_code == 4, r.output
    assert "templates/brief.css: leads outside the pack's templates/" in r.output
    assert not leaked(tmp_path)


@pytest.mark.slow
def test_an_asset_symlinked_out_is_neither_copied_nor_attached_nor_published(tmp_path):
    pack, secret = pack_with_secret(tmp_path)
    (pack / "templates" / "annex.txt").symlink_to(secret)
    staff_template(pack, '<link rel="attachment" href="annex.txt" title="annex">')
    r = brief("build", "-C", pack, "-a", "staff")
    assert r.exit_code == 4, r.output
    assert "templates/annex.txt: leads outside the pack's templates/" in r.output
    (pack / "templates" / "annex.txt").unlink()
    (pack / "templates" / "layouts" / "dense.html.j2").unlink()
    assert brief("build", "-C", pack, "--all").exit_code == 0
    r = brief("publish", "-C", pack, "--ignore-embargo")
    assert r.exit_code == 0, r.output
    assert not leaked(tmp_path)


@pytest.mark.slow
def test_an_attachment_link_to_a_file_outside_fails_the_build(tmp_path):
    pack, secret = pack_with_secret(tmp_path)
    staff_template(pack, f'<link rel="attachment" href="{secret.as_uri()}" title="annex">')
    r = brief("build", "-C", pack, "-a", "staff")
    assert r.exit_code == 5, r.output
    assert "outside the pack" in r.output
    assert not leaked(tmp_path)


@pytest.mark.parametrize("link", ["build", "build/staff", "build/dist"])
def test_a_build_folder_that_leads_outside_is_refused_before_anything_is_written(tmp_path, link):
    pack, _ = pack_with_secret(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (pack / link).parent.mkdir(parents=True, exist_ok=True)
    (pack / link).symlink_to(outside, target_is_directory=True)
    r = brief("build", "-C", pack, "-a", "staff")
    assert r.exit_code == 5, r.output
    assert f"{link}/ leads outside the pack" in r.output.replace(f"{link} leads", f"{link}/ leads")
    assert "Traceback" not in r.output
    assert list(outside.iterdir()) == []


# ---- signals and broken output -------------------------------------------------------

def _brief_process(pack: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "brief", *args, "-C", str(pack)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout
    return bool(state.strip()) and not state.strip().startswith("Z")


def _wait_for_workers(proc: subprocess.Popen) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        workers = _children(proc.pid)
        if len(workers) >= 1:
            time.sleep(0.3)  # let the pool finish forking
            return _children(proc.pid)
        time.sleep(0.05)
    pytest.fail("the build started no PDF workers")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_build_cleanly(tmp_path, sig, code):
    pack, _ = pack_with_secret(tmp_path)
    proc = _brief_process(pack, "build", "--all")
    workers = _wait_for_workers(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == code, err
    assert "stopped by" in err and "Traceback" not in err
    time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]
    assert not [p for p in (pack / "build").rglob(".*tmp-*")]
    assert brief("build", "-C", pack, "--all", "--wait", "0").exit_code == 0  # the lock was released


@pytest.mark.slow
def test_sigkill_of_the_main_process_takes_its_workers_with_it(tmp_path):
    pack, _ = pack_with_secret(tmp_path)
    proc = _brief_process(pack, "build", "--all")
    workers = _wait_for_workers(proc)
    proc.kill()
    proc.communicate(timeout=10)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and [w for w in workers if _alive(w)]:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)]


@pytest.mark.slow
@pytest.mark.parametrize("args", [["check"], ["diff"], ["diff", "--format", "json"], ["build", "--all"],
                                  ["publish", "--ignore-embargo"], ["--help"], ["--version"]])
def test_every_command_with_stdout_on_dev_full_exits_cleanly(tmp_path, args):
    pack, _ = pack_with_secret(tmp_path)
    if args[0] == "publish":
        assert brief("build", "-C", pack, "--all").exit_code == 0
    where = [] if args[0].startswith("--") else ["-C", str(pack)]
    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-m", "brief", *args, *where], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stderr
    assert "cannot write the output" in run.stderr or args[0].startswith("--")
    if args[0] == "build":  # the build itself finished: every edition is there
        assert len(list((pack / "build").glob("*/*.pdf"))) == 3
