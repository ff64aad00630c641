"""Command-line habits: -C before the command, JSON for machines, --strict, did-you-mean, NO_COLOR, completion,
exit codes that compose, and editions reported as they are written."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief import JSON_FORMAT_VERSION
from brief.cli import main
from brief.commands import Output
from brief.commands.progress import ProgressView
from brief.output.build import BuildRequest, Progress, Written, build
from brief.output.printing import Printed
from helpers import copy_pack

REPO = Path(__file__).resolve().parents[1]
TREATY = REPO / "tests" / "packs" / "treaty"  # has one warning: two sources disagree on a figure
BRIEF = str(Path(sys.executable).parent / "brief")  # the installed command, as a shell completes it
KEYS = {"file", "line", "column", "field", "message", "severity"}


def brief(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_pack_option_before_the_command_like_git(tmp_path):
    assert brief("-C", str(TREATY), "check").exit_code == 0
    elsewhere = brief("-C", str(tmp_path), "check", "-C", str(TREATY))  # the command's own -C wins
    assert elsewhere.exit_code == 0 and "ok: content is valid" in elsewhere.output
    missing = brief("-C", str(tmp_path), "check")
    assert missing.exit_code != 0 and str(tmp_path) in missing.output


def test_check_json_has_counts_and_structured_warnings():
    result = brief("check", "-C", str(TREATY), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format_version"] == JSON_FORMAT_VERSION and doc["status"] == "valid"
    assert doc["audiences"] == ["officials", "press", "think-tanks"] and doc["counts"]["audiences"] == 3
    assert doc["counts"]["recipients"] == 4  # the sample officials in content/recipients.csv
    (warning,) = doc["warnings"]
    assert set(warning) == KEYS and warning["severity"] == "warning"
    assert warning["file"] == "content/figures.yaml" and isinstance(warning["line"], int)
    assert "conflicting figures" in warning["message"]


def test_check_json_places_each_problem(tmp_path):
    pack = copy_pack("minimal", tmp_path / "pack")
    path = pack / "content" / "pack.yaml"
    lines = path.read_text().splitlines()
    line = lines.index("edition: 1") + 1
    path.write_text(path.read_text().replace("edition: 1", "edition: many"))
    result = brief("check", "-C", str(pack), "--json")
    assert result.exit_code == 4
    doc = json.loads(result.stdout)
    assert doc["status"] == "invalid" and doc["warnings"] == []
    (problem,) = doc["problems"]
    assert set(problem) == KEYS and problem["severity"] == "error"
    assert (problem["file"], problem["line"], problem["field"]) == ("content/pack.yaml", line, "edition")


def test_strict_turns_warnings_into_exit_4_and_builds_nothing(tmp_path):
    plain = brief("check", "-C", str(TREATY))
    assert plain.exit_code == 0 and "1 warning" in plain.output
    strict = brief("check", "-C", str(TREATY), "--strict")
    assert strict.exit_code == 4
    assert "content/figures.yaml:" in strict.output and "--strict treats warnings as errors" in strict.output
    doc = json.loads(brief("check", "-C", str(TREATY), "--strict", "--json").stdout)
    assert doc["exit_code"] == 4 and doc["problems"] == [] and len(doc["warnings"]) == 1

    pack = tmp_path / "treaty"
    subprocess.run(["cp", "-r", str(TREATY), str(pack)], check=True)
    result = brief("build", "-C", str(pack), "--all", "--strict")
    assert result.exit_code == 4, result.output
    assert "content/figures.yaml:" in result.output
    assert not list(pack.glob("build/*/*.pdf")) and not list(pack.glob("build/*/*.html"))


@pytest.mark.parametrize("args", [("-a", "pres"), ("--all", "-a", "pres"), ("-a", "press", "-a", "pres")])
def test_unknown_audience_is_an_error_whatever_else_is_given(tmp_path, args):
    pack = tmp_path / "treaty"
    subprocess.run(["cp", "-r", str(TREATY), str(pack)], check=True)
    result = brief("build", "-C", str(pack), *args)
    assert result.exit_code == 2
    assert "unknown audience 'pres' (did you mean 'press'?)" in result.output
    assert "known audiences: officials, press, think-tanks" in result.output
    assert not (pack / "build").exists() or not list((pack / "build").rglob("*.pdf"))


def test_no_close_match_lists_the_known_ones(tmp_path):
    result = brief("build", "-C", str(TREATY), "-a", "zzz")
    assert result.exit_code == 2 and "did you mean" not in result.output and "'zzz'" in result.output


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run brief with stdout on a pseudo-terminal (a real tty), and return what it printed."""
    main_fd, tty = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "brief", *args], stdout=tty, stderr=subprocess.DEVNULL,
                            env={**os.environ, **env, "COLUMNS": "100"})
    os.close(tty)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(main_fd)
    return b"".join(chunks).decode()


