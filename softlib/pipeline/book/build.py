"""The ``build`` command: the sources laid out, Sphinx run, the site checked to load nothing from the network."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ._common import BOOK, ROOT, BookError
from .sources import prepare_sources


def sphinx_command(src, out, preset, doctrees=None):
    """The ``sphinx-build`` command line of the book (``book/conf.py``, no parallel jobs)."""
    doctrees = Path(doctrees) if doctrees else Path(out).parent / f"{Path(out).name}-doctrees"
    return [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(BOOK), "-d", str(doctrees),
            "-D", f"html_title=Local softness of the caging potential ({preset} preset)", str(src), str(out)]


#: a page element that would load something from the network
_REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"'](?:https?:)?//[^\"']+", re.IGNORECASE)
_REMOTE_CSS = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def remote_references(site):
    """Scripts, stylesheets, fonts and images that pages of ``site`` would fetch from the network.

    Links (``<a href="https://...">``) are allowed: they need a network only when followed.

    Parameters
    ----------
    site : path-like
        The built site.

    Returns
    -------
    list of str
        ``file: element`` for each reference found.
    """
    site, found = Path(site), []
    for path in sorted(site.rglob("*.html")) + sorted((site / "_static").rglob("*.css")):
        text = path.read_text(errors="replace")
        pattern = _REMOTE if path.suffix == ".html" else _REMOTE_CSS
        for match in pattern.finditer(text):
            element = match.group(0)
            if path.suffix == ".html" and re.search(r"<link\b", element, re.IGNORECASE) and not re.search(
                    r"rel\s*=\s*[\"'](?:stylesheet|preload|icon|modulepreload|prefetch)", element, re.IGNORECASE):
                continue
            found.append(f"{path.relative_to(site)}: {element[:120]}")
    return found


def build(preset, notebooks=None, src=None, out=None, data_dir=None):
    """Build the book of ``preset`` into ``out`` (see :mod:`softlib.pipeline.book`).

    Parameters
    ----------
    preset : str
    notebooks : path-like, optional
        Default ``book/<preset>``.
    src : path-like, optional
        The build sources, default ``build/book-src``.
    out : path-like, optional
        The site, default ``build/book`` (``index.html`` is its landing page).
    data_dir : path-like, optional
        The data root, default ``data``.

    Returns
    -------
    pathlib.Path
        The site's ``index.html``.

    Raises
    ------
    BookError
        When an input is missing, Sphinx fails, or a page would load something from the network.
    """
    notebooks = Path(notebooks) if notebooks else BOOK / preset
    src = Path(src) if src else ROOT / "build" / "book-src"
    out = Path(out) if out else ROOT / "build" / "book"
    try:
        import myst_nb  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as err:
        raise BookError(f"{err.name} is not installed: `make book-setup` (or pip install -e '.[book]')") from err
    prepare_sources(preset, notebooks, src, Path(data_dir) if data_dir else ROOT / "data")
    run = subprocess.run(sphinx_command(src, out, preset), cwd=ROOT, check=False)
    if run.returncode != 0:
        raise BookError(f"sphinx-build failed (exit {run.returncode}) on {src}; its messages are above")
    remote = remote_references(out)
    if remote:
        raise BookError("pages would load from the network (the book must work offline):\n  " + "\n  ".join(remote))
    return out / "index.html"
