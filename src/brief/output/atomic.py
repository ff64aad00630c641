"""Write files so a reader sees the old version or the new one, never half of one.

Each write goes to a temporary file in the target's directory, named
``.{name}.tmp-XXXXXXXX``, is flushed to disk, then renamed over the target with
``os.replace`` (atomic on POSIX within one file system), and the directory is
synced so the rename survives a power cut. A run killed between the two steps
leaves only a hidden temporary file behind; ``cleanup_leftovers`` removes those
at the start of the next run (call it while holding the build lock, see
``brief.output.lock``, so it never removes a file another run is still writing).
"""
from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

from brief.errors import BuildError

TMP_MARK = ".tmp-"
_CHUNK = 1 << 20  # bytes per os.write call

# What to tell the user for the errors a scheduled run meets in practice.
_ADVICE = {
    errno.ENOSPC: "no space left on device; free some space and run again",
    errno.EDQUOT: "disk quota exceeded; free some space or raise the quota and run again",
    errno.EROFS: "the file system is read-only; run brief where the build directory is writable",
    errno.EACCES: "permission denied; check the owner and permissions of the directory "
                  "(the user running brief must be able to write it)",
    errno.EPERM: "operation not permitted; check the owner and permissions of the directory",
    errno.EEXIST: "a file stands where a directory must be; move it away and run again",
    errno.ENOTDIR: "a file stands where a directory must be; move it away and run again",
}


def temp_name(name: str) -> str:
    """Return a fresh hidden temporary name for a file or directory called name."""
    return f".{name}{TMP_MARK}{secrets.token_hex(4)}"


def is_leftover(name: str) -> bool:
    """Tell whether a directory entry name is a temporary file or folder of ours."""
    return name.startswith(".") and TMP_MARK in name


def write_error(path: Path | str, exc: OSError, what: str = "write") -> BuildError:
    """Turn an OSError met while writing path into a BuildError that says what to do."""
    advice = _ADVICE.get(exc.errno or 0, exc.strerror or str(exc))
    return BuildError(f"cannot {what} {path}: {advice} (any previous version of the file is unchanged)")


def write_bytes_atomic(path: Path | str, data: bytes, sync_dir: bool = True) -> None:
    """Replace path's contents with data atomically; raise BuildError on failure.

    On any failure the temporary file is removed and the previous file, if any,
    is left exactly as it was. sync_dir=False leaves the directory's sync to the
    caller, who writes many files there and syncs it once (fsync_dir) when done.
    """
    path = Path(path)
    directory = path.parent
    mode = _mode_for(path)
    fd, tmp = _open_temp(path)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view[:_CHUNK])
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        _remove_quietly(tmp)
        raise write_error(path, e) from e
    except BaseException:
        _remove_quietly(tmp)
        raise
    if sync_dir:
        fsync_dir(directory)


def write_text_atomic(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Replace path's contents with text atomically (UTF-8, newlines as given)."""
    write_bytes_atomic(path, text.encode(encoding))


def fsync_dir(directory: Path | str) -> None:
    """Flush a directory's entries (renames, new files) to disk where supported."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:  # some file systems cannot sync a directory; the rename still happened
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)


def cleanup_leftovers(directory: Path | str, recursive: bool = False) -> list[Path]:
    """Remove temporary files and folders (``.*.tmp-*``) that killed runs left in directory.

    Returns what was removed. With recursive=True, also looks inside
    subdirectories (not inside the removed folders). Call it only while holding
    the build lock. A directory that does not exist has nothing to clean.
    """
    directory = Path(directory)
    removed: list[Path] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        path = Path(entry.path)
        if is_leftover(entry.name):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:
                continue
            except OSError as e:
                raise write_error(path, e, "remove leftover") from e
            removed.append(path)
        elif recursive and entry.is_dir(follow_symlinks=False):
            removed += cleanup_leftovers(path, recursive=True)
    return removed


def _open_temp(path: Path) -> tuple[int, Path]:
    """Create and open a new temporary file beside path (mode 0666 less the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.parent / temp_name(path.name)
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except FileNotFoundError as e:
            raise BuildError(f"cannot write {path}: the directory {path.parent} does not exist") from e
        except OSError as e:
            raise write_error(path, e) from e
    raise BuildError(f"cannot write {path}: could not create a temporary file beside it")  # pragma: no cover


def _mode_for(path: Path) -> int | None:
    """Keep an existing file's permissions; new files get the umask's default."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return None


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
