"""The one place brief makes Jinja environments and finds its built-in templates."""
from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

import jinja2

import brief


class EmptyValue(Exception):
    """A template printed a value that is None: an empty field, not the text 'None'."""


def builtin_templates(part: str = "") -> Path:
    """Return the built-in templates directory, or one part of it (editions, diff, publish)."""
    packaged = importlib.resources.files("brief") / "_templates"
    base = Path(str(packaged)) if packaged.is_dir() else Path(brief.__file__).resolve().parents[2] / "templates"
    return base / part if part else base


def _finalize(value: Any) -> Any:
    if value is None:
        raise EmptyValue("a value printed by the template is empty (None); guard it with {% if %}")
    return value


def strict_environment(dirs: list[Path], *, trim: bool = True) -> jinja2.Environment:
    """Return an environment that escapes every template (.j2 included) and refuses missing or empty values."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,  # select_autoescape() would leave .j2 files unescaped
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=trim,
        lstrip_blocks=trim,
        keep_trailing_newline=True,
    )
