"""Sphinx configuration of the book (``make book``; sources laid out by softlib.pipeline.book).

The sources are generated into ``build/book-src`` and built with ``-c book``: this file, the
landing-page template ``landing.md``, the table of contents ``toc.yml`` and the course pages
``course/`` are the only committed inputs besides the notebooks in ``book/<preset>/``.

The site is built and read offline: notebooks are rendered from their stored outputs
(``nb_execution_mode = "off"``), MathJax is copied into the site by ``sphinx-mathjax-offline``,
and the theme is told to load nothing from the network. ``softlib.pipeline.book`` checks the
built pages for remote scripts, stylesheets and fonts and fails the build when it finds one.
"""
from __future__ import annotations

project = "Local softness of the caging potential"
author = "softlib contributors"
copyright = "softlib contributors, MIT licence"

extensions = [
    "myst_nb",  # Markdown (MyST) and executed notebooks
    "sphinx_exercise",  # exercise / solution directives
    "sphinx_togglebutton",  # collapsible solutions (:class: dropdown)
    "sphinx-mathjax-offline",  # MathJax 3 served from _static/mathjax, no CDN
]

# ---------------------------------------------------------------------------- MyST and notebooks
nb_execution_mode = "off"  # the notebooks were executed by make paper / make quick
nb_merge_streams = True  # one stdout and one stderr block per cell
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph (notebook 01) is display math
myst_heading_anchors = 3
suppress_warnings = [
    "myst.header",  # notebooks start sections at ## after their # title, some skip levels
    "mystnb.unknown_mime_type",
]

# ---------------------------------------------------------------------------- equations
numfig = True
math_numfig = True  # $$ ... $$ (label) is numbered, {eq}`label` links to it
math_eqref_format = "Eq. ({number})"

# ---------------------------------------------------------------------------- HTML
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
html_theme_options = {
    # nothing that needs a network: no repository, launch or download-as-PDF buttons
    "use_download_button": True,  # the executed .ipynb, from the site itself
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {},
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    # pydata-sphinx-theme 0.20 puts a search button in a header bar over the sidebar unless told not to
    "navbar_persistent": [],
}
# pydata-sphinx-theme logs a console error ("invalid theme mode") for a first-time visitor
# unless a default mode is set
html_context = {"default_mode": "light"}
