"""`brief build --shard I/N` on separate "machines" (processes, each with its own copy of the pack), then
`brief build --merge`: the same files, byte for byte, as one unsharded build; a missing or mismatched
shard is refused and named.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
TREATY = Path(__file__).resolve().parent / "packs" / "treaty"


def brief(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief", *args], capture_output=True, text=True)


def pack_copy(where: Path) -> Path:
    shutil.copytree(TREATY / "content", where / "content")
    return where


def files(build: Path) -> dict[str, str]:
    """{path under build/: sha256} of everything a build leaves (the lock file, which holds a pid, aside)."""
    return {p.relative_to(build).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*")) if p.is_file() and p.name != ".brief.lock"}


def run_shards(tmp_path: Path, count: int) -> list[Path]:
    """Build every shard at once, each in its own copy of the pack and its own process; return their build/."""
    packs = [pack_copy(tmp_path / f"machine-{i}") for i in range(1, count + 1)]
    running = [subprocess.Popen([sys.executable, "-m", "brief", "build", "-C", str(p), "--all", "-q",
                                 "--shard", f"{i}/{count}"], stderr=subprocess.PIPE, text=True)
               for i, p in enumerate(packs, 1)]
    for process in running:
        assert process.wait() == 0, process.stderr.read() if process.stderr else ""
    return [p / "build" for p in packs]


def gather(builds: list[Path], into: Path) -> None:
    for build in builds:
        shutil.copytree(build, into, dirs_exist_ok=True)


def test_shards_merged_equal_an_unsharded_build_and_a_missing_one_is_named(tmp_path):
    here = pack_copy(tmp_path / "here")
    result = brief("build", "-C", str(here), "--all")
    assert result.returncode == 0, result.stderr
    unsharded = files(here / "build")
    assert any(path.startswith("officials/recipients/") for path in unsharded)
    shutil.rmtree(here / "build")

    builds = run_shards(tmp_path, 3)
    parts = [sorted(p.name for p in b.glob(".manifest.part-*")) for b in builds]
    assert parts == [[f".manifest.part-{i}-of-3.json"] for i in (1, 2, 3)]
    assert all(not (b / "manifest.json").exists() for b in builds)  # only the merge writes it

    # Shard 2's machine died: the merge names it and how to run it again, and merges nothing.
    gather([builds[0], builds[2]], here / "build")
    result = brief("build", "-C", str(here), "--merge")
    assert result.returncode == 5
    assert "shard 2/3 did not report" in result.stderr and "`brief build --shard 2/3 --all`" in result.stderr
    assert not (here / "build" / "manifest.json").exists()

    # Re-run alone, copied in: the merge completes, and the build is the unsharded one, byte for byte.
    gather(run_shards(tmp_path / "again", 3)[1:2], here / "build")
    result = brief("build", "-C", str(here), "--merge")
    assert result.returncode == 0, result.stderr
    assert "merged 3 parts: 3 editions, 4 personalised PDFs" in result.stdout
    assert files(here / "build") == unsharded

    # The merged build is a normal one: nothing to do next time.
    result = brief("build", "-C", str(here), "--all")
    assert result.returncode == 0 and "personalised PDF" not in result.stdout and "up to date" in result.stdout


def test_parts_from_two_versions_of_the_pack_are_refused(tmp_path):
    builds = run_shards(tmp_path, 2)
    other = tmp_path / "machine-2"
    rows = other / "content" / "recipients.csv"
    rows.write_text(rows.read_text(encoding="utf-8").replace("Dear Mr Otto", "Dear Dr Otto"), encoding="utf-8")
    assert brief("build", "-C", str(other), "--all", "-q", "--shard", "2/2").returncode == 0
    here = pack_copy(tmp_path / "here")
    gather(builds, here / "build")
    result = brief("build", "-C", str(here), "--merge")
    assert result.returncode == 5
    assert "shard 1/2 and shard 2/2 were built from different versions: content/recipients.csv differ" \
        in result.stderr
    assert not (here / "build" / "manifest.json").exists()


def test_merge_without_parts_says_what_to_do(tmp_path):
    pack = pack_copy(tmp_path / "pack")
    result = brief("build", "-C", str(pack), "--merge")
    assert result.returncode == 5 and "no manifest parts in build/" in result.stderr
