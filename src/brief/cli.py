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

_PACK = "brief.pack"  # where `brief -C PACK <command>` leaves the pack for the subcommand


def _pack(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    # `brief -C PACK build` (the git habit) and `brief build -C PACK` both work; the subcommand's wins.
    return value if value is not None else ctx.meta.get(_PACK) or Path(".")


pack_option = click.option(
    "-C", "--pack", "pack", type=click.Path(file_okay=False, path_type=Path), default=None, callback=_pack,
    help="Pack directory (the one holding content/; default: .). Also accepted before the command.",
)


def _complete_audiences(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Complete audience names from the pack's profile files (no parsing: completion must be instant)."""
    from click.shell_completion import CompletionItem

    # The group's callback has not run while completing: read -C from the contexts themselves.
    given = ctx.get_parameter_source("pack") not in (None, click.core.ParameterSource.DEFAULT)
    pack = ctx.params.get("pack") if given else (ctx.parent.params.get("pack") if ctx.parent else None)
    names = sorted(p.stem for p in (Path(pack or ".") / "content" / "audiences").glob("*.yaml"))
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


audience_option = click.option(
    "--audience", "-a", "audiences", multiple=True, shell_complete=_complete_audiences,
    help="Edition to build (repeatable).",
)
strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 4).")


def _formats(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from brief.output.formats import parse_formats

    try:
        return parse_formats(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


format_option = click.option(
    "--format", "formats", multiple=True, metavar="html|pdf|docx", callback=_formats,
    shell_complete=lambda ctx, param, incomplete: [f for f in ("html", "pdf", "docx") if f.startswith(incomplete)],
    help="Files to write, repeatable or comma-separated (default: html,pdf); docx is a Word edition.",
)


def _seconds(ctx, param, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter("give a number of seconds, e.g. --wait 60")
    return value


def _rate(ctx, param, value: str | None) -> Any:
    if value is None:
        return None
    from brief.publish.rate import parse_rate

    try:
        return parse_rate(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _shard(ctx, param, value: str | None) -> Any:
    if value is None:
        return None
    from brief.output.shard import parse_shard

    try:
        return parse_shard(value)
    except click.ClickException as e:  # UsageError: say it as the other bad options are said
        raise click.BadParameter(e.message.removeprefix(f"--shard {value!r}: ")) from None


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
@click.option("-C", "pack", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="PACK",
              help="Run as if started in PACK (like git -C); a command's own -C wins.")
@click.pass_context
def main(ctx: click.Context, pack: Path | None) -> None:
    """Build tailored briefing packs from sourced content.

    Shell completion (audience names included): add
    eval "$(_BRIEF_COMPLETE=bash_source brief)" to ~/.bashrc (zsh_source, fish_source for other shells).
    """
    ctx.meta[_PACK] = pack


@main.command()
@pack_option
@strict_option
@click.option("--json", "as_json", is_flag=True, help="Print problems and warnings as JSON for machines.")
def check(pack: Path, strict: bool, as_json: bool) -> None:
    """Validate the pack and print a summary with warnings."""
    from brief.commands.check import run_check

    raise SystemExit(run_check(pack, strict=strict, as_json=as_json))


@main.command()
@pack_option
@audience_option
@click.option("--all", "all_", is_flag=True, help="Build every audience's edition.")
@click.option("--allow-overflow", is_flag=True, help="Write editions over their page budget (warn only).")
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@strict_option
@click.option("--exit-unchanged", is_flag=True,
              help="Exit 3 (not 0) when every edition was already up to date, for scripts that act on change.")
@format_option
@click.option("--archival", is_flag=True,
              help="Also write a PDF/A-3 copy of each PDF edition, content files attached (NAME_archival.pdf).")
@click.option("--shard", metavar="I/N", callback=_shard,
              help="Build only slice I of N of the work (editions and personalised PDFs), one per machine.")
@click.option("--merge", is_flag=True, help="Join the shards' manifest parts in build/ into build/manifest.json.")
@run_options
def build(pack: Path, audiences: tuple[str, ...], all_: bool, allow_overflow: bool, force: bool, strict: bool,
          exit_unchanged: bool, formats: tuple[str, ...], archival: bool, shard: Any, merge: bool, wait: float,
          quiet: bool, as_json: bool) -> None:
    """Render editions to build/<audience>/ as HTML and PDF, or Word (unchanged ones are skipped)."""
    from brief.commands.build import run_build
    from brief.output.build import BuildRequest

    if merge:
        from brief.commands.merge import run_merge

        if audiences or all_ or shard:
            raise click.UsageError("--merge joins the parts the shards wrote: give it no --audience, --all or --shard")
        raise SystemExit(run_merge(pack, wait=wait, quiet=quiet, as_json=as_json))
    request = BuildRequest(audiences, all_, allow_overflow, force, wait, strict=strict, formats=formats,
                           archival=archival, shard=shard)
    raise SystemExit(run_build(pack, request, quiet=quiet, as_json=as_json, exit_unchanged=exit_unchanged))


@main.command()
@pack_option
@click.argument("from_id", metavar="[FROM]", required=False)
@click.argument("to_id", metavar="[TO]", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json", "html"]), default="text", show_default=True)
@click.option("--color/--no-color", default=None,
              help="Colour the text output (default: on a terminal, unless NO_COLOR is set).")
def diff(pack: Path, from_id: str | None, to_id: str | None, fmt: str, color: bool | None) -> None:
    """Show what changed between two versions of the agreement (default: the last two)."""
    from brief.commands.diff import run_diff

    run_diff(pack, from_id, to_id, fmt, color)


@main.command()
@pack_option
@click.option("--since", metavar="EDITION|RELEASE", default=None,
              help="A release (2025-03-01-e1) or an edition number (1, e1); default: the newest release.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True)
def changes(pack: Path, since: str | None, fmt: str) -> None:
    """Show what changed in the content since a release, item by item."""
    from brief.commands.changes import run_changes

    run_changes(pack, since, fmt)


@main.command()
@pack_option
@click.option("--send", is_flag=True,
              help="Email each audience's PDF to its distribution list, and each recipient their own PDF.")
@click.option("--dry-run", is_flag=True, help="List what would be published or sent; change nothing.")
@click.option("--ignore-embargo", is_flag=True, help="Publish and send even before the embargo time.")
@click.option("--sign", is_flag=True, help="Sign each PDF of a new release (PAdES; the key from BRIEF_SIGN_KEY).")
@click.option("--rate", metavar="N/min", callback=_rate,
              help="With --send: at most N messages a minute (or N/s, N/h), evenly spaced.")
@click.option("--shard", metavar="I/N", callback=_shard,
              help="With --send: send only slice I of N of the messages (one slice per machine).")
@click.option("--exit-unchanged", is_flag=True,
              help="Exit 3 (not 0) when nothing was published or sent (unchanged, or held by the embargo).")
@run_options
def publish(pack: Path, send: bool, dry_run: bool, ignore_embargo: bool, sign: bool, rate: Any, shard: Any,
            exit_unchanged: bool, wait: float, quiet: bool, as_json: bool) -> None:
    """Write a versioned release to build/dist/ and optionally mail it."""
    from brief.commands.publish import run_publish

    if (rate or shard) and not send:
        raise click.UsageError("--rate and --shard apply to sending: add --send")
    email = {k: v for k, v in (("rate", rate), ("shard", shard)) if v is not None}
    raise SystemExit(run_publish(pack, send=send, dry_run=dry_run, ignore_embargo=ignore_embargo, sign=sign, wait=wait,
                                 quiet=quiet, as_json=as_json, exit_unchanged=exit_unchanged,
                                 publisher_options={"email": email}))


@main.command()
@click.argument("files", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, metavar="CERT.pem",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CA certificate (PEM or DER) to check the signer against (repeatable).")
def verify(files: tuple[Path, ...], trust: tuple[Path, ...]) -> None:
    """Check signed PDFs: intact or altered, who signed them and when, and whether the signer is trusted."""
    from brief.commands.verify import run_verify

    raise SystemExit(run_verify(files, trust))


@main.command()
@pack_option
@click.option("--audience", "-a", "audiences", multiple=True, shell_complete=_complete_audiences,
              help="Edition to preview (repeatable; default: each one as you open it).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port on 127.0.0.1 (default: 8765 or the next free one; 0: any free port).")
@click.option("--no-pdf", is_flag=True, help="Show the HTML only; print no PDFs in the background.")
def preview(pack: Path, audiences: tuple[str, ...], port: int | None, no_pdf: bool) -> None:
    """Serve the editions on 127.0.0.1 and update the browser on every save of the content or templates."""
    from brief.commands.preview import run_preview

    raise SystemExit(run_preview(pack, audiences, port=port, pdf=not no_pdf))


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
