"""Render tailored editions to HTML with Jinja, and check the HTML before it is printed."""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import jinja2

from brief.errors import BuildError, ContentError, Problem
from brief.templating import EmptyValue, OutsideTemplates, builtin_templates, contained, strict_environment

if TYPE_CHECKING:  # kept light: PDF workers import this module for its path checks
    from brief.content.load import Content
    from brief.edition.views import Edition


@dataclass(frozen=True)
class Page:
    """An edition rendered to HTML, with where it will live and the files it links to."""

    audience: str
    slug: str
    html: str
    out_dir: Path  # build/<audience>/: relative links in the HTML resolve against it
    assets: dict[str, Path]  # link path relative to out_dir -> the file to copy there
    root: Path  # the pack directory: other files may load only from inside it


def template_dirs(root: Path) -> list[Path]:
    """Return where edition templates are looked up, first match wins: the pack's, then the built-in ones."""
    return [Path(root) / "templates", builtin_templates("editions")]


DEFAULT_LAYOUT = "single"


def layout_file(name: str | None) -> str:
    """Return the template file a profile's `template:` names: a layout ('dense'), or a file ('mine.html.j2')."""
    if not name:
        return f"layouts/{DEFAULT_LAYOUT}.html.j2"
    return name if name.endswith(".j2") else f"layouts/{name}.html.j2"


def layouts(root: Path, kind: str = "layouts") -> dict[str, list[str]]:
    """Return the layout (or, with kind="covers", cover) names on offer: {"built-in": [...], "pack": [...]}."""
    found: dict[str, list[str]] = {"built-in": [], "pack": []}
    for where, base in zip(("pack", "built-in"), template_dirs(root), strict=True):
        folder = base / kind
        if folder.is_dir():
            found[where] = sorted(p.name.removesuffix(".html.j2") for p in folder.glob("*.html.j2"))
    return found


def environment(content: Content) -> jinja2.Environment:
    """Return the editions' Jinja environment: the pack's templates first, then the built-in ones."""
    from brief.edition.filters import filters  # babel: only when editions are rendered

    env = strict_environment(template_dirs(content.root))
    env.filters.update(filters(content))
    return env


def template_files(root: Path) -> dict[str, Path]:
    """Return every file an edition's templates may use by relative name, the pack's overriding built-in ones."""
    found: dict[str, Path] = {}
    outside: list[Problem] = []
    for base in reversed(template_dirs(root)):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base)
            if any(p.startswith(".") for p in rel.parts) or not (path.is_file() or path.is_symlink()):
                continue
            if contained(path, [base]) is None:  # a symlink out of the pack, or to something not a file
                outside.append(Problem(f"templates/{rel.as_posix()}", None, None, "",
                                       "leads outside the pack's templates/ (a symlink?); brief reads and copies "
                                       "only regular files inside the pack: copy the file in instead"))
            else:
                found[rel.as_posix()] = path
    if outside:
        raise ContentError(outside, summary=f"{len(outside)} template file{'s' if len(outside) != 1 else ''} "
                                            "refused; nothing was built")
    return found


NOT_LINKED = frozenset({"reference.docx"})  # template files no edition links to: the Word styles pandoc reads


def assets(root: Path) -> dict[str, Path]:
    """Return the stylesheets, fonts and licences an edition links to (its template files less the templates)."""
    return {rel: path for rel, path in template_files(root).items()
            if not rel.endswith(".j2") and rel not in NOT_LINKED}


def render_html(content: Content, edition: Edition, env: jinja2.Environment | None = None) -> Page:
    """Render one edition to HTML and check it; raise ContentError or BuildError naming the edition."""
    env = env or environment(content)
    name = edition.audience.name
    profile = f"content/audiences/{name}.yaml"
    try:
        template = env.get_template(layout_file(edition.audience.template))
        html = template.render(edition=edition, pack=edition.pack, audience=edition.audience,
                               sections=edition.sections)
    except jinja2.TemplateSyntaxError as e:
        raise ContentError([_template_problem(content.root, e.filename or e.name, e.lineno,
                                              f"template syntax error: {e.message}")]) from None
    except OutsideTemplates as e:
        raise ContentError([_runtime_problem(content.root, e, f"includes {e.name}")]) from None
    except jinja2.TemplateNotFound as e:
        missing = e.name if isinstance(e.name, str) else ", ".join(map(str, e.name or ()))
        if missing == layout_file(edition.audience.template):
            problem = Problem(profile, _line_of(content.files.get(profile), "template:"), None, "template",
                              f"template '{missing}' not found in {content.root / 'templates'} "
                              f"or the built-in templates ({builtin_templates('editions')})")
        else:
            problem = _runtime_problem(content.root, e, f"includes template '{missing}', which does not exist")
        raise ContentError([problem]) from None
    except (jinja2.TemplateError, EmptyValue) as e:
        raise ContentError([_runtime_problem(content.root, e, f"{e}")]) from None
    except UnicodeDecodeError as e:
        raise ContentError([Problem(_display(content.root, getattr(e, "filename", None)), None, None, "",
                                    "template is not valid UTF-8; save it as UTF-8")]) from None
    except Exception as e:  # a pack's own template can do anything: say where, never a traceback
        raise ContentError([_runtime_problem(content.root, e, f"template error: {type(e).__name__}: {e}")]) from None
    out_dir = Path(content.root).resolve() / "build" / name
    files = assets(content.root)
    check_html(html, name, out_dir, files, Path(content.root))
    return Page(name, edition.slug, html, out_dir, files, Path(content.root).resolve())


