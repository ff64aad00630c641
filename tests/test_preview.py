"""`brief preview`, at the HTTP level: the pages, the event stream, errors shown and cleared, files outside the pack
never served, a port in use, Ctrl-C, and nothing written to the pack. In a real browser: tests/test_browser.py."""
from __future__ import annotations

import http.client
import io
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from brief.cli import main
from brief.edition.checks import load_pack
from brief.edition.render import render_html
from brief.edition.tailor import tailor
from brief.preview.app import Preview
from brief.preview.server import DEFAULT_PORTS, bind
from brief.preview.session import PreviewSession
from brief.templating import builtin_templates

TREATY = Path(__file__).resolve().parent / "packs" / "treaty"
HEADLINE = "The numerical limits still stand on paper, but nobody can now check them on the ground."
SECRET = "TOP-SECRET-NOT-IN-THE-PACK"


def copy_treaty(dest: Path) -> Path:
    shutil.copytree(TREATY / "content", dest / "content")
    return dest


@pytest.fixture
def pack(tmp_path) -> Path:
    (tmp_path / "secret.txt").write_text(SECRET)  # beside the pack, where no request may reach
    return copy_treaty(tmp_path / "pack")


@pytest.fixture
def preview(pack) -> Iterator[Preview]:
    with Preview(pack, port=0, pdf=False) as running:
        yield running.serve_in_background()


