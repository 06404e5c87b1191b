"""The built site, as a reader sees it: headless Chromium over http://127.0.0.1.

Needs `make book` first; skips with that advice otherwise, unless MDN_REQUIRE_SITE=1 (set by
.ci/run after its build, so CI never skips). Screenshots land in _build/screenshots/.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
# Debian's chromium (what .ci/run installs), or a Chrome already on the machine.
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome")
     if (found := shutil.which(name))),
    "/usr/bin/chromium",
)  # fmt: skip
PAGES = sorted(p.relative_to(SITE).as_posix() for p in (SITE / "book").glob("*.html"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(what: str, how: str):
    if os.environ.get("MDN_REQUIRE_SITE") == "1":
        pytest.fail(f"{what} (MDN_REQUIRE_SITE=1): {how}")
    pytest.skip(f"{what}: {how}")


@pytest.fixture(scope="module")
def server():
    if not (SITE / "book" / "index.html").exists():
        _missing("the site is not built", "run `make book` first")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(SITE)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _missing("chromium is not installed", "apt-get install -y chromium (.ci/run does)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _open(browser, url, **context_args):
    """Open url; return (page, context, outside requests, console errors)."""
    context = browser.new_context(**context_args)
    outside, errors = [], []

    def guard(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # the network is cut: anything leaving the machine is a failure
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    return page, context, outside, errors


def _wait_for_math(page):
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && "
                           "window.MathJax.startup.promise)")  # fmt: skip
    page.evaluate("() => window.MathJax && MathJax.startup.promise")


def _shot_name(path):
    return path.replace("/", "_").removesuffix(".html")


def test_every_page_is_built():
    if not PAGES:
        _missing("the site is not built", "run `make book` first")
    assert len(PAGES) >= 9  # index + 8 chapters


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_offline(server, browser, path):
    page, context, outside, errors = _open(browser, f"{server}/{path}")
    try:
        _wait_for_math(page)
        # Every image loaded (lazy ones too: make them eager, then wait).
        page.evaluate("""async () => {
            const imgs = [...document.images];
            imgs.forEach(i => i.loading = 'eager');
            await Promise.all(imgs.map(i => i.complete ? 0 : new Promise(r => {
                i.onload = i.onerror = r; })));
        }""")
        broken = page.evaluate(
            "() => [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src)"
        )
        assert not broken, f"images that did not load: {broken}"
        # Math is typeset: no raw TeX delimiters left in the visible text, MathJax output present.
        text = page.inner_text("article")
        for raw in ("$$", "\\[", "\\(", "\\begin{"):
            assert raw not in text, f"raw {raw!r} left in the text"
        n_math = page.locator("article .math").count()
        n_typeset = page.locator("article mjx-container").count()
        assert n_typeset >= n_math, f"{n_math} math spans, {n_typeset} typeset"
        assert not outside, f"requests left 127.0.0.1: {outside}"
        assert not errors, f"console errors: {errors}"
        # Chapters (pages built from a notebook) offer both twins for download, and both
        # links resolve.
        downloads = page.eval_on_selector_all("a.download", "as => as.map(a => a.href)")
        if (ROOT / path).with_suffix(".ipynb").exists():
            assert {Path(urlparse(u).path).suffix for u in downloads} >= {".ipynb", ".py"}
        for url in downloads:
            assert page.request.get(url).status == 200, url
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{_shot_name(path)}.png", full_page=True)
    finally:
        context.close()


def test_chapters_with_math_are_typeset(server, browser):
    page, context, _, _ = _open(browser, f"{server}/book/05_deriving_the_mdn.html")
    try:
        _wait_for_math(page)
        assert page.locator("article mjx-container").count() > 20
        # Numbered equations carry their numbers, and {eq} references link to them.
        assert page.locator("article span.eqno").count() >= 8
    finally:
        context.close()


def test_search_finds_mixture(server, browser):
    page, context, outside, errors = _open(browser, f"{server}/search.html?q=mixture")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=15_000)
        hits = page.locator("#search-results ul.search li").count()
        assert hits >= 5, hits
        assert not outside and not errors, (outside, errors)
    finally:
        context.close()


def test_dark_mode(server, browser):
    """Dark mode follows the reader's setting; screenshots for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path in PAGES:
        page, context, _, errors = _open(
            browser,
            f"{server}/{path}",
            color_scheme="dark",
            viewport={"width": 1280, "height": 900},
        )
        try:
            _wait_for_math(page)
            assert page.evaluate("document.documentElement.dataset.theme") == "dark"
            assert not errors, errors
            page.screenshot(path=SHOTS / f"{_shot_name(path)}-dark.png", full_page=False)
        finally:
            context.close()


