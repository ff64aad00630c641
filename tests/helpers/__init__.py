"""Helpers shared by the tests, importable as `helpers` (pyproject.toml puts tests/ on sys.path).

Fixtures live in tests/conftest.py; plain functions and classes a test imports live here.
"""
from helpers.packs import FIXTURES, REPO, copy_built, copy_pack, overlay

__all__ = ["FIXTURES", "REPO", "copy_built", "copy_pack", "overlay"]
