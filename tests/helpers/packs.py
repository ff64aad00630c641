"""The fixture packs under tests/fixtures, copied to where a test may change them."""
from __future__ import annotations

import shutil
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"

# name: (the pack, the folder holding its overlays, one folder per case)
PACKS: dict[str, tuple[Path, Path | None]] = {
    "minimal": (FIXTURES / "minimal", FIXTURES / "bad"),  # overlays: tests/fixtures/bad/<case>/content/...
    "editions": (FIXTURES / "editions" / "pack", FIXTURES / "editions" / "bad"),  # .../editions/bad/<case>/...
    "publish": (FIXTURES / "publish" / "pack", None),
}


def _without_build(root: Path):
    """A copytree ignore that leaves out root/build only: a build someone ran in the fixture is not part of it."""
    def ignore(folder: str, names: list[str]) -> list[str]:
        return ["build"] if Path(folder) == root and "build" in names else []
    return ignore


def copy_pack(name: str, dest: Path, *overlays: str) -> Path:
    """Copy the fixture pack `name` ("minimal", "editions" or "publish") to dest, which must not exist,
    without its build/; then lay each overlay case's files over the copy, in order. Return dest."""
    src, _ = PACKS[name]
    shutil.copytree(src, dest, ignore=_without_build(src))
    for case in overlays:
        overlay(name, case, dest)
    return dest


def overlay(name: str, case: str, pack: Path) -> Path:
    """Lay the files of the fixture pack `name`'s overlay `case` over the copy at pack. Return pack."""
    _, bad = PACKS[name]
    if bad is None:
        raise ValueError(f"the {name} pack has no overlays")
    if not (bad / case).is_dir():
        raise FileNotFoundError(f"no overlay {bad / case}")
    shutil.copytree(bad / case, pack, dirs_exist_ok=True)
    return pack


def copy_built(pack: Path, dest: Path) -> Path:
    """Copy a pack together with its build/ (contents and modification times) to dest, which must not exist."""
    shutil.copytree(pack, dest, symlinks=True)
    return dest
