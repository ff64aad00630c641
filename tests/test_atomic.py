"""Atomic writes: a reader sees the old file or the new one, never a half-written one."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from brief.errors import BuildError
from brief.output import atomic
from brief.output.atomic import cleanup_leftovers, write_bytes_atomic, write_text_atomic

OLD = b"%PDF-1.7 the edition readers have now\n"


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") and ".tmp-" in p.name)


def test_writes_new_file_and_replaces_old_one(tmp_path):
    target = tmp_path / "brief.pdf"
    write_bytes_atomic(target, OLD)
    assert target.read_bytes() == OLD
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    write_text_atomic(tmp_path / "brief.html", "<p>café</p>\n")
    assert (tmp_path / "brief.html").read_bytes() == "<p>café</p>\n".encode()
    assert leftovers(tmp_path) == []


def test_new_file_gets_umask_permissions_and_replacement_keeps_them(tmp_path):
    target = tmp_path / "brief.pdf"
    old_umask = os.umask(0o022)
    try:
        write_bytes_atomic(target, b"x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # readable by a web server, not 0600
    target.chmod(0o640)
    write_bytes_atomic(target, b"y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_large_data_is_written_completely(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # several os.write calls
    write_bytes_atomic(tmp_path / "big.bin", data)
    assert (tmp_path / "big.bin").read_bytes() == data


@pytest.mark.parametrize("where", ["write", "replace"])
def test_disk_full_leaves_previous_file_and_no_temp_file(tmp_path, monkeypatch, where):
    target = tmp_path / "brief.pdf"
    target.write_bytes(OLD)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, where, full)
    with pytest.raises(BuildError) as info:
        write_bytes_atomic(target, b"new content" * 1000)
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []
    message = info.value.format_message()
    assert str(target) in message
    assert "no space left on device; free some space and run again" in message
    assert "unchanged" in message
    assert info.value.exit_code == 5


def test_disk_full_after_partial_write_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "brief.pdf"
    target.write_bytes(OLD)
    real_write = os.write
    calls = []

    def write_then_fail(fd, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(atomic.os, "write", write_then_fail)
    with pytest.raises(BuildError):
        write_bytes_atomic(target, b"x" * (3 << 20))
    monkeypatch.undo()
    assert len(calls) == 2
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("code,advice", [
    (errno.EROFS, "the file system is read-only"),
    (errno.EACCES, "permission denied; check the owner and permissions of the directory"),
])
def test_unwritable_directory_error_names_path_and_remedy(tmp_path, monkeypatch, code, advice):
    target = tmp_path / "brief.pdf"
    target.write_bytes(OLD)
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refuse)
    with pytest.raises(BuildError) as info:
        write_bytes_atomic(target, b"new")
    monkeypatch.undo()
    assert f"cannot write {target}: {advice}" in info.value.format_message()
    assert target.read_bytes() == OLD


def test_really_read_only_directory(tmp_path):
    """A directory brief may not write to (no patching): a clear BuildError, old file intact."""
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / "brief.pdf"
    target.write_bytes(OLD)
    if os.geteuid() != 0:
        ro.chmod(0o555)
        try:
            with pytest.raises(BuildError) as info:
                write_bytes_atomic(target, b"new")
        finally:
            ro.chmod(0o755)
        message = info.value.format_message()
    else:
        # root ignores permission bits: make the directory a read-only mount in a private namespace.
        if not shutil.which("unshare"):
            pytest.skip("running as root without unshare(1): cannot make a read-only directory")
        script = ("import sys; from brief.output.atomic import write_bytes_atomic\n"
                  "try:\n    write_bytes_atomic(sys.argv[1], b'new')\n"
                  "except Exception as e:\n    print(type(e).__name__, e.format_message()); sys.exit(5)\n")
        run = subprocess.run(
            ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$1" "$1" && exec "$2" -c "$3" "$4"', "sh",
             str(ro), sys.executable, script, str(target)], capture_output=True, text=True)
        if "mount" in run.stderr or run.returncode not in (5,):
            pytest.skip(f"cannot make a read-only mount here: {run.stderr.strip()}")
        message = run.stdout
        assert message.startswith("BuildError")
    assert f"cannot write {target}" in message
    assert "read-only" in message or "permission denied" in message
    assert target.read_bytes() == OLD
    assert leftovers(ro) == []


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(BuildError, match="does not exist"):
        write_bytes_atomic(tmp_path / "nope" / "brief.pdf", b"x")


CHILD = textwrap.dedent("""
    import os, sys, time
    from brief.output import atomic
    target, marker = sys.argv[1], sys.argv[2]
    real_write = os.write
    def slow_write(fd, data):
        n = real_write(fd, data)
        if not os.path.exists(marker):
            open(marker, "w").close()   # tell the test a chunk is on disk
        time.sleep(0.5)                 # then write slowly until killed
        return n
    atomic.os.write = slow_write
    atomic.write_bytes_atomic(target, b"N" * (64 << 20))
""")


def test_run_killed_mid_write_leaves_old_file_and_next_cleanup_removes_leftover(tmp_path):
    target = tmp_path / "brief.pdf"
    target.write_bytes(OLD)
    marker = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the writer exited before it was killed"
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD  # readers still get the previous edition
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(".brief.pdf.tmp-")
    assert (tmp_path / stale[0]).stat().st_size >= 1 << 20  # a chunk really was on disk

    removed = cleanup_leftovers(tmp_path)
    assert [p.name for p in removed] == stale
    assert leftovers(tmp_path) == []
    write_bytes_atomic(target, b"next run")
    assert target.read_bytes() == b"next run"


def test_cleanup_removes_temp_files_and_folders_only(tmp_path):
    (tmp_path / ".brief.pdf.tmp-1a2b3c4d").write_bytes(b"half")
    (tmp_path / ".2025-03-01-e1.tmp-deadbeef").mkdir()
    (tmp_path / ".2025-03-01-e1.tmp-deadbeef" / "x.pdf").write_bytes(b"half")
    sub = tmp_path / "council"
    sub.mkdir()
    (sub / ".water.pdf.tmp-00000000").write_bytes(b"half")
    keep = [tmp_path / "brief.pdf", tmp_path / ".brief.lock", tmp_path / "tmp-notes.txt", sub / "water.pdf"]
    for k in keep:
        k.write_bytes(b"keep")
    assert len(cleanup_leftovers(tmp_path)) == 2
    assert (sub / ".water.pdf.tmp-00000000").exists()
    assert [p.name for p in cleanup_leftovers(tmp_path, recursive=True)] == [".water.pdf.tmp-00000000"]
    assert all(k.read_bytes() == b"keep" for k in keep)
    assert cleanup_leftovers(tmp_path / "missing") == []
