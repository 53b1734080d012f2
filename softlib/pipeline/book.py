"""The book: a static HTML site of one preset's executed paper, built offline with Sphinx.

``make book`` (``mk/book.mk``) calls the commands of this module
(``python -m softlib.pipeline.book COMMAND``):

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
"""
from __future__ import annotations

import argparse
import base64
import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: the repository (the folder above ``softlib/``)
ROOT = Path(__file__).resolve().parents[2]
#: committed inputs of the book: conf.py, landing.md, toc.yml, course/, _static/
BOOK = ROOT / "book"
#: a PNG output larger than this is shrunk by ``collect`` (bytes)
PNG_LIMIT = 300_000
#: ``collect`` warns when a preset's folder grows beyond this (bytes)
FOLDER_LIMIT = 15_000_000
#: notebook-level papermill metadata worth keeping (the rest are local paths and the environment)
PAPERMILL_KEEP = ("parameters", "start_time", "end_time", "duration", "version")
#: pages copied into the sources: name in the book -> file in the repository
PAGES = {"methods": "docs/methods.md", "benchmarks": "benchmarks/RESULTS.md"}
#: folders copied whole into the sources: folder in the book -> folder in the repository
TREES = {"course": "book/course"}
#: a line of caution shown on the landing page of a preset
PRESET_NOTES = {
    "quick": ("```{note}\nThe quick preset is a smoke test: N = 500, temperatures 0.60 to 1.00, runs of "
              "100-200 $\\tau$. It checks that the pipeline runs end to end; compare signs, not values. "
              "The reproduction is the paper preset (`make paper`, then `make book`).\n```"),
    "paper": ("```{note}\nThe paper preset: N = 1000 (the paper uses 4000), temperatures 0.47 to 0.80, two "
              "independent samples at $T \\le 0.50$, and one N = 4000 run at $T = 0.60$ for the "
              "finite-size check.\n```"),
}


class BookError(RuntimeError):
    """A book step cannot run: the message names what is missing and the command that makes it."""


# ============================================================================ collect

@dataclass
class NotebookReport:
    """What ``collect`` did to one notebook.

    Attributes
    ----------
    name : str
        Path of the notebook inside the preset's book folder.
    bytes_in, bytes_out : int
        Size of the executed notebook and of the cleaned copy.
    outputs_merged : int
        Stream outputs removed: merged into the one before, or left empty by :data:`NOISE`.
    images : list of tuple of int
        ``(bytes before, bytes after)`` of every PNG that was shrunk.
    """

    name: str
    bytes_in: int
    bytes_out: int = 0
    outputs_merged: int = 0
    images: list = field(default_factory=list)


#: stream lines that say nothing about the computation: the warning tqdm prints when a notebook runs
#: without ipywidgets (every notebook executed by papermill), with the source line it quotes
NOISE = [re.compile(r"^.*TqdmWarning: IProgress not found\..*\n(?:[ \t]+from \.autonotebook import .*\n)?", re.MULTILINE)]


def terminal_text(text):
    """What a terminal shows once ``text`` is printed: a carriage return restarts its line.

    Parameters
    ----------
    text : str
        Stream output, e.g. the frames of a tqdm progress bar (``"\\r 10%|#...\\r 20%|##..."``).

    Returns
    -------
    str
        Each line reduced to its last non-empty frame.
    """
    lines = []
    for line in text.split("\n"):
        frames = [f for f in line.split("\r") if f]
        lines.append(frames[-1] if frames else "")
    return "\n".join(lines)


def merge_streams(outputs):
    """Merge consecutive stream outputs of the same name and collapse their carriage returns.

    Parameters
    ----------
    outputs : list of dict
        A code cell's outputs (nbformat v4).

    Returns
    -------
    list of dict
        The outputs, with at most one stream output per run of stdout (or stderr) outputs, the
        lines of :data:`NOISE` removed and streams left empty dropped.
    """
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == out.get("name")):
            last["text"] = last["text"] + out["text"]
        else:
            merged.append(copy.deepcopy(out))
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = drop_noise(terminal_text(out["text"]))
    return [out for out in merged if out.get("output_type") != "stream" or out["text"].strip()]


