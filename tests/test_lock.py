"""build/.brief.lock: one run at a time, a clear message for the second, nothing stale after a kill."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from brief.errors import LockedError
from brief.output.lock import build_lock, holder_pid

HOLDER = textwrap.dedent("""
    import sys
    from brief.output.lock import build_lock
    with build_lock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.read()          # hold until the test closes our stdin
    print("released", flush=True)
""")


class Holder:
    """Another brief run, in its own process, holding the lock."""

    def __init__(self, build_dir: Path):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(build_dir)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line == "held\n", f"holder did not take the lock: {line!r}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        self.proc.stdin.close()
        assert self.proc.stdout.readline() == "released\n"
        self.proc.wait()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def holder(tmp_path):
    h = Holder(tmp_path / "build")
    yield h
    h.cleanup()


def test_second_run_is_refused_with_the_holders_pid(tmp_path, holder):
    with pytest.raises(LockedError) as info:
        with build_lock(tmp_path / "build", display="build/.brief.lock"):
            pytest.fail("took a lock another process holds")
    assert info.value.exit_code == 6
    assert info.value.format_message() == (
        f"another brief run holds build/.brief.lock (pid {holder.pid}); try again later or pass --wait SECONDS")
    assert holder_pid(tmp_path / "build" / ".brief.lock") == holder.pid


def test_message_names_the_lock_path_by_default(tmp_path, holder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LockedError, match=r"holds build/\.brief\.lock \(pid \d+\)"):
        with build_lock(tmp_path / "build"):
            pass


def test_waiting_run_gets_the_lock_when_the_holder_finishes(tmp_path, holder):
    got = threading.Event()
    errors: list[BaseException] = []

    def second_run():
        try:
            with build_lock(tmp_path / "build", wait=120):
                got.set()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=second_run)
    t.start()
    assert not got.is_set()
    holder.release()
    t.join()
    assert errors == [] and got.is_set()


def test_wait_that_runs_out_says_so(tmp_path, holder):
    with pytest.raises(LockedError, match=r"after waiting 0.2 s; try again later"):
        with build_lock(tmp_path / "build", wait=0.2):
            pass


def test_killed_holder_leaves_no_stale_lock(tmp_path, holder):
    holder.kill()
    with build_lock(tmp_path / "build") as path:
        assert holder_pid(path) is not None  # ours now
    assert holder_pid(tmp_path / "build" / ".brief.lock") is None  # cleared on release


def test_lock_is_released_when_the_block_raises(tmp_path):
    with pytest.raises(RuntimeError):
        with build_lock(tmp_path / "build"):
            raise RuntimeError("boom")
    h = Holder(tmp_path / "build")  # another process can take it now
    h.release()


def test_publish_while_locked_exits_6(tmp_path):
    from click.testing import CliRunner

    from brief.cli import main
    from helpers import fakebuild

    p = fakebuild.copy_pack("minimal", tmp_path / "pack")
    fakebuild.fake_build(p)
    h = Holder(p / "build")
    try:
        result = CliRunner().invoke(main, ["publish", "-C", str(p)])
    finally:
        h.cleanup()
    assert result.exit_code == 6, result.output
    assert f"another brief run holds build/.brief.lock (pid {h.pid}); try again later or pass --wait SECONDS" \
        in result.output
    assert not (p / "build" / "dist").exists()