def _line_of(path: Path | None, prefix: str) -> int | None:
    if path is None:
        return None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith(prefix):
            return n
    return None


def _display(root: Path, filename: str | None) -> str:
    if not filename:
        return "<template>"
    path = Path(filename)
    for base, label in ((Path(root), ""), (builtin_templates("editions"), "built-in templates/")):
        try:
            return label + path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return filename


def _template_problem(root: Path, filename: str | None, line: int | None, message: str) -> Problem:
    snippet = None
    if filename and line and os.path.isfile(filename):
        lines = Path(filename).read_text(encoding="utf-8").splitlines()
        snippet = lines[line - 1] if 0 < line <= len(lines) else None
    return Problem(_display(root, filename), line, None, "", message, snippet)


def problem_in_template(root: Path, error: BaseException, message: str, filename: str | None = None,
                        line: int | None = None) -> Problem:
    """Return a Problem at the template file and line where error arose (given, or read from its traceback)."""
    if filename:
        return _template_problem(root, filename, line, message)
    return _runtime_problem(root, error, message)


def _runtime_problem(root: Path, error: BaseException, message: str) -> Problem:
    # Jinja rewrites tracebacks so template frames carry the template's file and line.
    dirs = template_dirs(root)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if within(Path(f.filename), dirs)]
    if not frames:
        return Problem("<template>", None, None, "", message)
    last = frames[-1]
    return _template_problem(root, last.filename, last.lineno, message)


# ---- checks on the rendered HTML ----------------------------------------------

# Attributes through which an element makes the renderer load a file.
_LOADS = {("img", "src"), ("link", "href"), ("image", "href"), ("image", "xlink:href"), ("use", "href"),
          ("use", "xlink:href"), ("object", "data"), ("embed", "src"), ("iframe", "src"), ("source", "src"),
          ("video", "src"), ("audio", "src"), ("input", "src"), ("script", "src")}
_LINK_SCHEMES = ("http", "https", "mailto", "tel")


def resolve_resource(url: str, out_dir: Path, files: dict[str, Path], root: Path) -> Path | None:
    """Return the file a relative URL in an edition loads, or None when it points outside the pack."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    rel = PurePosixPath(unquote(parts.path))
    if rel.is_absolute():
        return None
    target = Path(os.path.normpath(out_dir / rel))
    try:
        asset = target.relative_to(Path(os.path.normpath(out_dir))).as_posix()
    except ValueError:
        asset = None
    if asset in files:
        return files[asset]
    return within(target, [root])


def within(path: Path, roots: list[Path]) -> Path | None:
    """Return path's real location if it lies under one of roots (symlinks resolved), else None."""
    real = os.path.realpath(path)
    for r in roots:
        base = os.path.realpath(r)
        if os.path.commonpath([real, base]) == base:
            return Path(real)
    return None


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.loads: list[tuple[str, str]] = []
        self._svg: list[dict] = []  # open <svg role=img> elements: has a title?
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for (t, attr) in _LOADS:
            if t == tag and a.get(attr):
                self.loads.append((f"<{tag} {attr}=\"{a[attr]}\">", a[attr]))
        if tag == "a" and a.get("href"):
            href = a["href"]
            scheme = urlsplit(href).scheme.lower()
            if scheme and scheme not in _LINK_SCHEMES:
                self.problems.append(f"link <a href=\"{href}\"> uses a '{scheme}:' URL; "
                                     "only http(s), mailto and tel links are allowed")
        if tag == "img" and not (a.get("alt") or "").strip():
            self.problems.append(f"<img src=\"{a.get('src', '')}\"> has no alt text; describe the image in alt=\"...\"")
        if tag == "svg":
            self._svg.append({"img": a.get("role") == "img", "label": bool((a.get("aria-label") or "").strip()),
                              "title": False, "depth": 0})
        elif self._svg:
            self._svg[-1]["depth"] += 1
            if tag == "title" and self._svg[-1]["depth"] == 1:
                self._in_title = True

    def handle_data(self, data):
        if self._in_title and data.strip():
            self._svg[-1]["title"] = True

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if not self._svg:
            return
        if tag == "svg":
            svg = self._svg.pop()
            if svg["img"] and not (svg["title"] or svg["label"]):
                self.problems.append("<svg role=\"img\"> has no <title> or aria-label; "
                                     "give the graphic a text alternative")
        else:
            self._svg[-1]["depth"] -= 1


def check_html(html: str, audience: str, out_dir: Path, files: dict[str, Path], root: Path) -> None:
    """Refuse images without text alternatives and anything loaded from outside the pack."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    for element, url in checker.loads:
        if resolve_resource(url, out_dir, files, root) is None:
            problems.append(f"{element} loads a file outside the pack or from the network; "
                            "use a file inside the pack directory")
    if problems:
        raise BuildError(f"{audience}: " + f"\n{audience}: ".join(problems))
