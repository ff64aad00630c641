"""What an edition depends on besides its files: the code that makes it, WeasyPrint, the PDF variant, the fonts."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

import brief
from brief.templating import builtin_templates

PDF_VARIANT = "pdf/ua-1"  # never pdf/x-*: those embed a random id and break byte-identical builds

# The code whose changes can change an edition; publishing, mail and the CLI cannot.
OUTPUT_CODE = ("__init__.py", "templating.py", "errors.py", "content", "compare", "edition", "output")


@lru_cache(maxsize=1)
def build_settings() -> dict[str, str]:
    """Return what an edition depends on besides its files: brief's own code, WeasyPrint's version, the variant."""
    return {"brief_code": code_hash(), "weasyprint": _weasyprint_version(), "pdf_variant": PDF_VARIANT,
            "word": _word_tools()}


def code_hash() -> str:
    """Return a sha256 over the source of every module that affects output, subpackages included."""
    package = Path(brief.__file__).parent
    code = hashlib.sha256()
    for part in OUTPUT_CODE:
        found = [package / part] if part.endswith(".py") else sorted((package / part).rglob("*.py"))
        for path in found:
            code.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return code.hexdigest()


def _weasyprint_version() -> str:
    # Read from its __init__ without importing it (the import is what a no-op run avoids).
    spec = importlib.util.find_spec("weasyprint")
    text = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    found = re.search(r"""^VERSION = __version__ = ['"]([^'"]+)""", text, re.M)
    return found.group(1) if found else "unknown"


def _word_tools() -> str:
    """Name the versions of what writes Word editions (pandoc's wheel, resvg's), read without importing them."""
    found = []
    for module, dist in (("pypandoc", "pypandoc_binary"), ("resvg_py", "resvg_py")):
        spec = importlib.util.find_spec(module)
        where = Path(spec.origin).parent.parent if spec and spec.origin else None
        info = sorted(where.glob(f"{dist}-*.dist-info")) if where else []
        found.append(info[-1].name.removesuffix(".dist-info") if info else f"{dist} missing")
    return "; ".join(found)


def isolate_fonts() -> None:
    """Let fontconfig see only the shipped fonts, so no system font can stand in on any machine.

    Call before WeasyPrint is imported: fontconfig reads FONTCONFIG_FILE once, when it starts.
    """
    fonts = builtin_templates("editions") / "fonts"
    config = ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
              f"  <dir>{_xml(str(fonts))}</dir>\n</fontconfig>\n")
    digest = hashlib.sha256(config.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"brief-fonts-{os.getuid()}-{digest}.conf"
    if not path.is_file() or path.read_text(encoding="utf-8") != config:
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(config, encoding="utf-8")
        os.replace(tmp, path)
    os.environ["FONTCONFIG_FILE"] = str(path)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
