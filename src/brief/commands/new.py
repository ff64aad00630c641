"""`brief new DIR`: start a pack from a small, neutral example that checks and builds at once."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from brief.content.schema import SCHEMA_DIR, file_models, schema_name, schemas
from brief.errors import UsageError
from brief.templating import builtin_templates


def new_pack(target: Path) -> list[Path]:
    """Write the starter pack into target (new or empty), all or nothing; return the files written."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} is not an empty directory; brief new writes only into a new or empty one, "
                         "so nothing of yours is overwritten")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"{parent} does not exist; create it first, or choose another place")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as e:
        raise UsageError(f"cannot write in {parent} ({e.strerror}); choose a directory you can write to") from None
    try:
        written = _write(staging)
        os.replace(staging, target)  # an empty target directory is replaced in one step
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise UsageError(f"cannot write {target} ({e.strerror}); nothing was written") from None
    return [target / p.relative_to(staging) for p in written]


def _write(root: Path) -> list[Path]:
    """Copy the starter content, each file headed by its schema for YAML editors, then the schemas."""
    written = write_schemas(root / SCHEMA_DIR)
    starter = builtin_templates("new")
    patterns = {f"content/{name}": schema_name(name) for name in file_models()}
    for source in sorted(starter.rglob("*.yaml")):
        rel = source.relative_to(starter)
        key = "content/audiences/NAME.yaml" if rel.parent.name == "audiences" else rel.as_posix()
        schema = patterns.get(key)
        depth = "../" * (len(rel.parts) - 1)
        head = f"# yaml-language-server: $schema={depth}{SCHEMA_DIR}/{schema}\n" if schema else ""
        out = root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(head + source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(out)
    return written


def write_schemas(folder: Path) -> list[Path]:
    """Write the JSON Schema of every content file into folder; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = folder / name
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
