"""The table of contents of the book: the landing page's toctrees, from ``book/toc.yml`` and the sources present."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import BOOK, write_if_changed

_RUN = re.compile(r"01_simulate_T(?P<T>[\d.]+)_s(?P<s>\d+)$")
_TEMPERATURE = re.compile(r"_T(?P<T>\d+\.\d+)")


def notebook_title(path):
    """The first Markdown heading of a notebook (its title), or its file name."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return Path(path).stem


def _entry(src, rel, suffix=""):
    """A toctree line for page ``rel`` (a path under ``src`` with its suffix)."""
    doc = str(Path(rel).with_suffix("")).replace(os.sep, "/")
    if not suffix:
        return doc
    title = notebook_title(src / rel) if rel.endswith(".ipynb") else doc
    return f"{title}{suffix} <{doc}>"


def _simulation_page(src, folder, runs):
    """Write the chapter that groups a folder's 01_simulate_* notebooks; return its page name."""
    intro = ("Notebook 01, executed once per temperature and sample: the pair potentials, the run, its "
             "thermodynamic traces, the dynamics ($F_s(q, t)$, mean-squared displacement, $\\tau_\\alpha$) "
             "and the equilibration checks.")
    lines = [f"# 01 · The simulations ({len(runs)} runs)", "", intro, "", "```{toctree}", ":maxdepth: 1", ""]
    for rel in runs:
        m = _RUN.search(Path(rel).stem)
        label = f"T = {m['T']}, sample {m['s']}" if m else Path(rel).stem
        lines.append(f"{label} <{Path(rel).stem}>")
    lines += ["```", ""]
    page = f"{folder}/01_simulate.md" if folder else "01_simulate.md"
    write_if_changed(src / page, "\n".join(lines))
    return page


def _chapters(src, pattern, generated):
    """The toctree lines of one glob of notebooks, 01_simulate_* runs grouped under one chapter.

    The chapter pages written for the groups are added to the set ``generated``.
    """
    matches = sorted(str(p.relative_to(src)).replace(os.sep, "/") for p in src.glob(pattern))
    runs = [m for m in matches if _RUN.search(Path(m).stem)]
    seed = "/seed/" in f"/{pattern}"
    lines, grouped = [], False
    for rel in matches:
        if rel in runs and len(runs) > 1:
            if not grouped:
                folder = Path(rel).parent.as_posix()
                page = _simulation_page(src, "" if folder == "." else folder, runs)
                generated.add(src / page)
                lines.append(_entry(src, page))
                grouped = True
            continue
        t = _TEMPERATURE.search(Path(rel).stem)
        lines.append(_entry(src, rel, f" (T = {t['T']}, seed preset)" if seed and t else ""))
    return lines


def toctrees(src, toc_file=None):
    """The toctree directives of the landing page, from ``book/toc.yml`` and the sources present.

    Parameters
    ----------
    src : path-like
        The build sources (pages and notebooks already laid out).
    toc_file : path-like, optional
        Default ``book/toc.yml``.

    Returns
    -------
    str
        One ``{toctree}`` block per part that has at least one page.
    """
    import yaml

    src = Path(src)
    toc = yaml.safe_load(Path(toc_file or BOOK / "toc.yml").read_text())
    blocks, generated = [], set()
    for part in toc["parts"]:
        lines = []
        for chapter in part["chapters"]:
            if any(ch in chapter for ch in "*?["):
                lines += _chapters(src, chapter, generated)
            elif (src / f"{chapter}.md").exists() or (src / f"{chapter}.ipynb").exists():
                lines.append(chapter)
        if lines:
            blocks.append("\n".join(["```{toctree}", f":caption: {part['caption']}", ":maxdepth: 1", "", *lines,
                                     "```"]))
    for stale in set((src / "notebooks").rglob("01_simulate.md")) - generated:
        stale.unlink()
    return "\n\n".join(blocks)