def get(preview: Preview, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET path exactly as given (no normalisation of '..' or %2e by a client library)."""
    conn = http.client.HTTPConnection("127.0.0.1", preview.server.port, timeout=10)
    conn.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def state(preview: Preview) -> dict:
    return json.loads(get(preview, "/_/state.json")[2])


def wait_for(preview: Preview, condition, timeout: float = 5.0) -> dict:
    """Poll the state until condition(state) holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        current = state(preview)
        if condition(current):
            return current
        if time.monotonic() > deadline:
            pytest.fail(f"the preview did not get there within {timeout} s; state: {json.dumps(current)[:2000]}")
        time.sleep(0.05)


# ---- pages ---------------------------------------------------------------------------------

def test_the_index_lists_every_edition_with_its_title_and_links(preview):
    status, headers, body = get(preview, "/")
    html = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "<h1>The Vell Strait Launcher Limitation Treaty</h1>" in html
    for name, title in [("officials", "Brief for ministry officials"), ("press", "Backgrounder for journalists"),
                        ("think-tanks", "Research briefing for think tanks")]:
        assert f'<a href="/view/{name}">{title}</a>' in html
        assert f'<a href="/pack/build/{name}/">' in html


def test_an_edition_is_its_built_html_plus_the_reload_script_and_its_files_are_served(preview, pack):
    status, headers, body = get(preview, "/pack/build/officials/")
    assert status == 200
    content = load_pack(pack)
    built = render_html(content, tailor(content, content.audiences["officials"])).html
    served = body.decode()
    script = next(line for line in served.splitlines() if 'src="/_/live.js"' in line)
    assert served.replace(script + "\n", "") == built  # the HTML `brief build` writes, and one script tag
    nonce = script.split('nonce="')[1].split('"')[0]
    assert f"script-src 'nonce-{nonce}'" in headers["content-security-policy"]  # a pack's own <script> stays inert
    by_name = get(preview, "/pack/build/officials/vell-strait-treaty-officials.html")[2].decode()  # its file name
    assert by_name.replace(next(x for x in by_name.splitlines() if "/_/live.js" in x) + "\n", "") == built
    css = get(preview, "/pack/build/officials/brief.css")
    assert css[0] == 200 and css[1]["content-type"] == "text/css"
    assert css[2] == (builtin_templates("editions") / "brief.css").read_bytes()
    font = get(preview, "/pack/build/officials/fonts/Inter-Regular.otf")
    assert font[2] == (builtin_templates("editions") / "fonts" / "Inter-Regular.otf").read_bytes()
    assert get(preview, "/pack/build/officials")[0] == 302  # to the folder, so relative links resolve


def test_the_view_shows_the_html_beside_the_pdf_status(preview):
    status, _, body = get(preview, "/view/officials")
    html = body.decode()
    assert status == 200
    assert '<iframe id="html-frame"' in html and 'src="/pack/build/officials/"' in html
    assert "PDF off (--no-pdf)" in html
    assert get(preview, "/view/nosuch")[0] == 404


def test_the_event_stream_sends_the_state_then_each_change_after_a_save(preview, pack):
    get(preview, "/view/officials")  # an edition is re-rendered on a save once a page has asked for it
    conn = http.client.HTTPConnection("127.0.0.1", preview.server.port, timeout=10)
    conn.request("GET", "/_/events")
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"

    def next_state() -> dict:
        while not (line := response.readline().decode()).startswith("data: "):
            pass
        return json.loads(line.removeprefix("data: "))

    first = next_state()["editions"]["officials"]
    assessments = pack / "content" / "assessments.yaml"
    assessments.write_text(assessments.read_text().replace(HEADLINE, "Limits stand, unverified."))
    started = time.monotonic()
    while (after := next_state()["editions"]["officials"])["stamp"] == first["stamp"]:
        assert time.monotonic() - started < 5
    conn.close()
    assert after["rendered"] > first["rendered"]
    assert "Limits stand, unverified." in get(preview, "/pack/build/officials/")[2].decode()


# ---- errors: shown in the page, cleared by the fix --------------------------------------------------

def test_a_broken_yaml_file_shows_the_placed_error_and_the_page_recovers(preview, pack):
    get(preview, "/view/officials")
    assessments = pack / "content" / "assessments.yaml"
    good = assessments.read_text()
    assessments.write_text(good.replace("    confidence: high\n", "    confidence: high: very\n", 1))
    broken = wait_for(preview, lambda s: s["error"] is not None)
    assert broken["error"]["problems"][0]["place"] == "content/assessments.yaml:9:21"
    page = get(preview, "/pack/build/officials/")[2].decode()
    assert "content/assessments.yaml:9:21" in page
    assert "malformed YAML: mapping values are not allowed in this context" in page
    assert "    confidence: high: very" in page  # the line itself
    panel = get(preview, "/_/panel/officials")[2].decode()
    assert "The pack does not load" in panel and "content/assessments.yaml:9:21" in panel

    # Half a save (an editor writing in place): an error too, never a crash; then the fix.
    assessments.write_text(good[: len(good) // 2])
    wait_for(preview, lambda s: s["error"] is not None and s["version"] > broken["version"])
    assessments.write_text(good)
    wait_for(preview, lambda s: s["error"] is None)
    page = get(preview, "/pack/build/officials/")[2].decode()
    assert HEADLINE in page and "does not load" not in page


def test_a_template_error_is_shown_with_its_file_and_line_then_clears(preview, pack):
    get(preview, "/view/officials")
    layout = pack / "templates" / "layouts" / "dense.html.j2"
    layout.parent.mkdir(parents=True)  # templates/ did not exist when the preview started: it is watched now
    layout.write_text('{% extends "base.html.j2" %}\n{% block layout %}layout-dense{% endblok %}\n')
    broken = wait_for(preview, lambda s: s["editions"]["officials"]["error"] is not None)
    problem = broken["editions"]["officials"]["error"]["problems"][0]
    assert problem["place"] == "templates/layouts/dense.html.j2:2"
    assert "endblok" in problem["message"] and "endblok" in problem["line"]
    assert "This edition does not render" in get(preview, "/pack/build/officials/")[2].decode()
    layout.write_text('{% extends "base.html.j2" %}\n{% block layout %}layout-dense{% endblock %}\n')
    wait_for(preview, lambda s: s["editions"]["officials"]["error"] is None)


# ---- only files inside the pack ------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/pack/../secret.txt",
    "/pack/%2e%2e/secret.txt",
    "/pack/%2E%2E%2Fsecret.txt",
    "/pack/..%5csecret.txt",
    "/pack/build/officials/../../../secret.txt",
    "/pack/build/officials/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/pack/content/%2e%2e/%2e%2e/secret.txt",
    "/pack/link-out.txt",  # a symlink to the file outside
    "/pack/folder-out/secret.txt",  # through a symlinked folder
    "/pack/build/officials/fonts/../../../../secret.txt",
    "/_/../../secret.txt",
    "/_/..%2f..%2fsecret.txt",
    "/view/../pack/../secret.txt",
])
def test_a_path_outside_the_pack_is_not_found(preview, pack, path):
    (pack / "link-out.txt").symlink_to(pack.parent / "secret.txt")
    (pack / "folder-out").symlink_to(pack.parent)
    status, _, body = get(preview, path)
    assert status == 404 and SECRET.encode() not in body


@pytest.mark.parametrize("target", ["absolute", "encoded absolute", "etc"])
def test_an_absolute_path_is_not_found(preview, pack, target):
    secret = str(pack.parent / "secret.txt")
    path = {"absolute": f"/pack/{secret}", "encoded absolute": "/pack/" + quote(secret, safe=""),
            "etc": "/pack//etc/passwd"}[target]
    status, _, body = get(preview, path)
    assert status == 404 and SECRET.encode() not in body and b"root:" not in body


def test_hidden_files_and_the_real_build_folder_are_not_served_but_other_pack_files_are(preview, pack):
    (pack / ".env").write_text("BRIEF_SMTP_PASSWORD=hunter2")
    (pack / "build" / "officials").mkdir(parents=True)
    (pack / "build" / "officials" / "old.html").write_text("stale")
    assert get(preview, "/pack/.env")[0] == 404
    assert get(preview, "/pack/%2eenv")[0] == 404
    assert get(preview, "/pack/build/officials/old.html")[0] == 404
    status, _, body = get(preview, "/pack/content/pack.yaml")  # inside the pack: as the PDF printer may load it
    assert status == 200 and body == (pack / "content" / "pack.yaml").read_bytes()


def test_a_request_naming_another_host_is_refused(preview):
    # A web page whose own host name resolves to 127.0.0.1 (DNS rebinding) must not read the pack.
    status, _, body = get(preview, "/pack/content/pack.yaml", host=f"attacker.example:{preview.server.port}")
    assert status == 403 and b"title" not in body
    assert get(preview, "/", host=f"localhost:{preview.server.port}")[0] == 200


# ---- the command ---------------------------------------------------------------------------

def test_a_port_in_use_is_a_clear_error(pack):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["preview", "-C", str(pack), "--port", str(port), "--no-pdf"])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is in use (another preview?); choose another with --port" in result.output