def drop_noise(text):
    """``text`` without the lines matched by :data:`NOISE`."""
    for pattern in NOISE:
        text = pattern.sub("", text)
    return text


def shrink_png(data, limit=PNG_LIMIT):
    """Re-encode a PNG larger than ``limit`` bytes: optimised, then scaled down, then 256 colours.

    Parameters
    ----------
    data : bytes
        The PNG.
    limit : int
        Size in bytes above which the image is re-encoded.

    Returns
    -------
    bytes
        ``data`` itself when it is small enough, else the smallest attempt that fits (or the last).
    """
    if len(data) <= limit:
        return data
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    best = data
    for scale in (1.0, 0.75, 0.5):
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        attempt = image if scale == 1.0 else image.resize(size, Image.LANCZOS)
        for candidate in (attempt, attempt.convert("RGB").quantize(256)):
            buf = io.BytesIO()
            candidate.save(buf, format="PNG", optimize=True)
            if len(buf.getvalue()) < len(best):
                best = buf.getvalue()
            if len(best) <= limit:
                return best
    return best


def _shrink_images(outputs, limit, report):
    """Shrink the PNGs of ``outputs`` in place; record every change in ``report.images``."""
    for out in outputs:
        png = out.get("data", {}).get("image/png")
        if not png:
            continue
        raw = base64.b64decode(png if isinstance(png, str) else "".join(png))
        small = shrink_png(raw, limit)
        if small is not raw:
            out["data"]["image/png"] = base64.b64encode(small).decode("ascii")
            out.get("metadata", {}).get("image/png", {}).pop("width", None)
            report.images.append((len(raw), len(small)))


def clean_notebook(nb, name, size, png_limit=PNG_LIMIT):
    """A copy of an executed notebook fit for the book.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (papermill output).
    name : str
        Its name in the book folder, for the report.
    size : int
        Its size on disk in bytes, for the report.
    png_limit : int
        PNG outputs above this many bytes are shrunk (:func:`shrink_png`).

    Returns
    -------
    nb : nbformat.NotebookNode
        The cleaned copy: outputs kept, streams merged, per-cell papermill metadata dropped,
        notebook-level papermill metadata reduced to :data:`PAPERMILL_KEEP`.
    report : NotebookReport
    """
    nb = copy.deepcopy(nb)
    report = NotebookReport(name, size)
    pm = nb.metadata.get("papermill")
    if pm is not None:
        nb.metadata["papermill"] = {k: pm[k] for k in PAPERMILL_KEEP if k in pm}
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        if cell.cell_type != "code":
            continue
        before = len(cell.outputs)
        cell.outputs = merge_streams(cell.outputs)
        report.outputs_merged += before - len(cell.outputs)
        _shrink_images(cell.outputs, png_limit, report)
    return nb, report


def notebook_files(nb_dir, pattern="0*.ipynb"):
    """The executed notebooks of a folder, in book order (by name: 01_simulate_* ... 07).

    Parameters
    ----------
    nb_dir : path-like
        A preset's ``nb`` folder (``build/<preset>/nb``).
    pattern : str
        Glob of the notebooks to take.

    Returns
    -------
    list of pathlib.Path
    """
    return sorted(p for p in Path(nb_dir).glob(pattern) if p.is_file())


def _default_seed_dir(preset, nb_dir):
    """The finite-size notebooks that go with a preset: ``<root>/seed/nb`` for ``paper``, else None."""
    if preset != "paper":
        return None
    seed = Path(nb_dir).resolve().parent.parent / "seed" / "nb"
    return seed if notebook_files(seed, "0*_T*.ipynb") else None


