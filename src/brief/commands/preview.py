"""`brief preview` for the command line: print where to look, serve until Ctrl-C."""
from __future__ import annotations

from pathlib import Path

import click


def run_preview(pack: Path, audiences: tuple[str, ...], port: int | None, pdf: bool) -> int:
    """Serve the pack's editions until Ctrl-C; return the exit code (0: stopped by the user)."""
    from brief.preview.app import Preview

    try:
        with Preview(pack, audiences, port=port, pdf=pdf) as preview:
            click.echo(f"brief preview: {preview.url}")
            for name in preview.session.editions:
                click.echo(f"  {name:<16} {preview.url}view/{name}")
            root = preview.session.root
            folders = [p.relative_to(root).as_posix() + "/" for p in preview.watcher.folders if p.is_relative_to(root)]
            shown = ", ".join(f for f in folders if not any(f != o and f.startswith(o) for o in folders))
            click.echo(f"watching {shown} and the built-in templates; each save re-renders the editions open in a "
                       "browser. Ctrl-C stops.")
            preview.serve_forever()
    except KeyboardInterrupt:  # the way to end a server: not an error (the with-block has stopped everything)
        click.echo("preview stopped")
    return 0