def test_without_a_port_the_next_free_default_port_is_taken(pack):
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", DEFAULT_PORTS[0]))
            taken.listen()
        except OSError:
            pass  # already in use by something else: the point stands
        server = bind(PreviewSession(pack), None)
        try:
            assert server.port != DEFAULT_PORTS[0] and server.server_address[0] == "127.0.0.1"
        finally:
            server.server_close()


def test_an_unknown_audience_is_a_usage_error_naming_the_known_ones(pack):
    result = CliRunner().invoke(main, ["preview", "-C", str(pack), "-a", "nosuch", "-a", "oficials", "--port", "0"])
    assert result.exit_code == 2
    assert ("unknown audiences 'nosuch', 'oficials' (did you mean 'officials'?); known audiences: officials, press, "
            "think-tanks") in result.output


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 0), (signal.SIGTERM, 143)])
def test_ctrl_c_stops_the_preview_and_its_printer_cleanly(pack, sig, code):
    process = subprocess.Popen([sys.executable, "-m", "brief", "preview", "-C", str(pack), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/"))), timeout=5):
            pass
        printers = _children(process.pid)
        assert printers  # the PDF printer process
        process.send_signal(sig)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == code
    assert "Traceback" not in err, err
    if sig == signal.SIGINT:
        assert "preview stopped" in out
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in printers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in printers)


# ---- the PDF beside the HTML, and nothing written -------------------------------------------------

def _files(pack: Path) -> dict[str, bytes]:
    return {str(p.relative_to(pack)): p.read_bytes() for p in sorted(pack.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_the_pdf_is_printed_in_the_background_and_flagged_over_budget_and_nothing_is_written(tmp_path):
    pack = copy_treaty(tmp_path / "pack")
    profile = pack / "content" / "audiences" / "officials.yaml"
    profile.write_text(profile.read_text().replace("page_budget: 2", "page_budget: 1"))
    before = _files(pack)
    with Preview(pack, ["officials"], port=0, pdf=True) as running:
        running.serve_in_background()
        printed = wait_for(running, lambda s: s["editions"]["officials"]["pdf"], timeout=60)["editions"]["officials"]
        status, headers, pdf = get(running, "/_/pdf/officials.pdf")
        view = get(running, "/view/officials")[2].decode()
    assert status == 200 and headers["content-type"] == "application/pdf" and pdf.startswith(b"%PDF")
    assert printed["pages"] == len(PdfReader(io.BytesIO(pdf)).pages) == 2
    assert printed["over"] and printed["budget"] == 1
    assert "PDF: 2 pages, budget 1 <strong class=\"over\">over budget by 1</strong>" in view
    assert 'src="/_/pdf/officials.pdf?v=' in view
    assert _files(pack) == before and not (pack / "build").exists()  # preview writes nothing, build/ included
