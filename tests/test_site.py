"""The built site, as a reader sees it: headless Chromium over http://127.0.0.1.

Needs `make book` first; skips with that advice otherwise, unless MDN_REQUIRE_SITE=1 (set by
.ci/run after its build, so CI never skips). Screenshots land in _build/screenshots/.
MDN_SITE=DIR tests the site in DIR instead of _build/html (`.ci/quick_build OUT` builds one
into OUT/_build/html from the committed outputs); its screenshots land beside DIR.
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
SITE = Path(os.environ.get("MDN_SITE") or ROOT / "_build" / "html")
SHOTS = SITE.parent / "screenshots"
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


# The interactive figure of chapter 8 (mdn_src.plotting.interactive_density): a slider over t
# that redraws p(x | t) of chapter 7's seed-0 MDN, computed in the page from its weights.
SLIDER_PAGE = "book/08_sampling_and_prediction.html"
FIGURE = "#fig-ch08-slider .mdn-interactive"
_SET_SLIDER = """([sel, value]) => { const s = document.querySelector(sel + ' .mdn-slider');
    s.value = String(value); s.dispatchEvent(new Event('input', {bubbles: true})); }"""


@pytest.fixture(scope="module")
def slider_model():
    """The model the figure draws, loaded as chapter 8 loads it (fit_cached, same arguments,
    the book's shipped models)."""
    torch = pytest.importorskip("torch")
    from mdn_src import MDN, fit_cached, make_toy_data

    torch.set_num_threads(1)
    x_train, t_train = make_toy_data(2500, seed=0)
    torch.manual_seed(0)
    model = MDN(1, 1, n_components=30, hidden=50)
    fit_cached(model, t_train, x_train, name="ch7-mdn-seed0", epochs=3000, lr=0.008,
               shipped=ROOT / "book" / "models" / "cache")  # fmt: skip
    return model


def _model_path(page):
    return page.get_attribute(f"{FIGURE} path.mdn-model", "d")


def _log_density(model, t, xs, dtype):
    """log p(x | t) of ``model`` at one input ``t`` and points ``xs``, in ``dtype``, float64."""
    import copy

    import torch

    m = copy.deepcopy(model).to(dtype)
    with torch.no_grad():
        p = m(torch.tensor([[t]], dtype=dtype))
        return p.log_prob(torch.tensor(xs, dtype=dtype)[:, None, None])[:, 0].double().numpy()


def test_the_density_slider_redraws_and_agrees_with_the_model(server, browser, slider_model):
    """Chapter 8's slider: moving it redraws the curves and the readout; the page's density
    is the Python model's at three inputs, and so are its modes; nothing leaves 127.0.0.1.

    Tolerances. The page computes in float64 from the float32 weights exactly; torch in
    float32 rounds every layer (relative 6e-8 a step), which the standardised distance
    ``(x - mu) / sigma`` of a narrow component (sigma near 0.01) amplifies: measured up to
    3e-5 in log p over the figure's x. So: |log p_page - log p_torch32| <= 1e-4, an absolute
    bound on the log-density, which is a relative bound of 1e-4 on the density itself, as
    strict where the density is small as where it peaks. Against torch in float64, the same
    arithmetic, the page agrees to 1e-9 (measured 5e-14).
    """
    import numpy as np
    import torch

    from mdn_src import conditional_modes

    page, context, outside, errors = _open(browser, f"{server}/{SLIDER_PAGE}")
    try:
        assert page.locator(FIGURE).count() == 1, "the interactive figure is missing"
        caption = page.inner_text("#fig-ch08-slider figcaption")
        assert caption.startswith("Fig. ") and "slider" in caption
        readout = page.locator(f"{FIGURE} .mdn-readout")
        assert readout.inner_text() == "t = 0.40"  # the chapter starts it at t = 0.4
        before, components = _model_path(page), page.locator(f"{FIGURE} .mdn-components path")
        page.evaluate(_SET_SLIDER, [FIGURE, 20])  # slider position 20: t = 0.10
        assert readout.inner_text() == "t = 0.10"
        after = _model_path(page)
        assert after != before and after.startswith("M"), "the density was not redrawn"
        assert components.count() >= 1 and components.first.get_attribute("d").startswith("M")
        assert page.get_attribute(f"{FIGURE} path.mdn-exact", "d").startswith("M")

        xs = np.linspace(-0.15, 1.15, 261)
        for t in (0.1, 0.4, 0.83):
            got = np.log(page.evaluate(
                "([sel, t, xs]) => document.querySelector(sel).mdnDensity(t, xs)",
                [FIGURE, t, xs.tolist()],
            ))  # fmt: skip
            gap32 = np.abs(got - _log_density(slider_model, t, xs, torch.float32)).max()
            gap64 = np.abs(got - _log_density(slider_model, t, xs, torch.float64)).max()
            assert gap32 <= 1e-4, f"t = {t}: log p differs from torch float32 by {gap32:.2e}"
            assert gap64 <= 1e-9, f"t = {t}: log p differs from torch float64 by {gap64:.2e}"
            modes = page.evaluate("([sel, t]) => document.querySelector(sel).mdnModes(t)",
                                  [FIGURE, t])  # fmt: skip
            params = slider_model.mixture_parameters(torch.tensor([[t]])).detach()
            found = conditional_modes(params)
            want = np.sort(found.location[0, :, 0][found.significant(0.05)[0]].numpy())
            np.testing.assert_allclose(np.sort(modes), want, rtol=0, atol=1e-4)
        assert not outside, f"requests left 127.0.0.1: {outside}"
        assert not errors, f"console errors: {errors}"
    finally:
        context.close()


def test_the_density_slider_fits_a_phone_and_works_there(server, browser):
    """At 390 x 844 the figure fits the screen (no sideways scrolling, the page's or its
    own), and the slider moves by touch-screen keyboard steps and redraws."""
    phone = {**PHONE, "viewport": {"width": 390, "height": 844}}
    page, context, outside, errors = _open(browser, f"{server}/{SLIDER_PAGE}", **phone)
    try:
        figure = page.locator(FIGURE)
        figure.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
        box = figure.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 391, box
        assert page.evaluate("s => document.querySelector(s).scrollWidth <= "
                             "document.querySelector(s).clientWidth", FIGURE)  # fmt: skip
        plot = page.locator(f"{FIGURE} svg.mdn-plot").bounding_box()
        assert 300 <= plot["width"] <= 391, plot
        before = _model_path(page)
        slider = page.locator(f"{FIGURE} .mdn-slider")
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        assert slider.input_value() == "55"  # 50 (t = 0.40) + 5 steps
        assert page.locator(f"{FIGURE} .mdn-readout").inner_text() == "t = 0.45"
        assert _model_path(page) != before
        SHOTS.mkdir(parents=True, exist_ok=True)
        figure.screenshot(path=SHOTS / "08_slider-phone.png")
        assert not outside and not errors, (outside, errors)
    finally:
        context.close()


def test_the_density_slider_works_from_a_file(browser):
    """Opened as file://, with no server, the chapter's figure draws and redraws."""
    path = SITE / SLIDER_PAGE
    if not path.exists():
        _missing("the site is not built", "run `make book` first")
    context = browser.new_context()
    errors, outside = [], []

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri(), wait_until="load")
        before = _model_path(page)
        assert before and before.startswith("M"), "nothing drawn from file://"
        page.evaluate(_SET_SLIDER, [FIGURE, 100])
        assert page.locator(f"{FIGURE} .mdn-readout").inner_text() == "t = 0.90"
        assert _model_path(page) != before
        assert not outside, f"requests left the file: {outside}"
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("sigma_map", ["softplus", "exp", "elu"])
def test_a_saved_figure_computes_the_density_as_torch_does(browser, tmp_path, sigma_map):
    """The page's forward pass, for each scale map and two hidden layers, is torch's in
    float64 to 1e-9 in log p (needs no site: the figure is saved and opened from a file)."""
    import numpy as np
    import torch

    from mdn_src import MDN, plotting

    torch.manual_seed(1)
    model = MDN(1, 1, n_components=5, hidden=[6, 4], sigma_map=sigma_map)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)  # spread the logits and scales beyond a fresh network's
    fig = plotting.interactive_density(model, np.linspace(-1, 1, 21), np.linspace(-4, 4, 401))
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(fig.save(tmp_path / "figure.html").as_uri())
        xs, sel = np.linspace(-4, 4, 161), f"#{fig.element_id}"
        for t in (-0.9, 0.05, 0.7):
            got = np.log(page.evaluate(
                "([sel, t, xs]) => document.querySelector(sel).mdnDensity(t, xs)",
                [sel, t, xs.tolist()],
            ))  # fmt: skip
            want = _log_density(model, t, xs, torch.float64)
            assert np.abs(got - want).max() <= 1e-9, (t, np.abs(got - want).max())
        assert page.get_attribute(f"{sel} path.mdn-model", "d").startswith("M")
        assert not errors, errors
    finally:
        page.close()