def replace_folder(out, files):
    """Write ``files`` into a new folder and put it in place of ``out`` in one rename.

    Parameters
    ----------
    out : path-like
        The folder to (re)create; its previous content disappears only after every file was written.
    files : dict of str to bytes
        Relative path -> content.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    try:
        os.chmod(tmp, 0o755)
        for rel, data in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _clean_files(paths, prefix, png_limit):
    """Read and clean ``paths``; return ``{prefix + name: bytes}`` and the reports."""
    import nbformat

    files, reports = {}, []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        clean, report = clean_notebook(nb, prefix + path.name, path.stat().st_size, png_limit)
        data = (nbformat.writes(clean) + "\n").encode("utf-8")
        report.bytes_out = len(data)
        files[prefix + path.name] = data
        reports.append(report)
    return files, reports


def collect(preset, nb_dir, out, seed_nb_dir=None, png_limit=PNG_LIMIT):
    """Copy a preset's executed notebooks into the book folder ``out`` (see the module docstring).

    Parameters
    ----------
    preset : str
        The preset's name (``paper``, ``quick``, ...), recorded in ``collected.json``.
    nb_dir : path-like
        Its executed notebooks (``build/<preset>/nb``).
    out : path-like
        The committed folder, ``book/<preset>``; replaced as a whole.
    seed_nb_dir : path-like, optional
        Finite-size notebooks (``*_T*.ipynb``) copied to ``out/seed``; for ``paper`` the default is
        ``<nb_dir>/../../seed/nb`` when it holds any.
    png_limit : int
        PNGs above this many bytes are shrunk.

    Returns
    -------
    list of NotebookReport

    Raises
    ------
    BookError
        When ``nb_dir`` holds no executed notebook.
    """
    paths = notebook_files(nb_dir)
    if not paths:
        raise BookError(f"no executed notebooks (0*.ipynb) in {nb_dir}: run `make {preset}` first "
                        f"(or `make PRESET={preset} analysis`), or pass --nb-dir where they are")
    files, reports = _clean_files(paths, "", png_limit)
    seed = Path(seed_nb_dir) if seed_nb_dir else _default_seed_dir(preset, nb_dir)
    if seed is not None:
        seed_paths = notebook_files(seed, "0*.ipynb")
        if not seed_paths:
            raise BookError(f"--seed-nb-dir {seed}: no executed notebooks there")
        more, more_reports = _clean_files(seed_paths, "seed/", png_limit)
        files.update(more)
        reports += more_reports
    manifest = {"preset": preset, "notebooks": {r.name: r.bytes_out for r in reports}}
    files["collected.json"] = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    replace_folder(out, files)
    return reports


def format_report(reports, out):
    """A table of what ``collect`` did, with the folder's total and a warning when it is large."""
    lines = [f"{'notebook':<42} {'executed':>10} {'in book':>10}  notes"]
    for r in reports:
        notes = []
        if r.outputs_merged:
            notes.append(f"{r.outputs_merged} stream outputs merged or dropped")
        if r.images:
            notes.append("PNG " + ", ".join(f"{a // 1000}->{b // 1000} kB" for a, b in r.images))
        lines.append(f"{r.name:<42} {r.bytes_in / 1e3:>8.0f}kB {r.bytes_out / 1e3:>8.0f}kB  {'; '.join(notes)}")
    total = sum(r.bytes_out for r in reports)
    lines.append(f"{len(reports)} notebooks, {total / 1e6:.1f} MB in {out}")
    if total > FOLDER_LIMIT:
        lines.append(f"warning: {out} is over {FOLDER_LIMIT / 1e6:.0f} MB; lower --png-limit to shrink the figures")
    return "\n".join(lines)


# ============================================================================ landing page

def _read_json(data_dir, preset, name, required=True):
    """``data/<preset>/<name>``, or None when it is optional and absent."""
    path = Path(data_dir) / preset / name
    if not path.exists():
        if required:
            raise BookError(f"{path} is missing: the landing page reads the results of the {preset} preset; "
                            f"run `make {preset}` first (or pass --data-dir where they are)")
        return None
    return json.loads(path.read_text())


def _num(x, digits=3):
    """A number with ``digits`` significant digits, plain notation where it is short."""
    return "n/a" if x is None else f"{x:.{digits}g}"


def _pm(value, error):
    """``value +- error`` with the value rounded to the error's first digit."""
    if error is None or error <= 0:
        return _num(value)
    decimals = max(0, -int(f"{error:e}".split("e")[1]))
    return f"{value:.{decimals}f} \\pm {error:.{decimals}f}"


