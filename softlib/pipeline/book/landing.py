"""The landing page of the book: ``book/landing.md`` filled with the numbers of ``data/<preset>/*.json``."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ._common import BOOK, BookError

#: a line of caution shown on the landing page of a preset
PRESET_NOTES = {
    "quick": ("```{note}\nThe quick preset is a smoke test: N = 500, temperatures 0.60 to 1.00, runs of "
              "100-200 $\\tau$. It checks that the pipeline runs end to end; compare signs, not values. "
              "The reproduction is the paper preset (`make paper`, then `make book`).\n```"),
    "paper": ("```{note}\nThe paper preset: N = 1000 (the paper uses 4000), temperatures 0.47 to 0.80, two "
              "independent samples at $T \\le 0.50$, and one N = 4000 run at $T = 0.60$ for the "
              "finite-size check.\n```"),
}


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
