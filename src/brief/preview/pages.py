"""The preview's own pages (index, edition view, status panel, error page) and the script added to an edition."""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import Any

import jinja2

from brief.templating import builtin_templates, strict_environment

# The preview's own files, served from templates/preview/ by these names only.
STATIC = {"preview.css": "text/css; charset=utf-8", "view.js": "text/javascript; charset=utf-8",
          "live.js": "text/javascript; charset=utf-8"}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return strict_environment([builtin_templates("preview")])


def render(template: str, **context: Any) -> str:
    """Render one of the preview's templates."""
    return _environment().get_template(template).render(**context)


def static_file(name: str) -> bytes | None:
    """Return one of the preview's own scripts or stylesheets, or None for any other name."""
    if name not in STATIC:
        return None
    return (builtin_templates("preview") / name).read_bytes()


def live_script(nonce: str, key: int, audience: str = "") -> str:
    """Return the tag that reloads a page when what it shows changes (edition HTML, error page, index)."""
    return (f'<script src="/_/live.js" nonce="{escape(nonce)}" data-audience="{escape(audience)}" '
            f'data-key="{key}"></script>')


def inject(html: str, tag: str) -> str:
    """Return the edition's HTML with tag added just before its last </body> (or at the end)."""
    ends = [m.start() for m in re.finditer(r"</body\s*>", html, flags=re.I)]
    at = ends[-1] if ends else len(html)
    return html[:at] + tag + "\n" + html[at:]


def csp(nonce: str) -> str:
    """Return the Content-Security-Policy of every preview page: scripts run only if the preview added them."""
    # A pack's own template could carry a <script>: in the preview it does not run (nor in the PDF).
    return ("default-src 'self'; "
            f"script-src 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