def _percent(entry):
    """A fraction ``{"value", "error"}`` as ``61 % ± 0.4 %``."""
    if not entry or entry.get("value") is None:
        return "n/a"
    text = f"{100 * entry['value']:.0f} %"
    return text + (f" ± {100 * entry['error']:.1g} %" if entry.get("error") else "")


def _interval(value, low, high):
    """``0.66 [0.65, 0.68]``."""
    return f"{_num(value, 2)} [{_num(low, 2)}, {_num(high, 2)}]"


def _onset(entry, fit_default="", show_fit=True):
    """An onset temperature entry of results.json (``T`` or ``value``), or the reason there is none."""
    if not entry:
        return "n/a"
    value = entry.get("T", entry.get("value"))
    if value is None:
        return "no fit: " + entry.get("reason", "not computed")
    fit = entry.get("fit", fit_default) if show_fit else ""
    return _interval(value, entry.get("low"), entry.get("high")) + (f" (fit over {fit})" if fit else "")


def _lowest(mapping):
    """The entry of a ``{"0.470": ...}`` mapping at the lowest temperature: ``(key, value)``."""
    key = min(mapping, key=float)
    return key, mapping[key]


def _equilibrated(results):
    """``10 of 10`` runs that pass notebook 01's checks."""
    runs = results.get("equilibration") or {}
    return f"{sum(bool(r.get('equilibrated')) for r in runs.values())} of {len(runs)}" if runs else "n/a"


def _finite_size(results):
    """A paragraph on the finite-size check of the paper preset ('' when there was none)."""
    fs = results.get("finite_size")
    if not fs or not fs.get("sizes"):
        return ""
    parts = []
    for name, size in fs["sizes"].items():
        frac = _percent((size.get("fractions") or {}).get("fraction_above_peak"))
        parts.append(f"N = {size.get('N')} ({name} preset, {size.get('engine', '?')}): {frac} softer than the "
                     f"peak, $\\tau_\\alpha$ = {_num(size.get('tau_alpha'), 2)}")
    return (f"**Finite size** at $T = {fs.get('T')}$: " + "; ".join(parts) +
            " (the finite-size chapters below, and notebook 06).")


#: names of the predictors of predictors.json, as the landing page shows them
PREDICTOR_NAMES = {
    "S": "softness $S$ ({eq}`eq-softness`)", "beta_Phi_r": "local depth $\\beta\\Phi_r$",
    "S_ML": "machine-learned softness (per temperature)", "S_ML_low_T": "machine-learned softness (lowest $T$)",
    "epot": "potential energy", "coordination": "coordination number", "voronoi_volume": "Voronoi volume",
}


def _predictors_table(predictors):
    """A Markdown table: AUC at the lowest temperature and onset temperature of each predictor."""
    if not predictors or not predictors.get("predictors"):
        return "(no predictors.json: run notebook 07)", "n/a"
    onset = predictors.get("onset_temperature") or {}
    fits = {e.get("fit") for e in onset.values() if e and e.get("fit")}
    fit = f" (fit over {fits.pop()})" if len(fits) == 1 else ""
    rows = [f"| predictor | AUC | crossing temperature{fit} |", "| --- | --- | --- |"]
    temperature = None
    for name, per_t in predictors["predictors"].items():
        temperature, entry = _lowest(per_t)
        auc = _pm(entry.get("auc"), entry.get("auc_error")) if entry.get("auc") is not None else "n/a"
        rows.append(f"| {PREDICTOR_NAMES.get(name, name)} | ${auc}$ | {_onset(onset.get(name), show_fit=not fit)} |")
    return "\n".join(rows), f"{float(temperature):.2f}"


def comparison_body(path):
    """``COMPARISON.md`` without its title, its headings one level down, to sit inside a page."""
    path = Path(path)
    if not path.exists():
        raise BookError(f"{path} is missing: notebook 06 writes it; run `make <preset>` first")
    lines = path.read_text().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join("#" + line if line.startswith("##") else line for line in lines).strip()


