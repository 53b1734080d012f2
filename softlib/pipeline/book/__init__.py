"""The book: a static HTML site of one preset's executed paper, built offline with Sphinx.

``make book`` (``mk/book.mk``) calls the commands of this package
(``python -m softlib.pipeline.book COMMAND``, :mod:`softlib.pipeline.book.cli`):

``collect --preset P --nb-dir BUILD/P/nb --out book/P [--seed-nb-dir DIR]``
    copy the executed notebooks of a preset into the committed folder ``book/<preset>``: outputs
    kept, progress-bar streams collapsed to what a terminal shows at the end, papermill's
    per-cell metadata dropped, PNGs larger than ``--png-limit`` bytes shrunk. The folder is
    replaced as a whole, only once every notebook was read and cleaned. For the paper preset
    the finite-size notebooks of the seed preset (``BUILD/seed/nb``) go to ``book/paper/seed``.
``landing --preset P --out build/book-src/index.md``
    the landing page: the template ``book/landing.md`` filled with the headline numbers of
    ``data/<preset>/results.json``, ``predictors.json`` and ``calibration.json``, the comparison
    table ``data/<preset>/COMPARISON.md`` and the table of contents ``book/toc.yml``.
``build --preset P [--notebooks book/P] [--src build/book-src] [--out build/book]``
    lay out the Sphinx sources (landing page, notebooks, ``docs/methods.md``,
    ``benchmarks/RESULTS.md``, the pages of ``book/course/``), run Sphinx with ``book/conf.py``
    (myst-nb, no execution, MathJax served from the site) and check that no page loads a
    script, stylesheet or font from the network.

The site works from disk (``file://``) and from any static server (``python -m http.server``).

Modules, one role each (none imports a later one):

- :mod:`._common`: the paths and the PNG limit shared by the steps, :class:`BookError`,
  :func:`write_if_changed`;
- :mod:`.collect`: the ``collect`` command, cleaning executed notebooks into ``book/<preset>``;
- :mod:`.landing`: the landing page, from the template and the data JSON files;
- :mod:`.toc`: the table of contents of the landing page, from ``book/toc.yml``;
- :mod:`.sources`: the Sphinx sources laid out in ``build/book-src``;
- :mod:`.build`: the ``build`` command, running Sphinx and checking the site works offline;
- :mod:`.cli`: the command line (``__main__`` runs it).

Every name is re-exported here: ``from softlib.pipeline import book; book.collect(...)``.
"""
from __future__ import annotations

from ._common import BOOK, PNG_LIMIT, ROOT, BookError, write_if_changed
from .build import build, remote_references, sphinx_command
from .cli import main
from .collect import (
    FOLDER_LIMIT,
    NOISE,
    PAPERMILL_KEEP,
    NotebookReport,
    clean_notebook,
    collect,
    drop_noise,
    format_report,
    merge_streams,
    notebook_files,
    replace_folder,
    shrink_png,
    terminal_text,
)
from .landing import (
    PREDICTOR_NAMES,
    PRESET_NOTES,
    comparison_body,
    headline,
    landing,
    landing_figure,
    notebook_links,
    render_template,
)
from .landing import _propensity as _propensity  # used by the tests
from .sources import PAGES, TREES, label_paper_equations, prepare_sources, sync_tree
from .toc import notebook_title, toctrees

__all__ = [
    "BOOK", "FOLDER_LIMIT", "NOISE", "PAGES", "PAPERMILL_KEEP", "PNG_LIMIT", "PREDICTOR_NAMES", "PRESET_NOTES",
    "ROOT", "TREES", "BookError", "NotebookReport", "build", "clean_notebook", "collect", "comparison_body",
    "drop_noise", "format_report", "headline", "label_paper_equations", "landing", "landing_figure", "main",
    "merge_streams", "notebook_files", "notebook_links", "notebook_title", "prepare_sources", "remote_references",
    "render_template", "replace_folder", "shrink_png", "sphinx_command", "sync_tree", "terminal_text", "toctrees",
    "write_if_changed",
]
