"""The book of the quick preset in a real browser: every page loads cleanly, offline, and works.

The site is built once (``book_site``: collect + build, as ``make book BOOK_PRESET=quick`` does)
and every page is opened in headless Chromium twice: from the local web server
(``python -m http.server``) and from disk (``file://``). Checked on every page: no console
error, every image decoded, every equation typeset by MathJax (no raw ``$$`` left in the text,
no TeX error); on the whole site: every internal link and anchor resolves, nothing is loaded
from the network; on the landing page: the solution of the exercise opens on click.
Screenshots of the landing page and of a chapter go to ``build/test/book-screens/``.
"""
from __future__ import annotations

import html.parser
import re
import urllib.parse
from pathlib import Path

import pytest

from softlib.pipeline.book import remote_references

pytestmark = pytest.mark.book

#: the chapter whose screenshot is taken (equations, figures and the paper's Eq. 7)
CHAPTER = "notebooks/02_calibrate.html"

#: run in the page once it has loaded: MathJax done, then what the checks need
_PAGE_STATE = """
const done = arguments[arguments.length - 1];
const report = () => {
  const math = [...document.querySelectorAll('.math, span.math, div.math')];
  done({
    title: document.title,
    text: document.body.innerText,
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    mjx: document.querySelectorAll('mjx-container').length,
    merror: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
  });
};
const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
ready.then(report, e => done({error: String(e)}));
"""

#: images below the fold may be lazy: load them all before counting
_LOAD_IMAGES = """
const done = arguments[arguments.length - 1];
const images = [...document.images];
images.forEach(i => { i.loading = 'eager'; });
Promise.all(images.map(i => i.decode().catch(() => null))).then(() => done(true));
"""


def site_pages(site):
    """Every HTML page of the site, relative to it (``index.html``, ``notebooks/02_calibrate.html``, ...)."""
    return sorted(p.relative_to(site).as_posix() for p in Path(site).rglob("*.html") if "_static" not in p.parts)


def load(driver, url):
    """Open ``url``; return the page state (:data:`_PAGE_STATE`) and its console errors."""
    driver.get_log("browser")  # drop what earlier pages left
    driver.get(url)
    driver.execute_async_script(_LOAD_IMAGES)
    state = driver.execute_async_script(_PAGE_STATE)
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return state, errors


def page_problems(page, state, errors):
    """What is wrong with one loaded page, as readable lines (empty when nothing is)."""
    if "error" in state:
        return [f"{page}: MathJax failed: {state['error']}"]
    problems = [f"{page}: console error: {e}" for e in errors]
    problems += [f"{page}: image not loaded: {i['src'][:100]}" for i in state["images"] if not i["ok"]]
    if "$$" in state["text"]:
        at = state["text"].index("$$")
        problems.append(f"{page}: raw $$ in the text: ...{state['text'][max(0, at - 60):at + 60]!r}...")
    problems += [f"{page}: equation not typeset: {m!r}" for m in state["untypeset"]]
    problems += [f"{page}: TeX error: {m!r}" for m in state["merror"]]
    if state["math"] and not state["mjx"]:
        problems.append(f"{page}: {state['math']} equations but no MathJax output")
    return problems


def _check_all(driver, base, pages):
    """Load every page from ``base`` (a URL ending in /) and collect the problems."""
    problems, math_pages = [], 0
    for page in pages:
        state, errors = load(driver, base + page)
        problems += page_problems(page, state, errors)
        math_pages += bool(state.get("mjx"))
    return problems, math_pages


def test_pages_over_http(book_site, http_site, chrome):
    """Served by http.server: no console error, images decoded, every equation typeset."""
    pages = site_pages(book_site)
    assert "index.html" in pages and CHAPTER in pages, pages
    problems, math_pages = _check_all(chrome, http_site, pages)
    assert not problems, "\n".join(problems)
    assert math_pages >= 5, f"only {math_pages} pages show typeset equations"


