"""The one place brief makes Jinja environments and finds its built-in templates.

A pack's templates are untrusted: every environment is sandboxed (no attribute that
starts with an underscore, no mutating built-in objects, so `__globals__` and friends
are out of reach), and the loader serves only regular files that lie inside its own
folders once symlinks are resolved.
"""
from __future__ import annotations

import importlib.resources
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

import brief


class EmptyValue(Exception):
    """A template printed a value that is None: an empty field, not the text 'None'."""


class OutsideTemplates(jinja2.TemplateNotFound):
    """A template name resolves (through a symlink) to a file outside the template folders."""


def builtin_templates(part: str = "") -> Path:
    """Return the built-in templates directory, or one part of it (editions, diff, publish)."""
    packaged = importlib.resources.files("brief") / "_templates"
    base = Path(str(packaged)) if packaged.is_dir() else Path(brief.__file__).resolve().parents[2] / "templates"
    return base / part if part else base


def contained(path: Path | str, roots: list[Path]) -> Path | None:
    """Return path's real location if it is a regular file under one of roots (symlinks resolved), else None."""
    real = os.path.realpath(path)
    for root in roots:
        # The folder itself must not be a symlink out either: resolve only the folders above it.
        base = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(root))), os.path.basename(root))
        if os.path.commonpath([real, base]) == base and os.path.isfile(real):
            return Path(real)
    return None


class ContainedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses files reached through a symlink out of its folders."""

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        if contained(filename, [Path(p) for p in self.searchpath]) is None:
            raise OutsideTemplates(f"{template} (it leads outside the template folders; brief reads only "
                                   "files inside the pack's templates/ and its own)")
        return source, filename, uptodate


def _finalize(value: Any) -> Any:
    if value is None:
        raise EmptyValue("a value printed by the template is empty (None); guard it with {% if %}")
    return value


def strict_environment(dirs: list[Path], *, trim: bool = True) -> jinja2.Environment:
    """Return a sandboxed environment that escapes every template (.j2 included) and refuses missing or empty values."""
    return ImmutableSandboxedEnvironment(
        loader=ContainedLoader([str(d) for d in dirs]),
        autoescape=True,  # select_autoescape() would leave .j2 files unescaped
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=trim,
        lstrip_blocks=trim,
        keep_trailing_newline=True,
    )