def test_diff_is_coloured_on_a_terminal_unless_no_color(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _on_a_terminal(["diff", "-C", str(TREATY)], env)
    plain = _on_a_terminal(["diff", "-C", str(TREATY)], {**env, "NO_COLOR": "1"})
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain and len(plain) > 200
    forced = _on_a_terminal(["diff", "-C", str(TREATY), "--color"], {**env, "NO_COLOR": "1"})
    assert "\x1b[" in forced  # an explicit flag beats the environment


def test_shell_completion_offers_the_packs_audience_names():
    env = {**os.environ, "_BRIEF_COMPLETE": "bash_complete", "COMP_WORDS": f"brief build -C {TREATY} -a p",
           "COMP_CWORD": "5"}
    result = subprocess.run([BRIEF], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["plain,press"]
    env["COMP_WORDS"], env["COMP_CWORD"] = f"brief -C {TREATY} build -a ", "5"
    result = subprocess.run([BRIEF], env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["plain,officials", "plain,press", "plain,think-tanks"]


def fake_print(page):
    """Print nothing real: a worker that takes longer for the bigger edition, so the order is known."""
    import time

    time.sleep(0.4 if page.audience == "press" else 0.0)
    return Printed(b"%PDF-1.7 fake " + page.audience.encode(), 1, ())


def test_each_edition_is_reported_as_soon_as_it_is_written(tmp_path, monkeypatch):
    pack = copy_pack("editions", tmp_path / "pack")
    monkeypatch.setattr("brief.output.printing.print_one", fake_print)  # forked workers inherit the patch
    request = BuildRequest(("press", "staff"), allow_overflow=True, workers=2)
    events = [e for e in build(pack, request) if isinstance(e, (Written, Progress))]
    shown = [(type(e).__name__, getattr(e, "audience", None), getattr(e, "done", None)) for e in events]
    # staff finishes first and is written (and reported) while press is still printing
    assert shown == [("Progress", None, 0), ("Written", "staff", None), ("Progress", None, 1),
                     ("Written", "press", None), ("Progress", None, 2)]


def test_logs_get_a_progress_line_now_and_then_for_long_work(capsys):
    with ProgressView(enabled=False, log=True, out=Output()) as view:
        for done in range(0, 101):
            view.update(Progress("recipients", done, 100))
        for done in range(0, 4):
            view.update(Progress("editions", done, 3))  # short work: the per-edition lines say enough
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["recipients: 25/100", "recipients: 50/100", "recipients: 75/100", "recipients: 100/100"]


def test_an_up_to_date_build_exits_0_so_commands_compose(editions_build):
    result = brief("build", "-C", str(editions_build.pack), "--all")
    assert result.exit_code == 0 and "nothing to do" in result.output
    assert brief("build", "-C", str(editions_build.pack), "--all", "--exit-unchanged").exit_code == 3


def test_strict_stops_a_shard_too(tmp_path):
    pack = tmp_path / "treaty"
    subprocess.run(["cp", "-r", str(TREATY), str(pack)], check=True)
    result = brief("build", "-C", str(pack), "--all", "--strict", "--shard", "1/2")
    assert result.exit_code == 4, result.output
    assert "--strict treats warnings as errors" in result.output
    assert not list(pack.glob("build/**/*.pdf")) and not list(pack.glob("build/.manifest.part-*"))