def test_pages_from_disk(book_site, chrome):
    """Opened as files (file://): the same checks, so the site works without any server."""
    problems, _ = _check_all(chrome, book_site.resolve().as_uri() + "/", site_pages(book_site))
    assert not problems, "\n".join(problems)


class _Links(html.parser.HTMLParser):
    """The ids of a page and the URLs it points to (links, images, scripts, stylesheets)."""

    def __init__(self):
        super().__init__()
        self.ids, self.urls = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "img", "script", "link", "source", "iframe"):
                self.urls.append(attrs[key])


@pytest.fixture(scope="module")
def parsed(book_site):
    """Every page parsed once: ``{relative path: _Links}``."""
    out = {}
    for page in site_pages(book_site):
        parser = _Links()
        parser.feed((book_site / page).read_text(errors="replace"))
        out[page] = parser
    return out


def _internal(url):
    """Whether ``url`` points inside the site (no scheme, no host)."""
    parts = urllib.parse.urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//")


def test_internal_links_resolve(book_site, parsed):
    """Every relative link, image, script and stylesheet exists; every #anchor exists on its page."""
    broken = []
    for page, links in parsed.items():
        for url in filter(_internal, links.urls):
            parts = urllib.parse.urlsplit(url)
            target = (book_site / page).parent / urllib.parse.unquote(parts.path) if parts.path else book_site / page
            target = target.resolve()
            rel = target.relative_to(book_site.resolve()).as_posix() if target.is_relative_to(
                book_site.resolve()) else None
            if rel is None or not target.exists():
                broken.append(f"{page}: {url} -> no such file")
            elif parts.fragment and rel in parsed and urllib.parse.unquote(parts.fragment) not in parsed[rel].ids:
                broken.append(f"{page}: {url} -> no id {parts.fragment!r} on {rel}")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(sorted(set(broken))[:60])


def test_nothing_from_the_network(book_site):
    """No page loads a script, stylesheet, font or image from another host (CI has no network)."""
    assert remote_references(book_site) == []


def test_landing_page_links_the_paper_equations(book_site, parsed):
    """The landing page cross-references its own numbered equations and the paper's Eq. 7 in notebook 02."""
    urls = parsed["index.html"].urls
    assert "#equation-eq-softness" in urls, "no {eq} link to the landing page's Eq. (1)"
    assert any(re.search(r"02_calibrate\.html#paper-eq-7$", u) for u in urls), "no link to the paper's Eq. 7"
    assert "equation-eq-softness" in parsed["index.html"].ids


def test_solution_opens_on_click(book_site, http_site, chrome, screens):
    """The exercise's solution (sphinx-exercise, :class: dropdown) is hidden until its title is clicked."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    load(chrome, http_site + "index.html")
    solution = chrome.find_element(By.CSS_SELECTOR, ".solution.dropdown")
    body = solution.find_element(By.CSS_SELECTOR, ":scope > :not(.admonition-title)")
    assert not body.is_displayed(), "the solution is shown before any click"
    chrome.execute_script("arguments[0].scrollIntoView({block: 'center'});", solution)
    solution.find_element(By.CSS_SELECTOR, ".admonition-title").click()
    WebDriverWait(chrome, 5).until(lambda d: body.is_displayed())
    assert "percentage points" in body.text
    chrome.save_screenshot(str(screens / "solution-open.png"))


def test_screenshots(book_site, http_site, chrome, screens):
    """Screenshots of the landing page and of a chapter (top, and at its first figure) for a person to look at."""
    from selenium.webdriver.common.by import By

    shots = {"landing.png": ("index.html", None), "chapter.png": (CHAPTER, None),
             "chapter-figure.png": (CHAPTER, ".cell_output img")}
    for name, (page, element) in shots.items():
        load(chrome, http_site + page)
        if element:
            target = chrome.find_element(By.CSS_SELECTOR, element)
            chrome.execute_script("arguments[0].scrollIntoView({block: 'center'});", target)
        path = screens / name
        assert chrome.save_screenshot(str(path)), f"no screenshot {path}"
        assert path.stat().st_size > 10_000, f"{path} is nearly empty"
