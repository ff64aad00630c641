"""Keep everything brief writes inside the pack: build/ and all under it must resolve there."""
from __future__ import annotations

import os
from pathlib import Path

from brief.errors import BuildError


def contained_build_dir(root: Path) -> Path:
    """Return the pack's build/ directory; raise BuildError if it, or anything in it, leads outside the pack.

    A pack can come from anyone: a symlinked build/ or build/<audience>/ would make brief
    write (and later publish) wherever the link points. Checked before anything is written.
    """
    pack = Path(os.path.realpath(root))
    build = Path(root) / "build"
    if not os.path.lexists(build):
        return build
    _refuse_outside(build, pack, "build/")
    real_build = os.path.realpath(build)
    for folder, dirs, files in os.walk(build):  # does not follow symlinked folders: each is checked here
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                _refuse_outside(path, Path(real_build), path.relative_to(root).as_posix())
    return build


def _refuse_outside(path: Path, base: Path, shown: str) -> None:
    real = os.path.realpath(path)
    if os.path.commonpath([real, str(base)]) != str(base):
        raise BuildError(f"{shown} leads outside the pack (to {real}); brief writes only inside the pack's "
                         f"build/ directory. Remove the link (rm {shown.rstrip('/')}) and run again; "
                         "nothing was written")
