"""`brief build --merge` for the command line: join the shards' manifest parts and say what was joined."""
from __future__ import annotations

import json
from pathlib import Path

from brief.commands import Output
from brief.errors import BUILT
from brief.output.sharding import merge


def run_merge(pack: Path, wait: float = 0, quiet: bool = False, as_json: bool = False) -> int:
    """Merge the parts in PACK/build/, print a line (or JSON), and return the exit code."""
    merged = merge(pack, wait=wait)
    out = Output()
    if as_json:
        out.echo(json.dumps({"exit_code": BUILT, "status": "merged", "parts": merged.parts,
                             "editions": list(merged.editions), "recipients": merged.recipients,
                             "manifest": "build/" + merged.manifest.name}, indent=2))
    elif not quiet:
        out.echo(f"merged {merged.parts} parts: {len(merged.editions)} edition{'s' * (len(merged.editions) != 1)}, "
                 f"{merged.recipients} personalised PDF{'s' * (merged.recipients != 1)}; wrote build/"
                 f"{merged.manifest.name}")
    out.check()
    return BUILT
