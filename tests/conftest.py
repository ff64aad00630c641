"""Fixtures shared by the test modules: a real SMTP server, and the editions fixture pack built once per run.

Plain helpers are in tests/helpers/ (`from helpers import copy_pack`, `from helpers import fakebuild`).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from helpers.packs import copy_built, copy_pack
from helpers.smtp import Sink, serving

# Fixtures that print PDFs: a test using one is marked slow, whatever its module says.
RENDERING = {"editions_build", "built_packs"}


def pytest_collection_modifyitems(items):
    for item in items:
        if RENDERING & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: yields (sink, port)."""
    with serving(Sink()) as server:
        yield server


class Build(NamedTuple):
    pack: Path
    returncode: int
    stdout: str
    stderr: str


def _fingerprint(pack: Path) -> dict[str, str]:
    """{relative path: sha256} of every file in the pack and its build/, but the lock file (a run writes its pid)."""
    return {str(p.relative_to(pack)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(pack.rglob("*")) if p.is_file() and p.name != ".brief.lock"}


@pytest.fixture(scope="session")
def editions_build(tmp_path_factory) -> Build:
    """The editions fixture pack, built once per run by `brief build --all` in a process of its own (real PDFs).

    Shared by every test that asks for it, so it is read-only: a test that changes the pack or its build/
    (even by rebuilding with --force) takes `built_editions_copy` instead. The end of the run checks that
    no test changed it.
    """
    pack = copy_pack("editions", tmp_path_factory.mktemp("built") / "pack")
    result = subprocess.run([sys.executable, "-m", "brief", "build", "-C", str(pack), "--all"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before = _fingerprint(pack)
    yield Build(pack, result.returncode, result.stdout, result.stderr)
    assert _fingerprint(pack) == before, (
        "the shared built pack changed during the run: a test that changes it must take built_editions_copy "
        "(or brief's own code was edited mid-run, so a later build found it out of date)")


@pytest.fixture
def built_editions(editions_build) -> Path:
    """The shared, read-only built editions pack (see editions_build)."""
    return editions_build.pack


@pytest.fixture
def built_editions_copy(editions_build, tmp_path) -> Path:
    """This test's own copy, at tmp_path/pack, of the built editions pack: sources, PDFs, HTML and manifest."""
    return copy_built(editions_build.pack, tmp_path / "pack")


TESTS = Path(__file__).resolve().parent
# The shipped pack (content/ and the source copies its quotations are checked against) and the two test packs.
PACKS = {"sta": (TESTS.parent, ("content", "sources")),
         "treaty": (TESTS / "packs" / "treaty", ("content",)),
         "regulation": (TESTS / "packs" / "regulation", ("content",))}


@pytest.fixture(scope="session")
def built_packs(tmp_path_factory) -> dict[str, Path]:
    """{name: pack} for the STA pack and tests/packs/{treaty,regulation}, each built once per run by
    `brief build --all --archival` in a process of its own: every edition's PDF/UA file and its PDF/A-3 copy.

    Read-only, like editions_build: a test that changes a pack copies it first.
    """
    root = tmp_path_factory.mktemp("packs")
    built = {}
    for name, (source, parts) in PACKS.items():
        for part in parts:
            shutil.copytree(source / part, root / name / part)
        result = subprocess.run([sys.executable, "-m", "brief", "build", "-C", str(root / name), "--all", "--archival"],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        built[name] = root / name
    before = {name: _fingerprint(pack) for name, pack in built.items()}
    yield built
    assert {name: _fingerprint(pack) for name, pack in built.items()} == before, (
        "a built pack changed during the run: a test that changes one must copy it first")
