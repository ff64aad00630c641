"""In a real browser (Debian's Chromium, driven by Playwright): the preview updates by itself, and axe-core finds
no accessibility violation in any edition, at desktop and phone widths.

Needs /usr/bin/chromium (apt-get install chromium) and node_modules/axe-core (npm ci); .ci/run installs both
and sets BRIEF_REQUIRE_BROWSER=1, which turns a missing one into a failure instead of a skip. Never run
`playwright install`: it downloads a browser of its own.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from brief.edition.checks import load_pack
from brief.edition.render import render_html
from brief.edition.tailor import tailor
from brief.preview.app import Preview

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# Headless as root in a container, on a machine without a network: no sandbox, no GPU, no calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PACKS = {"sample": REPO, "treaty": REPO / "tests" / "packs" / "treaty"}  # the shipped pack and another topic
WIDTHS = {"desktop": 1280, "phone": 390}
SOON_MS = 2500  # "within a second or two" of a save: the watcher's pause, one render, the page's reload


def _missing() -> list[str]:
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not AXE.is_file():
        missing.append(f"{AXE.relative_to(REPO)} (npm ci)")
    return missing


if _missing():
    reason = f"browser tests need {' and '.join(_missing())}; .ci/run installs them"
    if os.environ.get("BRIEF_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"BRIEF_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def copy_pack(name: str, dest: Path) -> Path:
    src = PACKS[name]
    for part in ("content", "sources", "templates"):
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part)
    return dest


@pytest.fixture
def treaty(tmp_path) -> Iterator[tuple[Preview, Path]]:
    pack = copy_pack("treaty", tmp_path / "pack")
    with Preview(pack, ["officials"], port=0, pdf=False) as preview:
        preview.serve_in_background()
        yield preview, pack


# ---- the author's loop --------------------------------------------------------------------

HEADLINE = "The numerical limits still stand on paper, but nobody can now check them on the ground."


def test_a_save_shows_in_the_open_view_without_a_reload_and_an_error_shows_then_clears(treaty, page):
    preview, pack = treaty
    page.goto(preview.url + "view/officials")
    frame = page.frame_locator("#html-frame")
    expect(frame.locator("h1")).to_have_text("The Vell Strait Launcher Limitation Treaty")
    expect(frame.locator("main")).to_contain_text(HEADLINE)
    page.evaluate("window.notReloaded = true")  # gone if the view itself were reloaded

    assessments = pack / "content" / "assessments.yaml"
    good = assessments.read_text(encoding="utf-8")
    assessments.write_text(good.replace(HEADLINE, "The limits hold on paper; nobody can check them."))
    expect(frame.locator("main")).to_contain_text("The limits hold on paper; nobody can check them.",
                                                  timeout=SOON_MS)

    # Half a save, as an editor that writes in place may leave it for a moment: placed at the end of the file.
    assessments.write_text(good[: good.index("confidence: high") + len("confidence: hi")])
    report = page.locator("#panel .report")
    expect(report).to_be_visible(timeout=SOON_MS)
    expect(report).to_contain_text("The pack does not load")
    expect(report.locator(".place").first).to_have_text("content/assessments.yaml:9:17")
    expect(report).to_contain_text("confidence: 'hi' is not one of")
    # Then a slip in the middle of a line: the place, the message, and the line itself.
    assessments.write_text(good.replace("    confidence: high\n", "    confidence: high: very\n", 1))
    expect(report.locator(".place")).to_have_text(["content/assessments.yaml:9:21"], timeout=SOON_MS)
    expect(report).to_contain_text("malformed YAML: mapping values are not allowed in this context")
    expect(report.locator("pre.source")).to_contain_text("9 |     confidence: high: very")
    expect(frame.locator("main")).to_contain_text("The limits hold on paper")  # the last good version stays

    assessments.write_text(good)
    expect(report).to_have_count(0, timeout=SOON_MS)
    expect(frame.locator("main")).to_contain_text(HEADLINE, timeout=SOON_MS)
    assert page.evaluate("window.notReloaded") is True


def test_the_edition_page_alone_reloads_itself_and_shows_a_template_error_in_place(treaty, page):
    preview, pack = treaty
    page.goto(preview.url + "pack/build/officials/")
    expect(page.locator("main")).to_contain_text(HEADLINE)
    layout = pack / "templates" / "layouts" / "dense.html.j2"
    layout.parent.mkdir(parents=True)
    layout.write_text('{% extends "base.html.j2" %}\n{% block layout %}layout-dense{% endblok %}\n')
    expect(page.locator(".report")).to_contain_text("templates/layouts/dense.html.j2:2", timeout=SOON_MS + 1000)
    expect(page.locator(".report")).to_contain_text("endblok")
    layout.write_text('{% extends "base.html.j2" %}\n{% block layout %}layout-dense{% endblock %}\n')
    expect(page.locator("main")).to_contain_text(HEADLINE, timeout=SOON_MS)


# ---- accessibility ------------------------------------------------------------------------

def _editions(pack: str) -> list[str]:
    return sorted(p.stem for p in (PACKS[pack] / "content" / "audiences").glob("*.yaml"))


@pytest.fixture(scope="module")
def written_editions(tmp_path_factory) -> dict[str, Path]:
    """Every edition's HTML, as `brief build` writes it, with its stylesheets and fonts beside it (no PDF)."""
    out = tmp_path_factory.mktemp("editions")
    found = {}
    for pack in PACKS:
        content = load_pack(PACKS[pack])
        for name in _editions(pack):
            page = render_html(content, tailor(content, content.audiences[name]))
            folder = out / pack / name
            for rel, source in page.assets.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, folder / rel)
            (folder / f"{page.slug}.html").write_text(page.html, encoding="utf-8")
            found[f"{pack}/{name}"] = folder / f"{page.slug}.html"
    return found


def axe_violations(page: Page) -> list[str]:
    """Run axe-core on the page; return each violation as 'rule: help (impact) at selectors'."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({v['impact']}) at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
            for v in result["violations"]]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("edition", [f"{pack}/{name}" for pack in PACKS for name in _editions(pack)])
def test_no_accessibility_violations_in_an_edition(browser, written_editions, edition, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(written_editions[edition].as_uri())
        page.wait_for_load_state("load")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_no_accessibility_violations_in_the_preview_pages(treaty, browser):
    preview, pack = treaty
    page = browser.new_context(bypass_csp=True).new_page()  # the preview's CSP would refuse axe's script
    for path in ("", "view/officials"):
        page.goto(preview.url + path)
        assert axe_violations(page) == [], path
    (pack / "content" / "pack.yaml").write_text("title: [\n")
    page.goto(preview.url + "view/officials")
    expect(page.locator(".report")).to_be_visible(timeout=SOON_MS)
    assert axe_violations(page) == []