def headline(preset, data_dir):
    """The values of the landing page's ``{{name}}`` fields, read from ``data/<preset>/*.json``.

    Parameters
    ----------
    preset : str
    data_dir : path-like
        The data root (``data``; ``build/test/data`` for make test's own results).

    Returns
    -------
    dict of str to str
    """
    results = _read_json(data_dir, preset, "results.json")
    calibration = _read_json(data_dir, preset, "calibration.json")
    predictors = _read_json(data_dir, preset, "predictors.json", required=False)
    fraction, baseline = results.get("fraction_above_peak") or {}, results.get("baseline_above_peak") or {}
    t_key, tau = _lowest(results["tau_alpha"])
    table, predictors_t = _predictors_table(predictors)
    r2 = calibration.get("r2") or {}
    gain = (100 * (fraction["value"] - baseline["value"]) if fraction.get("value") is not None
            and baseline.get("value") is not None else None)
    return {
        "preset": preset,
        "preset_note": PRESET_NOTES.get(preset, ""),
        "temperatures": ", ".join(f"{t:.2f}" for t in results["temperatures"]),
        "revision": str((results.get("provenance") or {}).get("git_revision", "unknown"))[:10],
        "c0": _pm(calibration["c0"], calibration.get("c0_err")),
        "c1": _pm(calibration["c1"], calibration.get("c1_err")),
        "r2": ", ".join(f"{r2[k]:.3f}" for k in sorted(r2)) or "n/a",
        "tau_alpha": f"{_num(tau, 3)} at $T = {float(t_key):.2f}$",
        "equilibrated": _equilibrated(results),
        "fraction_above_peak": _percent(fraction),
        "fraction_T": f"{results.get('fraction_above_peak_T', float(t_key)):.2f}",
        "baseline": _percent(baseline),
        "gain": "n/a" if gain is None else f"{gain:.0f}",
        "fraction_above_median": _percent(results.get("fraction_above_median")),
        "onset_all": _onset(results.get("onset_temperature_all")),
        "onset_selective": _onset(results.get("onset_temperature_selective"),
                                  (results.get("onset_temperature") or {}).get("fit", "")),
        "finite_size": _finite_size(results),
        "predictors_table": table,
        "predictors_T": predictors_t,
        "comparison": comparison_body(Path(data_dir) / preset / "COMPARISON.md"),
        "propensity": _propensity(_read_json(data_dir, preset, "propensity.json", required=False)),
    }


def _propensity(prop):
    """The landing page's sentence on notebook 08 (Pearson with the propensity at tau_alpha), or a pointer."""
    if not prop:
        return ("Notebook 08 (the dynamic propensity of iso-configurational ensembles) has not been run for this "
                "preset: `make propensity` runs it.")
    at, ceil = prop["at_tau_alpha"], prop["ceiling"]
    rows = ["| $T$ | A particles | $S$ | coarse-grained $S$ | SVM softness | ceiling |", "| --- | --- | --- | --- | --- | --- |"]
    for k in sorted(ceil, key=float):
        cell = [f"{at[n][k]:+.2f}" if n in at and at[n].get(k) is not None else "n/a" for n in ("S", "S_cg", "S_ML")]
        rows.append(f"| {float(k):.2f} | {prop['n_a_particles'][k]} | " + " | ".join(cell) + f" | {ceil[k]:.2f} |")
    return "\n".join(rows)


def landing_figure(preset, fig_dir, src, name="fig_softness_field"):
    """Copy ``<fig_dir>/<preset>/<name>.png`` into the build sources; the Markdown that shows it, or a pointer."""
    png = Path(fig_dir) / preset / f"{name}.png"
    if src is None or not png.exists():
        return f"(The figure `{name}.png` is drawn by notebook 05; it is not in `{png.parent}` yet.)"
    shutil.copyfile(png, Path(src) / f"landing_{name}.png")
    return (f"```{{figure}} landing_{name}.png\n:width: 100%\n\nThe softness field in real space at the lowest "
            "temperature (notebook 05): a slab of the liquid, each A particle coloured by $S$, the particles "
            "that rearrange within the next $\\tau_\\alpha$ ringed; right, the same slab a few $\\tau_\\alpha$ "
            "later.\n```")


def render_template(template, values):
    """Replace every ``{{name}}`` of ``template``; an unknown name is an error.

    Parameters
    ----------
    template : str
    values : dict of str to str

    Returns
    -------
    str
    """
    def field_value(match):
        name = match.group(1)
        if name not in values:
            raise BookError(f"the landing template uses {{{{{name}}}}}, which softlib.pipeline.book does not "
                            f"provide; known fields: {', '.join(sorted(values))}")
        return values[name]

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", field_value, template)


