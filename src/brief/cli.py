"""Command-line adapters: parse options, call the library, print what it reports."""
from __future__ import annotations

import contextlib
import errno
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from brief import __version__
from brief.errors import InterruptedByScheduler, InterruptedByUser, Terminated, UnexpectedError

pack_option = click.option(
    "-C", "--pack", "pack", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="Pack directory (the one holding content/).",
)


def _seconds(ctx, param, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter("give a number of seconds, e.g. --wait 60")
    return value


def run_options(command):
    """Add the options every unattended command shares: --wait, --quiet, --json."""
    for option in reversed([
        click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True, callback=_seconds,
                     help="Seconds to wait for another run's lock."),
        click.option("--quiet", "-q", is_flag=True, help="Print errors only."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for machines."),
    ]):
        command = option(command)
    return command


_OUTPUT_ERRORS = (errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EBADF)  # brief's own files fail as BuildError


class BriefGroup(click.Group):
    """The command boundary: signals, broken output and surprises become exit codes, never tracebacks."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except OSError as e:  # --help or --version printing to a full or closed stdout
            if e.errno not in _OUTPUT_ERRORS:
                raise
            _flush_or_silence()
            with contextlib.suppress(OSError):
                click.echo(f"Error: cannot write the output ({e.strerror})", err=True)
            sys.exit(1)
        finally:
            _flush_or_silence()

    def invoke(self, ctx: click.Context) -> Any:
        previous = _on_sigterm()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            raise InterruptedByUser() from None
        except Terminated:
            raise InterruptedByScheduler() from None
        except OSError as e:
            if e.errno in _OUTPUT_ERRORS:  # main() drops what stdout could not take
                raise UnexpectedError(f"cannot write the output ({e.strerror}); the work itself was not "
                                      "affected: check the build or release folder") from None
            raise UnexpectedError(_report(e)) from None
        except Exception as e:  # the last resort: one line, and where to report it
            raise UnexpectedError(_report(e)) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _on_sigterm() -> Any:
    """Make SIGTERM unwind like Ctrl-C: workers ended, temporary files removed, lock released."""
    if threading.current_thread() is not threading.main_thread():
        return None  # in-process test runners; signals go to the main thread only

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)


def _report(e: BaseException) -> str:
    return (f"unexpected {type(e).__name__}: {e}. This is a bug in brief, not in your pack: please report it "
            "with the command you ran; the last good build stays")


def _flush_or_silence() -> None:
    """Flush stdout; if it cannot take the text (closed, disk full), drop it rather than fail at exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


@click.group(cls=BriefGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="brief")
def main() -> None:
    """Build tailored briefing packs from sourced content."""


@main.command()
@pack_option
def check(pack: Path) -> None:
    """Validate the pack and print a summary with warnings."""
    from brief.commands.check import run_check

    click.echo(run_check(pack))


@main.command()
@pack_option
@click.option("--audience", "-a", "audiences", multiple=True, help="Edition to build (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Build every audience's edition.")
@click.option("--allow-overflow", is_flag=True, help="Write editions over their page budget (warn only).")
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@run_options
def build(pack: Path, audiences: tuple[str, ...], all_: bool, allow_overflow: bool, force: bool,
          wait: float, quiet: bool, as_json: bool) -> None:
    """Render editions to build/<audience>/ as HTML and PDF (unchanged ones are skipped)."""
    from brief.commands.build import run_build
    from brief.output.build import BuildRequest

    request = BuildRequest(audiences, all_, allow_overflow, force, wait)
    raise SystemExit(run_build(pack, request, quiet=quiet, as_json=as_json))


@main.command()
@pack_option
@click.argument("from_id", metavar="[FROM]", required=False)
@click.argument("to_id", metavar="[TO]", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json", "html"]), default="text", show_default=True)
@click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal).")
def diff(pack: Path, from_id: str | None, to_id: str | None, fmt: str, color: bool | None) -> None:
    """Show what changed between two versions of the agreement (default: the last two)."""
    from brief.commands.diff import run_diff

    run_diff(pack, from_id, to_id, fmt, color)


@main.command()
@pack_option
@click.option("--send", is_flag=True, help="Email each audience's PDF to its distribution list.")
@click.option("--dry-run", is_flag=True, help="List what would be published or sent; change nothing.")
@click.option("--ignore-embargo", is_flag=True, help="Publish and send even before the embargo time.")
@run_options
def publish(pack: Path, send: bool, dry_run: bool, ignore_embargo: bool, wait: float, quiet: bool,
            as_json: bool) -> None:
    """Write a versioned release to build/dist/ and optionally mail it."""
    from brief.commands.publish import run_publish

    raise SystemExit(run_publish(pack, send=send, dry_run=dry_run, ignore_embargo=ignore_embargo, wait=wait,
                                 quiet=quiet, as_json=as_json))


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def new(directory: Path) -> None:
    """Start a pack in DIRECTORY (new or empty) from a small example that checks and builds."""
    from brief.commands.new import new_pack

    written = new_pack(directory)
    click.echo(f"wrote {len(written)} files in {directory}; next: brief build -C {directory} --all")


@main.command()
@pack_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the schemas (default: PACK/schema).")
def schema(pack: Path, out: Path | None) -> None:
    """Write the JSON Schema of every content file, for YAML editors to complete and check."""
    from brief.commands.new import write_schemas
    from brief.content.schema import SCHEMA_DIR

    folder = out or pack / SCHEMA_DIR
    try:
        written = write_schemas(folder)
    except OSError as e:
        raise click.ClickException(f"cannot write {folder} ({e.strerror})") from None
    click.echo(f"wrote {len(written)} schemas in {folder}")
