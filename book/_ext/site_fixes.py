"""Small Sphinx fixes for a clean site, kept in one place.

sphinx-thebe and sphinx-togglebutton register their inline scripts once per read phase,
and Jupyter Book runs two, so every page declared ``const THEBE_JS_URL`` twice: a console
error in every reader's browser. After the build we drop, from each page's ``<head>``, any
``<script>`` line that repeats an earlier one exactly.

matplotlib's JavaScript animation player (``Animation.to_jshtml``) links Font Awesome from a
CDN: the site's only request to another host. The theme already ships the icons the player
draws, so we drop that ``<link>`` from every page.

The footer names the version of ``mdn_src`` the book was built with (read from the
installed package, whose version is ``pyproject.toml``'s), so a reader can tell which
library the pages describe.
"""

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def footer_text() -> str:
    """The footer line: the library's version, or a plain note if it is not installed."""
    try:
        return f"Built with mdn_src {version('mdn_src')}."
    except PackageNotFoundError:
        return "Built with mdn_src (version unknown)."


def _set_footer(app, config):
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = footer_text()
    config.html_theme_options = options


def _drop_duplicate_scripts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        head, sep, body = text.partition("</head>")
        seen, lines = set(), []
        for line in head.splitlines(keepends=True):
            tag = line.strip()
            if tag.startswith("<script") and tag.endswith("</script>"):
                if tag in seen:
                    continue
                seen.add(tag)
            lines.append(line)
        if sep and len(lines) != len(head.splitlines()):
            page.write_text("".join(lines) + sep + body, encoding="utf-8")


_CDN_LINK = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*"\s*/?>\s*')


def _drop_cdn_links(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        stripped = _CDN_LINK.sub("", text)
        if stripped != text:
            page.write_text(stripped, encoding="utf-8")


def setup(app):
    app.connect("config-inited", _set_footer)
    app.connect("build-finished", _drop_duplicate_scripts)
    app.connect("build-finished", _drop_cdn_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
