"""Nothing silently lost: an edition whose PDF lacks a heading or table row its HTML has is refused."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import weasyprint
from click.testing import CliRunner

from brief.cli import main
from brief.output.completeness import expected_text, missing_text
from helpers import copy_pack

TESTS = Path(__file__).parent


def build(pack: Path, *args: str):
    return CliRunner().invoke(main, ["build", "-C", str(pack), *args])


def test_expected_text_skips_what_a_reader_does_not_see_on_paper():
    html = ('<html><head><title>T</title></head><body><h2>Seen</h2><h2 class="vh">Hidden</h2>'
            '<table><tr><th>Area</th><td>x</td></tr><tr><td>Scope <span class="vh">[deleted]</span></td>'
            '<td>y</td></tr></table><svg><text>axis</text></svg></body></html>')
    assert expected_text(html) == [("heading", "Seen"), ("table row", "Area"), ("table row", "Scope")]


def test_missing_text_names_what_the_laid_out_pages_lack():
    html = "<h2>Kept</h2><table>" + "".join(f"<tr><td>row {i} here</td></tr>" for i in range(3)) + "</table>"
    printed = weasyprint.HTML(string=html.replace("<tr><td>row 2 here</td></tr>", "")).render()
    assert missing_text(expected_text(html), printed) == ("table row 'row 2 here'",)
    assert missing_text(expected_text(html), weasyprint.HTML(string=html).render()) == ()


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
