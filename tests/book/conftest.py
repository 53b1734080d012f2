"""Fixtures of the book tests: the quick preset's site, a local web server and headless Chromium.

The tests carry the ``book`` marker (registered here): ``make test`` runs them in their own step,
after ``make test-notebooks`` has executed the quick notebooks into ``build/test/quick/nb``.
Everything they write stays under ``build/test/`` (``book-nb``, ``book-src``, ``book``,
``book-screens``).
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_ROOT = ROOT / "build" / "test"
#: where the book of the tests is built, and where its screenshots go
SITE = TEST_ROOT / "book"
SCREENS = TEST_ROOT / "book-screens"
APT_HINT = "apt-get install -y chromium chromium-driver (Debian; .ci/run does this as root)"


def pytest_configure(config):
    """Register the ``book`` marker."""
    config.addinivalue_line(
        "markers", "book: builds the HTML book of the quick preset and checks it in headless Chromium "
                   "(run after make test-notebooks: pytest -m book tests/book)")


def quick_notebooks():
    """The quick notebooks the test book is made of: ``(folder, needs collect, data root)``.

    In order: the ones ``make test-notebooks`` just executed (``build/test/quick/nb``, with their
    results in ``build/test/data``), the committed ``book/quick``, the ones of ``make quick``
    (``build/quick/nb``); None when there are none.
    """
    fresh = TEST_ROOT / "quick" / "nb"
    fresh_data = TEST_ROOT / "data"
    candidates = [
        (fresh, True, fresh_data if (fresh_data / "quick" / "results.json").exists() else ROOT / "data"),
        (ROOT / "book" / "quick", False, ROOT / "data"),
        (ROOT / "build" / "quick" / "nb", True, ROOT / "data"),
    ]
    for folder, needs_collect, data in candidates:
        if any(folder.glob("0*.ipynb")):
            return folder, needs_collect, data
    return None


def _run(args):
    """Run ``python -m softlib.pipeline.book ARGS`` as make does; fail the test with its output."""
    run = subprocess.run([sys.executable, "-m", "softlib.pipeline.book", *args], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        pytest.fail(f"softlib.pipeline.book {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout


@pytest.fixture(scope="session")
def screens():
    """The folder of the screenshots, build/test/book-screens (created)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


@pytest.fixture(scope="session")
def book_site():
    """The site of the quick preset, built like ``make book BOOK_PRESET=quick`` into build/test/book."""
    for module in ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx_exercise", "selenium"):
        pytest.importorskip(module, reason=f"{module} is not installed: make book-setup "
                                           "(pip install -e '.[book]')")
    found = quick_notebooks()
    if found is None:
        pytest.skip("no executed quick notebooks: run make test-notebooks (build/test/quick/nb) or make quick")
    folder, needs_collect, data = found
    if needs_collect:
        collected = TEST_ROOT / "book-nb" / "quick"
        _run(["collect", "--preset", "quick", "--nb-dir", str(folder), "--out", str(collected)])
        folder = collected
    _run(["build", "--preset", "quick", "--notebooks", str(folder), "--src", str(TEST_ROOT / "book-src"),
          "--out", str(SITE), "--data-dir", str(data)])
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr."""

    def log_message(self, *args):
        """Log nothing."""


@pytest.fixture(scope="session")
def http_site(book_site):
    """The site served by ``http.server`` on 127.0.0.1 (a free port); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(book_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _chromium():
    """Paths of the Chromium browser and its driver, or a skip naming the Debian packages."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or ("/usr/lib/chromium/chromedriver"
                                              if os.path.exists("/usr/lib/chromium/chromedriver") else None)
    if not browser or not driver:
        pytest.skip(f"headless Chromium is not installed ({'chromedriver' if browser else 'chromium'} "
                    f"missing): {APT_HINT}")
    return browser, driver


@pytest.fixture(scope="session")
def chrome(book_site):
    """A headless Chromium driven by selenium, its console log kept; one for the session."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()
