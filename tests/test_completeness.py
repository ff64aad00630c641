"""Nothing silently lost: an edition whose PDF lacks a heading or table row its HTML has is refused."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import weasyprint
from click.testing import CliRunner

from brief.cli import main
from brief.output.completeness import missing_elements
from helpers import copy_pack

TESTS = Path(__file__).parent


def build(pack: Path, *args: str):
    return CliRunner().invoke(main, ["build", "-C", str(pack), *args])


def _missing(html: str, printed: str | None = None) -> tuple[str, ...]:
    source = weasyprint.HTML(string=html)
    if printed is None:
        return missing_elements(source, source.render())
    return missing_elements(source, weasyprint.HTML(string=printed).render())


def test_every_heading_and_row_laid_out_is_found():
    html = "<h2>Kept</h2><table>" + "".join(f"<tr><td>row {i}</td></tr>" for i in range(3)) + "</table>"
    assert _missing(html) == ()


def test_a_row_or_heading_the_print_stylesheet_hides_is_named():
    html = ("<style>@media print { .gone { display: none } }</style><h2>Kept</h2><h3 class=gone>Lost</h3>"
            "<table><tr><th>Data</th></tr><tr class=gone><td>Data</td></tr></table><p>Data</p>")
    assert _missing(html) == ("heading 'Lost'", "table row 'Data'")


def test_screen_reader_text_and_graphics_are_not_expected_on_paper():
    html = ('<style>.vh { display: none }</style><h2 class="vh">Hidden caption</h2>'
            "<svg><text>axis</text></svg><h2>Seen</h2>")
    assert _missing(html) == ()


@pytest.mark.slow
def test_a_stylesheet_that_hides_table_rows_fails_the_edition(tmp_path):
    pack = copy_pack("editions", tmp_path / "pack", "lost-rows")
    r = build(pack, "-a", "research")
    assert r.exit_code == 5, r.output
    assert "research: the PDF lacks what the HTML has: " in r.output and "table row 'Data'" in r.output
    assert "nothing written for it" in r.output
    assert not list((pack / "build").glob("research/*.pdf"))


@pytest.mark.slow
def test_a_table_spanning_columns_across_a_page_break_is_refused_not_written(tmp_path):
    pack = tmp_path / "treaty"
    shutil.copytree(TESTS / "packs" / "treaty", pack, ignore=shutil.ignore_patterns("build", "expected"))
    shutil.copytree(TESTS / "fixtures" / "spanning-table" / "templates", pack / "templates", dirs_exist_ok=True)
    r = build(pack, "-a", "think-tanks")
    assert r.exit_code == 5, r.output
    assert "think-tanks:" in r.output and "Traceback" not in r.output
    assert not list((pack / "build").glob("think-tanks/*.pdf"))
    shutil.rmtree(pack / "templates")  # the shipped layout: wide sections between column runs
    r = build(pack, "-a", "think-tanks")
    assert r.exit_code == 0, r.output
