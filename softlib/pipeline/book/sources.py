"""The Sphinx sources of the book (``build/book-src``): notebooks, pages, course and landing page."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from ._common import ROOT, BookError, write_if_changed
from .collect import notebook_files
from .landing import landing
from .toc import toctrees

#: pages copied into the sources: name in the book -> file in the repository
PAGES = {"methods": "docs/methods.md", "benchmarks": "benchmarks/RESULTS.md"}
#: folders copied whole into the sources: folder in the book -> folder in the repository
TREES = {"course": "book/course"}


_PAPER_EQ = re.compile(r"(?P<lead>^|\n)(?P<math>\$\$(?:(?!\$\$).)*?\(\s*(?P<n>\d+[a-z]?)\s*\)\s*\$\$)", re.DOTALL)


def label_paper_equations(source, taken):
    """Put a MyST target ``(paper-eq-N)=`` before the display equations numbered ``(N)`` by hand.

    The notebooks number the paper's equations in the TeX itself (``... \\qquad (7)$$``); the
    targets let other pages link to them (``{ref}`Eq. 7 <paper-eq-7>```). Only the first
    equation with a given number, over the whole book, gets the target.

    Parameters
    ----------
    source : str
        A Markdown cell.
    taken : set of str
        Equation numbers already labelled; updated.

    Returns
    -------
    str
    """
    def add_target(match):
        number = match.group("n")
        if number in taken:
            return match.group(0)
        taken.add(number)
        return f"{match.group('lead')}\n(paper-eq-{number})=\n{match.group('math')}"

    return _PAPER_EQ.sub(add_target, source)


def _notebook_source(path, taken):
    """A book notebook as the build sources hold it: paper equations labelled."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = label_paper_equations(cell.source, taken)
    return nbformat.writes(nb) + "\n"


def sync_tree(source, dest):
    """Mirror the folder ``source`` into ``dest``: changed files rewritten, files gone from it removed.

    Parameters
    ----------
    source : path-like
        A committed folder of pages (``book/course``); when it does not exist ``dest`` is removed.
    dest : path-like
        Its place in the build sources.
    """
    source, dest = Path(source), Path(dest)
    wanted = set()
    if source.is_dir():
        for path in source.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                wanted.add(path.relative_to(source))
                write_if_changed(dest / path.relative_to(source), path.read_bytes())
    if dest.is_dir():
        for path in list(dest.rglob("*")):
            if path.is_file() and path.relative_to(dest) not in wanted:
                path.unlink()
        if not wanted:
            shutil.rmtree(dest)


def _sync_notebooks(notebooks, dest):
    """Lay out the book notebooks under ``dest`` (labelled); remove those no longer in the book."""
    taken, wanted = set(), set()
    for path in sorted(Path(notebooks).rglob("0*.ipynb")):
        rel = path.relative_to(notebooks)
        wanted.add(rel)
        write_if_changed(dest / rel, _notebook_source(path, taken))
    for path in list(dest.rglob("*")):
        if path.is_file() and path.relative_to(dest) not in wanted and path.suffix == ".ipynb":
            path.unlink()
    return wanted


def prepare_sources(preset, notebooks, src, data_dir):
    """Lay out the Sphinx sources of the book in ``src``.

    Parameters
    ----------
    preset : str
    notebooks : path-like
        The book folder of the preset (``book/<preset>``, from :func:`collect`).
    src : path-like
        The build sources (``build/book-src``); only files that changed are rewritten.
    data_dir : path-like
        The data root of the landing page's numbers.

    Returns
    -------
    pathlib.Path
        ``src``.

    Raises
    ------
    BookError
        When the book folder holds no notebook.
    """
    notebooks, src = Path(notebooks), Path(src)
    if not notebook_files(notebooks):
        raise BookError(f"{notebooks} holds no executed notebooks: make them with `make {preset}`, then copy "
                        f"them there with `make book-notebooks BOOK_PRESET={preset}`")
    src.mkdir(parents=True, exist_ok=True)
    _sync_notebooks(notebooks, src / "notebooks")
    for name, rel in PAGES.items():
        page = ROOT / rel
        if page.exists():
            write_if_changed(src / f"{name}.md", page.read_text())
        elif (src / f"{name}.md").exists():
            (src / f"{name}.md").unlink()
    for name, rel in TREES.items():
        sync_tree(ROOT / rel, src / name)
    toc = toctrees(src)
    write_if_changed(src / "index.md", landing(preset, data_dir, src=src, toc=toc))
    return src