# For each display equation: does it scroll inside a box narrower than itself, or stick out
# of the text column (wider than the article, with nothing clipping it)?
_WIDE_MATH = """() => {
    const article = document.querySelector('article');
    const right = article.getBoundingClientRect().right;
    const found = {scroll: [], stick: []};
    document.querySelectorAll('article mjx-container[display="true"]').forEach((eq, i) => {
        let scrolls = false;
        for (let el = eq; el && el !== article; el = el.parentElement) {
            const overflow = getComputedStyle(el).overflowX;
            if (overflow !== 'visible' && el.scrollWidth > el.clientWidth + 1) { scrolls = true; break; }
        }
        const text = (eq.querySelector('mjx-assistive-mml') || eq).textContent.slice(0, 40);
        if (scrolls) found.scroll.push(text);
        else if (eq.getBoundingClientRect().right > right + 1) found.stick.push(text);
    });
    return found;
}"""

PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}  # fmt: skip
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.mark.parametrize(
    "name, context_args, max_scrolling", [("phone", PHONE, 5), ("desktop", DESKTOP, 0)]
)
def test_no_page_scrolls_sideways_and_wide_equations_are_few(
    server, browser, name, context_args, max_scrolling
):
    """At 375 x 812 and 1280 x 800: no page is wider than the screen, no display equation
    sticks out of the text column, and at most ``max_scrolling`` equations in the whole
    book must be scrolled sideways inside their box (none on a desktop)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = context_args["viewport"]["width"]
    scrolling, sticking = {}, {}
    for path in PAGES:
        page, context, _, errors = _open(browser, f"{server}/{path}", **context_args)
        try:
            _wait_for_math(page)
            page_width = page.evaluate("document.documentElement.scrollWidth")
            assert page_width <= width + 1, f"{path} is {page_width}px wide at {width}px"
            found = page.evaluate(_WIDE_MATH)
            if found["scroll"]:
                scrolling[path] = found["scroll"]
            if found["stick"]:
                sticking[path] = found["stick"]
            assert not errors, errors
            if name == "phone":
                page.screenshot(path=SHOTS / f"{_shot_name(path)}-phone.png", full_page=False)
        finally:
            context.close()
    print(f"{name}: equations scrolling inside their box: {scrolling}")
    assert not sticking, f"equations wider than the text column at {width}px: {sticking}"
    n_scrolling = sum(len(v) for v in scrolling.values())
    assert n_scrolling <= max_scrolling, f"{n_scrolling} equations scroll at {width}px: {scrolling}"


def test_the_training_animation_plays_offline(server, browser):
    """matplotlib's JavaScript player: present, its frames change on Play, nothing fetched
    from another host (the site strips the player's Font Awesome CDN link)."""
    pages = [p for p in PAGES if 'class="animation"' in (SITE / p).read_text(encoding="utf-8")]
    assert pages, "no page has a training animation"
    for path in pages:
        page, context, outside, errors = _open(browser, f"{server}/{path}")
        try:
            img = page.locator("div.animation img").first
            before = img.get_attribute("src")
            page.locator("div.animation button[title='Play']").first.click()
            page.wait_for_timeout(1500)
            assert img.get_attribute("src") != before, "the frames did not change on Play"
            assert not outside, f"requests left 127.0.0.1: {outside}"
            assert not errors, errors
        finally:
            context.close()
