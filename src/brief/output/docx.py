"""Word editions: the edition's HTML converted by pandoc, with the pack's document properties.

Pandoc (the binary inside the pypandoc-binary wheel, so every machine runs the same one)
reads the HTML prepared by ``brief.output.wordhtml`` from standard input in its sandbox, so
it opens no file but the reference document that holds our Word styles. Its .docx is then
given the pack's properties (title, subject, author, organisation, keywords, language,
dates from the pack's as-of date, the edition as revision) and the pack's paper size, and
is zipped again with fixed timestamps: the same content gives the same bytes.
"""
from __future__ import annotations

import importlib.util
import io
import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from brief.errors import BuildError

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.edition.render import Page

REFERENCE = "reference.docx"  # in the edition templates; a pack's templates/reference.docx overrides it
MAX_REFERENCE = 20 << 20  # bytes: a Word style template is tens of kilobytes
TIMEOUT = 120  # seconds for pandoc on one edition
PAPER = {"Letter": (12240, 15840), "A4": (11906, 16838)}  # twentieths of a point, portrait


@dataclass(frozen=True)
class Properties:
    """What Word shows under File > Info, and the paper, all from the pack."""

    title: str
    subject: str
    author: str
    organisation: str
    keywords: str
    language: str
    day: date
    revision: int
    paper: str

    @classmethod
    def of(cls, content: Content, audience: str) -> Properties:
        pack, profile = content.pack, content.audiences[audience]
        return cls(title=f"{pack.title}: {profile.title}", subject=pack.topic,
                   author=pack.author or pack.organisation, organisation=pack.organisation,
                   keywords=", ".join(pack.keywords), language=pack.language, day=pack.as_of,
                   revision=pack.edition, paper=pack.page_size)


def make_docx(page: Page, props: Properties, reference: Path) -> bytes:
    """Convert a rendered edition to .docx bytes; raise BuildError naming the edition if it cannot."""
    from brief.output.wordhtml import word_html

    return finish(run_pandoc(word_html(page), reference, page.audience), props)


def pandoc_binary() -> Path:
    """Return the pandoc that the pypandoc-binary wheel ships (never whichever pandoc is on PATH)."""
    spec = importlib.util.find_spec("pypandoc")
    binary = Path(spec.origin).parent / "files" / "pandoc" if spec and spec.origin else None
    if binary is None or not os.access(binary, os.X_OK):
        raise BuildError("cannot write Word editions: pandoc is missing; install brief with its dependencies "
                         "(pip install -c constraints.txt -e .), which include pypandoc-binary")
    return binary


def run_pandoc(html: str, reference: Path, audience: str) -> bytes:
    """Run pandoc from HTML to .docx in its sandbox: it reads standard input and the reference document only."""
    _check_reference(reference)
    command = [str(pandoc_binary()), "--from=html", "--to=docx", "--sandbox", f"--reference-doc={reference}",
               "--output=-"]
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/")}
    try:
        done = subprocess.run(command, input=html.encode("utf-8"), capture_output=True, env=env, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{audience}: pandoc took over {TIMEOUT} s to write the Word edition; "
                         "nothing written for it") from None
    if done.returncode != 0 or not done.stdout.startswith(b"PK"):
        why = " ".join(done.stderr.decode("utf-8", "replace").split())[:500] or f"exit status {done.returncode}"
        raise BuildError(f"{audience}: pandoc could not write the Word edition ({why}); check {_shown(reference)} "
                         "is a Word document; nothing written for it")
    return done.stdout


def _check_reference(reference: Path) -> None:
    try:
        size = reference.stat().st_size
    except OSError as e:
        raise BuildError(f"cannot read the Word style template {_shown(reference)} ({e.strerror})") from None
    if size > MAX_REFERENCE or not zipfile.is_zipfile(reference):
        raise BuildError(f"{_shown(reference)} is not a usable Word style template (a .docx of at most "
                         f"{MAX_REFERENCE >> 20} MB); save one from Word as .docx, or remove it for the built-in one")


def _shown(reference: Path) -> str:
    from brief.templating import builtin_templates

    builtin = reference.resolve().is_relative_to(builtin_templates("editions").resolve())
    return f"the built-in {REFERENCE}" if builtin else f"templates/{REFERENCE}"


# ---- properties, paper and a reproducible zip ---------------------------------