def landing(preset, data_dir, src=None, toc="", template=None):
    """The landing page's Markdown for ``preset``.

    Parameters
    ----------
    preset : str
    data_dir : path-like
        The data root holding ``<preset>/results.json`` and its siblings.
    src : path-like, optional
        The build sources: ``{{nb02}}`` ... ``{{nb09}}`` link to the notebooks found there, and
        name them without a link where they are absent.
    toc : str
        The toctrees (:func:`toctrees`), put where the template says ``{{toc}}``.
    template : path-like, optional
        Default ``book/landing.md``.

    Returns
    -------
    str
    """
    template = Path(template) if template else BOOK / "landing.md"
    values = headline(preset, data_dir)
    values.update(notebook_links(src))
    values["field_figure"] = landing_figure(preset, Path(data_dir).parent / "figures", src)
    values["toc"] = toc
    return render_template(template.read_text(), values)


def notebook_links(src):
    """``{"nb01": "[notebook 01](notebooks/...)", ...}``: a link where the notebook is in ``src``.

    Parameters
    ----------
    src : path-like or None
        The build sources; None gives the names without links.

    Returns
    -------
    dict of str to str
        For 01 the link goes to the chapter of the simulations (or the single run).
    """
    links = {}
    for n in range(1, 10):
        folder = Path(src) / "notebooks" if src else None
        pages = sorted(folder.glob(f"0{n}_*.md")) + sorted(folder.glob(f"0{n}_*.ipynb")) if folder else []
        name = f"notebook 0{n}"
        links[f"nb0{n}"] = f"[{name}]({pages[0].relative_to(src).as_posix()})" if pages else name
    return links


# ============================================================================ table of contents

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


# ============================================================================ sources and build

def write_if_changed(path, data):
    """Write ``data`` (str or bytes) to ``path`` unless it holds exactly that (Sphinx rebuilds less).

    Returns
    -------
    bool
        Whether the file was written.
    """
    path = Path(path)
    data = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


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
    """Build the book of ``preset`` into ``out`` (see the module docstring).

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


# ============================================================================ command line

def _parser():
    """The command-line parser (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m softlib.pipeline.book", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="copy a preset's executed notebooks into book/<preset>")
    c.add_argument("--preset", required=True)
    c.add_argument("--nb-dir", required=True, help="the executed notebooks, build/<preset>/nb")
    c.add_argument("--out", help="default book/<preset>")
    c.add_argument("--seed-nb-dir", help="finite-size notebooks (paper: default <root>/seed/nb)")
    c.add_argument("--png-limit", type=int, default=PNG_LIMIT, help="shrink PNGs above this many bytes")
    lp = sub.add_parser("landing", help="write the landing page's Markdown")
    lp.add_argument("--preset", required=True)
    lp.add_argument("--out", required=True)
    lp.add_argument("--data-dir", default=str(ROOT / "data"))
    b = sub.add_parser("build", help="build the site")
    b.add_argument("--preset", required=True)
    b.add_argument("--notebooks", help="default book/<preset>")
    b.add_argument("--src", help="default build/book-src")
    b.add_argument("--out", help="default build/book")
    b.add_argument("--data-dir", help="default data")
    return parser


def main(argv=None):
    """Run one command; a :class:`BookError` is printed as ``error: ...`` with exit status 1."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "collect":
            out = Path(args.out) if args.out else BOOK / args.preset
            print(format_report(collect(args.preset, args.nb_dir, out, args.seed_nb_dir, args.png_limit), out))
        elif args.command == "landing":
            out = Path(args.out)
            write_if_changed(out, landing(args.preset, args.data_dir, src=out.parent, toc=toctrees(out.parent)))
            print(f"wrote {out}")
        else:
            start = time.perf_counter()
            index = build(args.preset, args.notebooks, args.src, args.out, args.data_dir)
            print(f"book of the {args.preset} preset: {index} ({time.perf_counter() - start:.0f} s)")
    except BookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
