"""One brief run at a time per pack: an OS file lock on build/.brief.lock.

The lock is an ``flock`` held through ``filelock.FileLock``: the kernel drops it
when the holder exits, however it exits (SIGKILL included), so a killed run
never leaves a stale lock behind. The holder writes its pid into the file so a
second run can say who holds it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from brief.errors import LockedError
from brief.output.atomic import write_error

LOCK_NAME = ".brief.lock"


def lock_path(build_dir: Path | str) -> Path:
    return Path(build_dir) / LOCK_NAME


@contextmanager
def build_lock(build_dir: Path | str, wait: float = 0, display: str | None = None) -> Iterator[Path]:
    """Hold build/.brief.lock for the duration of the block.

    wait is how many seconds to wait for another run to finish (0: one try).
    Raises LockedError (exit 6) when the lock stays held. display is how the
    path is named in the message (default: relative to the working directory).
    """
    build_dir = Path(build_dir)
    path = lock_path(build_dir)
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path))
        lock.acquire(timeout=wait, poll_interval=min(0.1, max(wait / 10, 0.01)))
    except filelock.Timeout:
        raise LockedError(_held_message(path, wait, display)) from None
    except OSError as e:  # read-only disk, a file where build/ should be, no permission
        raise write_error(build_dir if not build_dir.is_dir() else path, e, "create") from None
    try:
        _write_pid(path)
        yield path
    finally:
        _write_pid(path, clear=True)
        lock.release()


def holder_pid(path: Path | str) -> int | None:
    """Return the pid the lock file names, if it names one."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _held_message(path: Path, wait: float, display: str | None) -> str:
    pid = holder_pid(path)
    who = f" (pid {pid})" if pid else ""
    waited = f" after waiting {wait:g} s" if wait else ""
    name = display or _display(path)
    return (f"another brief run holds {name}{who}{waited}; "
            f"try again later or pass --wait SECONDS")


def _display(path: Path) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else str(path)


def _write_pid(path: Path, clear: bool = False) -> None:
    # Best effort: the pid is only for the message another run prints.
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return
    try:
        os.ftruncate(fd, 0)
        if not clear:
            os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        pass
    finally:
        os.close(fd)