def finish(docx: bytes, props: Properties) -> bytes:
    """Set the document's properties and paper, and zip it again with fixed timestamps."""
    stamp = (props.day.year, props.day.month, props.day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        for name in names:
            data = source.read(name)
            if name == "docProps/core.xml":
                data = core_xml(props)
            elif name == "docProps/app.xml":
                data = _with_company(data, props.organisation)
            elif name == "word/document.xml":
                data = _full_width_tables(_with_paper(data, props.paper))
            target.writestr(_entry(name, stamp), data)
        if "docProps/core.xml" not in names:  # pandoc always writes one; a reference could not remove it
            raise BuildError("pandoc wrote no document properties (docProps/core.xml)")
    return out.getvalue()


def _entry(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever machine builds it
    info.external_attr = 0o644 << 16
    return info


def core_xml(props: Properties) -> bytes:
    """Return docProps/core.xml: title, subject, author, keywords, language, revision and fixed dates."""
    moment = f"{props.day.isoformat()}T00:00:00Z"
    fields = [("dc:title", props.title), ("dc:subject", props.subject), ("dc:creator", props.author),
              ("cp:keywords", props.keywords), ("cp:lastModifiedBy", props.organisation),
              ("cp:revision", str(props.revision)), ("dc:language", props.language)]
    body = "".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in fields if value)
    dates = "".join(f'<dcterms:{d} xsi:type="dcterms:W3CDTF">{moment}</dcterms:{d}>' for d in ("created", "modified"))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"{body}{dates}</cp:coreProperties>").encode()


def _with_company(app: bytes, organisation: str) -> bytes:
    text = re.sub(r"<Company>.*?</Company>", "", app.decode("utf-8"), flags=re.S)
    return text.replace("</Properties>", f"<Company>{escape(organisation)}</Company></Properties>").encode("utf-8")


def _with_paper(document: bytes, paper: str) -> bytes:
    """Give the last section the pack's paper size (the reference document's margins stay)."""
    width, height = PAPER[paper]
    size = f'<w:pgSz w:w="{width}" w:h="{height}" />'
    text = document.decode("utf-8")
    at = text.rfind("<w:sectPr")
    if at < 0:
        return document
    head, section = text[:at], text[at:]
    if "<w:pgSz" in section:
        section = re.sub(r"<w:pgSz\b[^>]*/>", size, section, count=1)
    else:  # after the elements the schema puts first in a section, before the margins and the rest
        before = list(re.finditer(r"<w:(?:headerReference|footerReference)\b[^>]*/>|</w:(?:footnotePr|endnotePr)>|"
                                  r"<w:(?:footnotePr|endnotePr|type)\b[^>]*/>|<w:sectPr\b[^>]*>", section))
        cut = before[-1].end()
        section = section[:cut] + size + section[cut:]
    return (head + section).encode("utf-8")


_TABLE = re.compile(r'<w:tbl>(<w:tblPr><w:tblStyle w:val="Table" />)<w:tblW w:type="auto" w:w="0" />(.*?</w:tblGrid>)',
                    re.S)


def _full_width_tables(document: bytes) -> bytes:
    """Spread data tables over the text width (pandoc leaves them as narrow as their columns' default)."""
    text = document.decode("utf-8")
    section = text[text.rfind("<w:sectPr"):]
    page = re.search(r'<w:pgSz w:w="(\d+)"', section)
    if page is None:
        return document
    width = int(page.group(1)) - sum(_margins(section))

    def spread(m: re.Match[str]) -> str:
        cols = [int(c) for c in re.findall(r'<w:gridCol w:w="(\d+)"', m.group(2))]
        scaled = iter(round(c * width / sum(cols)) for c in cols) if cols and sum(cols) else iter(())
        grid = re.sub(r'<w:gridCol w:w="\d+"', lambda _: f'<w:gridCol w:w="{next(scaled)}"', m.group(2))
        return f'<w:tbl>{m.group(1)}<w:tblW w:type="pct" w:w="5000" />{grid}'

    return _TABLE.sub(spread, text).encode("utf-8")


def _margins(section: str) -> list[int]:
    found = re.search(r"<w:pgMar\b[^>]*>", section)
    sides = dict(re.findall(r'w:(left|right)="(\d+)"', found.group(0))) if found else {}
    return [int(sides.get("left", 1440)), int(sides.get("right", 1440))]


def reference_of(templates: dict[str, Path]) -> Path:
    """Return the Word style template an edition uses (the pack's own first), from the template lookup."""
    found = templates.get(REFERENCE)
    if found is None:
        raise BuildError(f"no Word style template: templates/{REFERENCE} is missing from the built-in templates; "
                         "reinstall brief")
    return found


def write_docx(page: Page, content: Content) -> bytes:
    """Return the Word edition of a rendered page, with the pack's properties and style template."""
    from brief.edition.render import template_files

    return make_docx(page, Properties.of(content, page.audience), reference_of(template_files(content.root)))
