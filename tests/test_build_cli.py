"""`brief build` from the command line: files written, exit codes, refused input, page budgets."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from brief.cli import main
from helpers import FIXTURES, copy_pack, overlay

MINIMAL = FIXTURES / "minimal"


def build(pack: Path, *args: str):
    return CliRunner().invoke(main, ["build", "-C", str(pack), *args])


# ---- fast: nothing is printed to PDF -------------------------------------------

@pytest.mark.parametrize("argv", [["--help"], ["check", "-C", str(MINIMAL)], ["build", "--help"]])
def test_help_and_check_do_not_import_weasyprint(argv):
    code = ("import sys; from click.testing import CliRunner; from brief.cli import main; "
            f"r = CliRunner().invoke(main, {argv!r}); "
            "assert r.exit_code == 0, r.output; "
            "assert 'weasyprint' not in sys.modules, 'weasyprint was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_build_offers_its_options():
    # Each option's behaviour is tested where it matters (tests/test_incremental.py for the last four).
    r = CliRunner().invoke(main, ["build", "--help"])
    for option in ("--audience", "--all", "--allow-overflow", "--quiet", "--pack", "--force", "--wait", "--json"):
        assert option in r.output


def test_no_audience_is_a_usage_error(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack"))
    assert r.exit_code == 2
    assert "name an edition with --audience NAME (repeatable), or build them all with --all" in r.output


def test_unknown_audience_lists_the_known_ones(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack"), "-a", "senate")
    assert r.exit_code == 2
    assert "unknown audience 'senate'; known audiences: press, research, staff" in r.output


def test_missing_template_is_a_content_error(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack", "missing-template"), "-a", "staff")
    assert r.exit_code == 4
    assert "content/audiences/staff.yaml:3:11: template: template 'nope.html.j2' not found" in r.output


def test_template_syntax_error_names_file_and_line(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack", "syntax-error"), "-a", "staff")
    assert r.exit_code == 4
    assert "templates/layouts/dense.html.j2:4: template syntax error" in r.output


@pytest.mark.parametrize("case, url", [("outside-image", "../../../outside.png"),
                                       ("http-image", "http://127.0.0.1:9/logo.png")])
def test_loading_from_outside_the_pack_is_refused(tmp_path, case, url):
    pack = copy_pack("editions", tmp_path / "pack", case)
    r = build(pack, "-a", "staff")
    assert r.exit_code == 5
    assert f'staff: <img src="{url}"> loads a file outside the pack or from the network' in r.output
    assert not (pack / "build" / "staff").exists()


# ---- slow: these print PDFs ----------------------------------------------------

@pytest.mark.slow
def test_build_all_writes_pdf_html_and_assets_and_prints_page_counts(editions_build):
    # conftest.py's shared build: `brief build -C <fresh copy of the pack> --all`, in a process of its own.
    pack, output = editions_build.pack, editions_build.stdout + editions_build.stderr
    assert editions_build.returncode == 0, output
    for name in ("press", "research", "staff"):
        out = pack / "build" / name
        assert re.search(rf"{re.escape(str(out / f'harbour-data-accord-{name}.pdf'))}  1 page \(budget \d\)", output)
        assert (out / f"harbour-data-accord-{name}.html").is_file()
        assert (out / "print.css").is_file() and (out / "fonts" / "Inter-Regular.otf").is_file()
        assert (out / "fonts" / "LICENSE-Inter.txt").is_file()
        assert (out / f"harbour-data-accord-{name}.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.slow
def test_same_content_gives_the_same_pdf(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack")
    assert build(pack, "-a", "staff", "-q").exit_code == 0
    pdf = pack / "build" / "staff" / "harbour-data-accord-staff.pdf"
    first = pdf.read_bytes()
    assert build(pack, "--all", "-q").exit_code == 0  # in parallel this time
    assert pdf.read_bytes() == first


@pytest.mark.slow
def test_over_budget_fails_and_keeps_the_previous_files(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack")
    assert build(pack, "-a", "press", "-q").exit_code == 0
    pdf = pack / "build" / "press" / "harbour-data-accord-press.pdf"
    before = pdf.read_bytes()
    overlay("editions", "over-budget", pack)
    r = build(pack, "-a", "press")
    assert r.exit_code == 5
    assert re.search(r"press: [2-9] pages, budget 1; shorten the content or raise page_budget", r.output)
    assert pdf.read_bytes() == before


@pytest.mark.slow
def test_allow_overflow_writes_with_a_warning(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack", "over-budget")
    r = build(pack, "-a", "press", "--allow-overflow")
    assert r.exit_code == 0, r.output
    assert re.search(r"warning: press: [2-9] pages, budget 1; written anyway", r.output)
    assert (pack / "build" / "press" / "harbour-data-accord-press.pdf").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("case, message", [
    ("http-css", "staff: Failed to load image at 'http://127.0.0.1:9/bg.png'"),
    ("missing-stylesheet", "staff: Failed to load stylesheet at"),
    ("font-fallback", "staff: text fell back to fonts that are not shipped"),
])
def test_weasyprint_errors_and_font_fallback_fail_the_build(tmp_path, case, message):
    pack = copy_pack("editions", tmp_path / "pack", case)
    r = build(pack, "-a", "staff")
    assert r.exit_code == 5, r.output
    assert message in r.output
    assert not (pack / "build" / "staff").exists()


def test_fetcher_serves_assets_and_pack_files_and_refuses_the_rest(tmp_path):
    from brief.output.pdf import PackFetcher

    pack = copy_pack("editions", tmp_path / "pack")
    (pack / "content" / "logo.png").write_bytes(b"png")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (pack / "content" / "link.txt").symlink_to(outside)
    css = tmp_path / "shipped.css"
    css.write_text("p {}")
    out = pack / "build" / "staff"
    fetch = PackFetcher(out, {"brief.css": css}, pack).fetch
    assert fetch((out / "brief.css").as_uri()).read() == b"p {}"
    assert fetch((pack / "content" / "logo.png").as_uri()).read() == b"png"
    for url in ("http://127.0.0.1:9/x.png", "https://example.org/a.css", f"file://host{outside}",
                outside.as_uri(), (pack / "content" / "link.txt").as_uri(),
                (out / "..%2f..%2f..%2fsecret.txt").as_uri().replace("%252f", "%2f"), "data:text/css,p{}"):
        with pytest.raises(ValueError, match="refused"):
            fetch(url)


def test_runtime_error_in_a_pack_template_names_its_line(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack", "runtime-error"), "-a", "staff")
    assert r.exit_code == 4, r.output
    assert ("templates/layouts/dense.html.j2:3: template error: TypeError: unsupported operand type(s) for +: "
            "'int' and 'str'") in r.output
    assert not (tmp_path / "pack" / "build" / "staff").exists()


def test_wait_must_be_a_number_of_seconds(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack"), "--all", "--wait", "nan")
    assert r.exit_code == 2
    assert "give a number of seconds, e.g. --wait 60" in r.output


def test_failed_build_still_prints_its_json_summary(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack"), "-a", "senate", "--json")
    assert r.exit_code == 2
    summary = json.loads(r.stdout)
    assert summary["exit_code"] == 2 and summary["editions"] == []
    assert "unknown audience 'senate'" in summary["error"]


@pytest.mark.slow
def test_characters_no_shipped_font_has_fail_the_build(tmp_path):
    r = build(copy_pack("editions", tmp_path / "pack", "missing-glyph"), "-a", "staff")
    assert r.exit_code == 5
    assert "staff: the shipped fonts have no glyph for 邓 (U+9093), 小 (U+5C0F), 平 (U+5E73)" in r.output
