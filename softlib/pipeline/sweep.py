"""Parameter sweeps: a grid over notebook parameters, each point rerun from the first stage it changes.

``make sweep SWEEP=sweeps/window.toml`` (mk/sweep.mk) calls ``python -m softlib.pipeline.sweep run``; it
works on the build of a preset (``PRESET=quick|paper``) or of a data set (``DATASET=my.toml``), which must
have been analysed first (``make quick``, ``make paper``, ``make analysis DATASET=...``).

The sweep file (TOML; unknown keys are refused)::

    name = "window"                 # optional (default: the file name); names the folders and the table
    description = "p_hop window"    # optional
    [grid]                          # one or more parameters, each with a list of values: every combination
    window = [15, 30, 45, 75]       # is one point
    [fixed]                         # optional: parameters set at every point (e.g. calibration = "smeared")

A parameter must be declared by at least one of the analysis notebooks 02-06 (those whose numbers reach
``results.json``; 07 and 08 are not run) and is passed to every notebook of the point that declares it.

**Stages.** A parameter enters at the first of 02-06 that declares it (``delta`` enters at 03 with the
paper's calibration, for which 02 uses it only in the smeared variant's c0, c1, and at 02 with
``calibration = "smeared"``). A point reruns the entry stages of the parameters whose values differ from
the main build's and every stage downstream of them (02 -> 03 -> 04, 05 -> 06; the Makefile's rules),
where the main build's value of a parameter is the one its executed notebook was given
(``<build>/<name>/nb``), else the notebook's default.

**Folders.** Point ``window-30`` of sweep ``window`` on the quick preset::

    build/quick/sweeps/window/window-30/point.json    the point: values, changed values, stages
    build/quick/sweeps/window/window-30/build/quick/  its build folder: nb/ (the executed notebooks), tmp/,
        runs -> build/quick/runs                      symlinks to the main build's outputs of the stages
        softness -> build/quick/softness              the point does not rerun (read only), own folders
        structure -> build/quick/structure            and files for those it reruns
    build/quick/sweeps/window/window-30/data/quick/   its data folder: simulate/ and the json of the stages
                                                      not rerun copied from data/quick, the others written
    build/quick/sweeps/window/window-30/figures/quick/
    data/quick/sweeps/window.csv, window.json         the collated table and its provenance
    figures/quick/sweeps/window.png, window.pdf       headline numbers against the swept parameter

So the committed ``data/<name>/*.json`` and the main softness store are never written. A point whose values
are all the main build's reuses its results (``data/<name>/*.json`` copied, nothing run). A point whose
``results.json`` exists is not run again (the notebook runner publishes atomically); within an interrupted
point, a stage whose executed notebook exists and is newer than those of its rerun upstream stages is kept.
The main build's results.json must come from the build swept (its softness bins are those of the build's
rearrangements_tables.npz), else nothing runs. A point that fails (e.g. a window too long for the runs) is
reported with the notebook's error, in the log and in ``<sweep>.json``; the others go on and are collated.

What a point leaves out: notebook 07 (its numbers are not in results.json, so a point's COMPARISON.md has no
row for it) and the finite-size comparison of the paper preset (``finite_size_preset`` is not passed).

Commands: ``python -m softlib.pipeline.sweep run|plan|collate SWEEP.toml [--preset P] [--dataset D]
[--build-root B] [--data-root D] [--fig-root F] [--log-output]``; ``plan`` says what each point would rerun
and which of the main build's outputs are missing, without writing anything; ``collate`` rewrites the table
and figure from the points done.
"""
from __future__ import annotations

import ast
import difflib
import itertools
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

#: the analysis notebooks a sweep may rerun, in pipeline order
STAGES = ("02_calibrate", "03_local_softness", "04_lifetime", "05_rearrangements", "06_arrhenius")
#: the stages each stage reads (the Makefile's prerequisites among STAGES)
NEEDS = {"02_calibrate": (), "03_local_softness": ("02_calibrate",), "04_lifetime": ("03_local_softness",),
         "05_rearrangements": ("03_local_softness",), "06_arrhenius": ("04_lifetime", "05_rearrangements")}
#: what each stage writes under <build>/<name> (linked from the main build where the stage is not rerun)
BUILD_PRODUCTS = {"02_calibrate": ("structure",), "03_local_softness": ("softness",),
                  "05_rearrangements": ("rearrangements_tables.npz",)}
#: build products no later notebook reads (linked where they exist, not required)
UNREAD = ("structure",)
#: what each stage writes under <data>/<name> (copied from the main build where the stage is not rerun)
DATA_PRODUCTS = {"02_calibrate": ("calibration.json",), "03_local_softness": ("local_softness.json",),
                 "04_lifetime": ("lifetime.json",), "05_rearrangements": ("rearrangements.json",),
                 "06_arrhenius": ("results.json", "COMPARISON.md")}
#: notebooks that declare parameters but are not run by a sweep (their numbers are not in results.json)
NOT_RUN = ("07_predictors", "08_propensity")
#: parameters the sweep sets itself, and why they cannot be swept
RESERVED = {"preset": "the preset comes from PRESET", "dataset": "the data set comes from DATASET",
            "build_dir": "each point gets its own build folder", "data_dir": "each point gets its own data folder",
            "fig_dir": "each point gets its own figure folder",
            "softness_dir": "a point reads its own softness (linked or recomputed)",
            "calibration_file": "a point reads its own calibration.json (copied or recomputed)",
            "trajectories": "a sweep reuses the main build's runs",
            "finite_size_preset": "the finite-size run is analysed with the main build's parameters only"}
#: allowed values of parameters that take a fixed set of choices
CHOICES = {"calibration": ("paper", "smeared")}
TOP_KEYS = {"name": "name of the sweep (optional; default: the file name)", "description": "free text (optional)",
            "grid": "table of parameters, each with a list of values (required)",
            "fixed": "table of parameters set at every point (optional)"}
MAIN = "main"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_VALUE = re.compile(r"^[A-Za-z0-9_.\-+]+$")


class SweepError(ValueError):
    """A sweep file or a build that cannot be swept; the message names the problem and the fix."""


# ---------------------------------------------------------------------------------------------- notebooks
def repository_root():
    """The checkout that holds softlib (its ``notebooks/`` are the ones run)."""
    from .layout import repository_root as root

    return root() or Path.cwd()


def declared_parameters(source):
    """``{name: default}`` of the cell tagged ``parameters`` of a percent-format notebook.

    Parameters
    ----------
    source : path
        A ``notebooks/NN_name.py`` file.

    Returns
    -------
    dict
        Defaults as Python values (``ast.literal_eval``); None where the default is not a literal.
    """
    text = Path(source).read_text()
    m = re.search(r'^# %% tags=\["parameters"\][^\n]*\n(.*?)(?=^# %%|\Z)', text, re.DOTALL | re.MULTILINE)
    if m is None:
        raise SweepError(f"{source} has no cell tagged 'parameters' (# %% tags=[\"parameters\"])")
    out = {}
    for node in ast.parse(m.group(1)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                out[node.targets[0].id] = None
    return out


def notebook_parameters(root=None, stages=STAGES + NOT_RUN):
    """``{stage: {name: default}}`` of the notebooks of ``root/notebooks`` (those that exist)."""
    nb = Path(root or repository_root()) / "notebooks"
    return {s: declared_parameters(nb / f"{s}.py") for s in stages if (nb / f"{s}.py").exists()}


def executed_parameters(executed):
    """The parameters papermill injected into an executed notebook (``{}`` when it does not exist)."""
    p = Path(executed)
    if not p.exists():
        return {}
    meta = json.loads(p.read_text()).get("metadata", {})
    return dict(meta.get("papermill", {}).get("parameters") or {})


# ---------------------------------------------------------------------------------------------- the file
@dataclass(frozen=True)
class Sweep:
    """A parsed and validated sweep file (:func:`load_sweep`)."""

    name: str
    path: Path
    grid: dict                   # {parameter: tuple of values}, in the file's order
    fixed: dict = field(default_factory=dict)
    description: str = ""

    @property
    def parameters(self):
        """Every parameter the sweep sets: the grid's, then the fixed ones."""
        return list(self.grid) + [k for k in self.fixed if k not in self.grid]

    def points(self):
        """``[(point name, {parameter: value})]``: every combination of the grid, fixed values added."""
        keys = list(self.grid)
        out = []
        for combo in itertools.product(*(self.grid[k] for k in keys)):
            values = dict(zip(keys, combo))
            out.append((point_name(values), {**values, **self.fixed}))
        return out


def format_value(v):
    """A value as it appears in a point name: ``15`` and ``15.0`` -> '15', 0.05 -> '0.05', True -> 'true'."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)).removesuffix(".0")
    return str(v)


def point_name(values):
    """Folder name of a point: ``window-30``, ``delta-0.05_window-30`` (the grid values, in order)."""
    return "_".join(f"{k}-{format_value(v)}" for k, v in values.items())


def _unknown_parameter(name, declared, where):
    run = {s: p for s, p in declared.items() if s in STAGES}
    others = [s for s, p in declared.items() if s not in STAGES and name in p]
    if others:
        return SweepError(f"{where}: {name!r} is declared only by {', '.join(others)}, which a sweep does not run "
                          "(their numbers are not in results.json); sweep a parameter of notebooks 02-06")
    every = sorted({p for ps in run.values() for p in ps} - set(RESERVED))
    close = difflib.get_close_matches(name, every, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listing = "; ".join(f"{s}: {', '.join(k for k in p if k not in RESERVED)}" for s, p in run.items())
    return SweepError(f"{where}: unknown parameter {name!r}{hint}. A sweep parameter must be declared by one of "
                      f"the notebooks it runs, which declare: {listing}")


def _check_values(name, values, default, where):
    kinds = {bool: "true or false", str: "a string", int: "a number", float: "a number"}
    for v in values:
        if not isinstance(v, (bool, int, float, str)):
            raise SweepError(f"{where}: {name} = {v!r}: a sweep value must be a number, a string or a boolean "
                             "(lists and tables cannot name a point)")
        if isinstance(v, str) and not _VALUE.match(v):
            raise SweepError(f"{where}: {name} = {v!r}: a string value may hold letters, digits and '_.-+' only "
                             "(it names the point's folder)")
        if default is not None and type(default) in kinds:
            want = float if type(default) in (int, float) else type(default)
            have = float if type(v) in (int, float) and not isinstance(v, bool) else type(v)
            if want is not have:
                raise SweepError(f"{where}: {name} = {v!r}, but the notebooks expect {kinds[type(default)]} "
                                 f"(default {default!r})")
        if name in CHOICES and v not in CHOICES[name]:
            raise SweepError(f"{where}: {name} = {v!r} is not one of {', '.join(map(repr, CHOICES[name]))}")


def _default_of(name, declared):
    return next(declared[s][name] for s in STAGES if s in declared and name in declared[s])


def _check_parameter(name, values, declared, where):
    if name in RESERVED:
        raise SweepError(f"{where}: {name!r} cannot be swept: {RESERVED[name]}")
    if not any(name in p for s, p in declared.items() if s in STAGES):
        raise _unknown_parameter(name, declared, where)
    _check_values(name, values, _default_of(name, declared), where)


def parse_sweep(data, path, declared=None):
    """Validate the contents ``data`` (a dict, as from tomllib) of the sweep file ``path``.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    path : path
        The file (its stem is the default name; messages name it).
    declared : dict, optional
        ``{stage: {parameter: default}}`` (default: :func:`notebook_parameters` of this checkout).

    Returns
    -------
    Sweep
    """
    path = Path(path)
    declared = notebook_parameters() if declared is None else declared
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise SweepError(f"{path}: unknown key(s) {unknown}; a sweep file takes "
                         + "; ".join(f"{k}: {v}" for k, v in TOP_KEYS.items()))
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        raise SweepError(f"{path}: name must be letters, digits, '_', '-' and '.' (it names the folders and "
                         f"the table), got {name!r}")
    grid, fixed = data.get("grid"), data.get("fixed", {})
    if not isinstance(grid, dict) or not grid:
        raise SweepError(f"{path}: a [grid] table with at least one parameter is required, e.g.\n[grid]\n"
                         "window = [15, 30, 45, 75]")
    if not isinstance(fixed, dict):
        raise SweepError(f"{path}: [fixed] must be a table of parameter = value")
    out_grid = {}
    for k, vs in grid.items():
        if not isinstance(vs, list) or not vs:
            raise SweepError(f"{path}: [grid] {k} must be a non-empty list of values, e.g. {k} = [1, 2]")
        _check_parameter(k, vs, declared, f"{path}: [grid]")
        names = [format_value(v) for v in vs]
        if len(set(names)) != len(names):
            raise SweepError(f"{path}: [grid] {k} lists a value twice ({vs}); each value is one point")
        out_grid[k] = tuple(vs)
    for k, v in fixed.items():
        if k in grid:
            raise SweepError(f"{path}: {k!r} is both in [grid] and in [fixed]: keep one")
        _check_parameter(k, [v], declared, f"{path}: [fixed]")
    return Sweep(name=name, path=path.resolve(), grid=out_grid, fixed=dict(fixed),
                 description=str(data.get("description", "")))


def load_sweep(path, declared=None):
    """Read and validate a sweep file; raise :class:`SweepError` naming the key and the fix."""
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise SweepError(f"no sweep file {path}: give a TOML file such as sweeps/window.toml")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{path} is not valid TOML: {e}") from None
    return parse_sweep(data, path, declared)


# ---------------------------------------------------------------------------------------------- stages
def downstream(stage):
    """``stage`` and every stage that reads it, directly or not, in pipeline order."""
    hit = {stage}
    for s in STAGES:
        if any(n in hit for n in NEEDS[s]):
            hit.add(s)
    return tuple(s for s in STAGES if s in hit)


def upstream(stage):
    """Every stage ``stage`` reads, directly or not (not itself), in pipeline order."""
    hit, todo = set(), list(NEEDS[stage])
    while todo:
        s = todo.pop()
        if s not in hit:
            hit.add(s)
            todo += NEEDS[s]
    return tuple(s for s in STAGES if s in hit)


def entry_stage(name, values, main, declared):
    """The first stage a parameter changes at a point (see the module doc for ``delta``).

    Parameters
    ----------
    name : str
    values : dict
        The point's values (to read its ``calibration``).
    main : dict
        The main build's values (the ``calibration`` when the point does not set it).
    declared : dict
        ``{stage: {parameter: default}}``.
    """
    stages = [s for s in STAGES if name in declared.get(s, {})]
    if not stages:
        raise _unknown_parameter(name, declared, "sweep")
    if name == "delta" and values.get("calibration", main.get("calibration", "paper")) != "smeared":
        stages = [s for s in stages if s != "02_calibrate"] or stages
    return stages[0]


def stages_to_run(changed, values, main, declared):
    """The stages a point reruns: the entry stages of its ``changed`` parameters and all downstream of them."""
    hit = {s for k in changed for s in downstream(entry_stage(k, values, main, declared))}
    return tuple(s for s in STAGES if s in hit)


# ---------------------------------------------------------------------------------------------- folders
@dataclass(frozen=True)
class Target:
    """The main build a sweep starts from: a preset or a data set, and the three roots."""

    name: str
    preset: str = "quick"
    dataset: Path | None = None
    build_root: Path = Path("build")
    data_root: Path = Path("data")
    fig_root: Path = Path("figures")

    @classmethod
    def make(cls, preset="quick", dataset=None, build_root="build", data_root="data", fig_root="figures"):
        """A Target with absolute roots; ``dataset`` (a data set file) gives the name, else ``preset``."""
        name = preset
        if dataset:
            from .dataset import load_dataset

            dataset = Path(dataset).resolve()
            name = load_dataset(dataset).name
        return cls(name, preset, dataset or None, *(Path(p).absolute() for p in (build_root, data_root, fig_root)))

    @property
    def layout(self):
        """The main build's :class:`softlib.pipeline.layout.Layout` (all its paths)."""
        from .layout import Layout

        return Layout(self.name, self.build_root, self.data_root, self.fig_root)

    @property
    def build(self):
        return self.layout.build

    @property
    def data(self):
        return self.layout.data

    @property
    def figures(self):
        return self.layout.figures

    def folder(self, sweep):
        """``<build>/<name>/sweeps/<sweep>``: the points' folders."""
        return self.build / "sweeps" / sweep

    def table(self, sweep):
        """``<data>/<name>/sweeps/<sweep>.csv``."""
        return self.data / "sweeps" / f"{sweep}.csv"

    def figure(self, sweep):
        """``<figures>/<name>/sweeps/<sweep>`` (savefig adds .png and .pdf)."""
        return self.figures / "sweeps" / sweep


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its values, what differs from the main build, the stages it reruns, its folder."""

    name: str
    values: dict
    changed: dict
    stages: tuple
    folder: Path
    target_name: str

    @property
    def layout(self):
        """The point's own :class:`softlib.pipeline.layout.Layout` (build, data, figures under its folder)."""
        from .layout import Layout

        return Layout(self.target_name, self.folder / "build", self.folder / "data", self.folder / "figures")

    @property
    def build_dir(self):
        return self.layout.build_dir

    @property
    def data_dir(self):
        return self.layout.data_dir

    @property
    def fig_dir(self):
        return self.layout.fig_dir

    @property
    def build(self):
        return self.layout.build

    @property
    def data(self):
        return self.layout.data

    @property
    def results(self):
        return self.layout.json("results")

    def executed(self, stage):
        return self.build / "nb" / f"{stage}.ipynb"

    @property
    def reused(self):
        """True when every value is the main build's: its results are copied, nothing runs."""
        return not self.stages


def main_parameters(target, declared):
    """``{stage: {parameter: value}}`` the main build's executed notebooks were given (reserved ones left out)."""
    out = {}
    for s in STAGES:
        got = executed_parameters(target.build / "nb" / f"{s}.ipynb")
        out[s] = {k: v for k, v in got.items() if k not in RESERVED and k in declared.get(s, {})}
    return out


def main_values(names, main_params, declared):
    """The main build's value of each parameter: given to its first notebook, else that notebook's default."""
    out = {}
    for k in names:
        s = next(s for s in STAGES if k in declared.get(s, {}))
        out[k] = main_params.get(s, {}).get(k, declared[s][k])
    return out


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b and type(a) is type(b)
    return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)


def plan(sweep, target, declared=None, main_params=None):
    """The points of ``sweep`` on ``target``: values, changed values, stages to rerun, folders.

    Returns
    -------
    (points, main) : list of :class:`Point`, and the main build's values of the swept parameters.
    """
    declared = notebook_parameters() if declared is None else declared
    main_params = main_parameters(target, declared) if main_params is None else main_params
    main = main_values(sweep.parameters + ["calibration"], main_params, declared)
    points = []
    for name, values in sweep.points():
        changed = {k: v for k, v in values.items() if not _same(v, main[k])}
        points.append(Point(name, values, changed, stages_to_run(changed, values, main, declared),
                            target.folder(sweep.name) / name, target.name))
    return points, {k: main[k] for k in sweep.parameters}


def _how(target):
    return (f"make analysis DATASET={target.dataset}" if target.dataset else
            f"make analysis PRESET={target.preset} BUILD_ROOT={target.build_root}")


def _require(path, what, target):
    if not Path(path).exists():
        raise SweepError(f"{path} is missing: the sweep reuses the main build's {what}; run `{_how(target)}` "
                         "first")


def recorded_build(results):
    """The build folder a results.json names in its provenance (that of its tables), or None."""
    ins = (results.get("provenance", {}).get("parameters", {}) or {}).get("inputs") or []
    tabs = [Path(p) for p in ins if str(p).endswith("rearrangements_tables.npz")]
    return tabs[0].parent if tabs else None


def check_main(target):
    """Raise :class:`SweepError` when ``<data>/<name>/results.json`` was not computed from ``<build>/<name>``.

    The softness bins of results.json must be those of the build's rearrangements_tables.npz (a check on
    content, so a moved build folder still passes): a sweep that reused results of one build and reran
    points on another would compare two different sets of runs.
    """
    import numpy as np

    from ..io.store import read_json

    res_path, tab_path = target.data / "results.json", target.build / "rearrangements_tables.npz"
    if not (res_path.exists() and tab_path.exists()):
        return
    res = read_json(res_path)
    with np.load(tab_path) as tabs:
        edges = np.asarray(tabs["edges"], float)
    bins = np.asarray(res.get("softness_bins") or [], float)
    if bins.shape == edges.shape and np.allclose(bins, edges, rtol=1e-9, atol=0.0):
        return
    made = recorded_build(res)
    where = f" (its provenance names {made.parent})" if made else ""
    raise SweepError(f"{res_path} was not computed from the build {target.build} (their softness bins differ)"
                     f"{where}: give the build root it came from (BUILD_ROOT=...), or rerun "
                     f"`{_how(target)}` so that the two agree")


def inputs(point, target):
    """``{path: what}``: the main build's outputs a point reads (all must exist before it runs)."""
    if point.reused:
        return {target.data / "results.json": "results (notebook 06)"}
    need = {target.data / "simulate": "run summaries (notebook 01 or 02)"}
    if target.dataset is None:
        need[target.build / "runs"] = "simulations (notebook 01)"
    ups = {u for s in point.stages for u in upstream(s)} - set(point.stages)
    for s in sorted(ups, key=STAGES.index):
        for item in BUILD_PRODUCTS.get(s, ()):
            if item not in UNREAD:
                need[target.build / item] = f"output of {s}"
        for item in DATA_PRODUCTS[s]:
            need[target.data / item] = f"output of {s}"
    return need


def missing_inputs(point, target):
    """The paths of :func:`inputs` that do not exist, as 'path (what)' lines."""
    return [f"{p} ({what})" for p, what in inputs(point, target).items() if not p.exists()]


def _link(dst, src):
    dst, src = Path(dst), Path(src)
    if dst.is_symlink() and Path(dst.readlink()) == src:
        return
    if dst.is_symlink():
        dst.unlink()
    elif dst.exists():
        raise SweepError(f"{dst} exists and is not a link to {src}: the point's folder holds outputs of another "
                         f"plan; remove {dst.parent.parent.parent} and run the sweep again")
    dst.symlink_to(src, target_is_directory=src.is_dir())


def _copy(dst, src):
    from ..io.store import atomic_write_bytes

    atomic_write_bytes(dst, Path(src).read_bytes())


def _copy_tree(dst, src):
    for f in sorted(Path(src).glob("*.json")):
        _copy(Path(dst) / f.name, f)


def _point_record(point, main):
    return {"point": point.name, "values": point.values, "changed": point.changed, "stages": list(point.stages),
            "main": main}


def _check_record(point, main):
    from ..io.store import read_json, write_json

    path = point.folder / "point.json"
    rec = _point_record(point, main)
    if path.exists():
        old = read_json(path)
        if {k: old.get(k) for k in ("values", "stages")} != {k: rec[k] for k in ("values", "stages")}:
            raise SweepError(f"{path} describes another plan (values {old.get('values')}, stages "
                             f"{old.get('stages')}; now {rec['values']}, {rec['stages']}), e.g. after the main "
                             f"build changed: remove {point.folder} to run the point again")
    write_json(path, rec)


def prepare(point, target):
    """Create the folders of a point: links to the main build's outputs it reads, copies of its json.

    The main build's outputs of the stages the point does not rerun must exist (:class:`SweepError` naming
    the make command otherwise); nothing in the main build is written.
    """
    for path, what in inputs(point, target).items():
        _require(path, what, target)
    for d in (point.build, point.data, point.fig_dir / target.name):
        d.mkdir(parents=True, exist_ok=True)
    if (target.build / "runs").exists():  # a data set's runs/ holds caches only, and may be absent
        _link(point.build / "runs", target.build / "runs")
    _copy_tree(point.data / "simulate", target.data / "simulate")
    needed = {u for s in point.stages for u in upstream(s)} - set(point.stages)
    for s in STAGES:
        if s in point.stages:
            continue
        for item in BUILD_PRODUCTS.get(s, ()):
            if (target.build / item).exists():
                _link(point.build / item, target.build / item)
        for item in DATA_PRODUCTS[s]:
            if s in needed:
                _copy(point.data / item, target.data / item)


def reuse_main(point, target):
    """Copy the main build's json and COMPARISON.md into a point whose values are all the main build's."""
    for path, what in inputs(point, target).items():
        _require(path, what, target)
    point.data.mkdir(parents=True, exist_ok=True)
    for s in STAGES:
        for item in DATA_PRODUCTS[s]:
            if (target.data / item).exists() and item != "results.json":
                _copy(point.data / item, target.data / item)
    _copy(point.results, target.data / "results.json")  # last: its presence marks the point done


def stage_arguments(stage, point, target, main_params, declared):
    """The papermill arguments of one stage of a point: the folders, the main build's own parameters of that
    notebook, and the point's values of the parameters the notebook declares (typed, through ``-y``)."""
    import yaml

    args = ["-p", "preset", target.preset]
    if target.dataset is not None:
        args += ["-p", "dataset", str(target.dataset)]
    args += ["-p", "build_dir", str(point.build_dir), "-p", "data_dir", str(point.data_dir),
             "-p", "fig_dir", str(point.fig_dir)]
    values = dict(main_params.get(stage, {}))
    values.update({k: v for k, v in point.values.items() if k in declared.get(stage, {})})
    if values:
        args += ["-y", yaml.safe_dump(values, default_flow_style=True).strip()]
    return args


def _fresh(point, stage):
    """True when the stage's executed notebook exists and is newer than those of its rerun upstream stages."""
    nb = point.executed(stage)
    if not nb.exists():
        return False
    ups = [point.executed(u) for u in upstream(stage) if u in point.stages]
    return all(u.exists() and u.stat().st_mtime <= nb.stat().st_mtime for u in ups)


def run_point(point, target, main, main_params, declared, log_output=False, log=print):
    """Run one point (see the module doc); returns 'done before', 'reused' or 'ran'."""
    from .notebook import run

    if point.results.exists():
        return "done before"
    point.folder.mkdir(parents=True, exist_ok=True)
    _check_record(point, main)
    if point.reused:
        reuse_main(point, target)
        return "reused"
    prepare(point, target)
    root = repository_root()
    for stage in point.stages:
        if _fresh(point, stage):
            log(f"  {stage}: done before")
            continue
        t0 = time.monotonic()
        run(root / "notebooks" / f"{stage}.py", point.executed(stage),
            stage_arguments(stage, point, target, main_params, declared), cwd=root, log_output=log_output)
        log(f"  {stage}: {time.monotonic() - t0:.0f} s")
    if not point.results.exists():
        raise SweepError(f"{point.results} was not written although 06_arrhenius ran: see {point.executed(STAGES[-1])}")
    return "ran"


# ---------------------------------------------------------------------------------------------- collation
def _row(quantity, value, error=None, T=None, bin=None):
    return {"quantity": quantity, "T": T, "bin": bin, "value": value, "error": error}


def _interval_rows(quantity, value, low, high):
    if value is None:
        return []
    half = None if low is None or high is None else 0.5 * (high - low)
    return [_row(quantity, value, half), _row(f"{quantity}_low", low), _row(f"{quantity}_high", high)]


def results_rows(results):
    """The headline numbers of one ``results.json`` as tidy rows (quantity, T, bin, value, error).

    * ``fraction_above_peak``, ``baseline_above_peak``, ``fraction_above_median``: value and bootstrap error at
      the lowest temperature (column T);
    * ``onset_temperature`` (the fit Fig. 5 shows), ``onset_temperature_all``, ``onset_temperature_selective``:
      the crossing, error = half the width of its bootstrap interval, whose ends are the ``_low`` and ``_high``
      rows; ``onset_fit_selective``: 1 when the shown fit is the selective one, else 0;
    * ``tau_alpha``, ``p_c``: per temperature;
    * ``softness_bin_center`` (error: half the bin width), ``delta_E``, ``ln_P0`` (with errors), ``chi2_dof``:
      per softness bin (column bin: 0 is the bin of lowest S, in the order of ``softness_bins``);
    * ``barrier_slope_S``, ``barrier_slope_inv_S`` (slope of Delta E against S and 1/S, with errors),
      ``barrier_r2_S``, ``barrier_r2_inv_S``.

    A number results.json does not have (None, e.g. a selective fit that was impossible) gives no row.
    """
    rows, T0 = [], results["fraction_above_peak_T"]
    for q in ("fraction_above_peak", "baseline_above_peak", "fraction_above_median"):
        rows.append(_row(q, results[q]["value"], results[q]["error"], T=T0))
    on = results["onset_temperature"]
    rows += _interval_rows("onset_temperature", on["value"], on["low"], on["high"])
    rows.append(_row("onset_fit_selective", 0.0 if on["fit"] == "all temperatures" else 1.0))
    for fit in ("all", "selective"):
        d = results.get(f"onset_temperature_{fit}") or {}
        rows += _interval_rows(f"onset_temperature_{fit}", d.get("T"), d.get("low"), d.get("high"))
    for q in ("tau_alpha", "p_c"):
        rows += [_row(q, v, T=float(k)) for k, v in sorted(results[q].items(), key=lambda kv: float(kv[0]))]
    e = results["softness_bins"]
    rows += [_row("softness_bin_center", 0.5 * (e[k] + e[k + 1]), 0.5 * (e[k + 1] - e[k]), bin=k)
             for k in range(len(e) - 1)]
    for q, err in (("delta_E", "delta_E_error"), ("ln_P0", "ln_P0_error"), ("chi2_dof", None)):
        rows += [_row(q, v, None if err is None else results[err][k], bin=k) for k, v in enumerate(results[q])]
    for key, q in (("S", "S"), ("inv_S", "inv_S")):
        tr = results["barrier_trend"][key]
        rows += [_row(f"barrier_slope_{q}", tr["slope"], tr["slope_err"]), _row(f"barrier_r2_{q}", tr["r2"])]
    return [r for r in rows if r["value"] is not None]


COLUMNS_HEAD, COLUMNS_TAIL = ("sweep", "point"), ("quantity", "T", "bin", "value", "error")


def collate(sweep_name, parameters, points):
    """One tidy table of the headline numbers of every point.

    Parameters
    ----------
    sweep_name : str
    parameters : list of str
        The swept (and fixed) parameters: one column each.
    points : list of (point name, {parameter: value}, results dict)

    Returns
    -------
    pandas.DataFrame with columns sweep, point, <parameters>, quantity, T, bin, value, error.
    """
    import pandas as pd

    rows = []
    for name, values, results in points:
        head = {"sweep": sweep_name, "point": name, **{k: values.get(k) for k in parameters}}
        rows += [{**head, **r} for r in results_rows(results)]
    cols = [*COLUMNS_HEAD, *parameters, *COLUMNS_TAIL]
    df = pd.DataFrame(rows, columns=cols)
    df["bin"] = df["bin"].astype("Int64")
    return df


def write_table(df, path):
    """Write the table as CSV, atomically."""
    from ..io.store import atomic_write_bytes

    atomic_write_bytes(path, df.to_csv(index=False).encode())
    return Path(path)


def read_table(path):
    """A sweep table written by :func:`write_table`."""
    import pandas as pd

    df = pd.read_csv(path)
    df["bin"] = df["bin"].astype("Int64")
    return df


def parameter_columns(df):
    """The parameter columns of a sweep table (between ``point`` and ``quantity``)."""
    cols = list(df.columns)
    return cols[cols.index("point") + 1: cols.index("quantity")]


# ---------------------------------------------------------------------------------------------- the sweep
def _collect(sweep, target, points, main):
    from ..io.store import read_json

    have = []
    if (target.data / "results.json").exists():
        have.append((MAIN, main, read_json(target.data / "results.json")))
    have += [(p.name, p.values, read_json(p.results)) for p in points if p.results.exists()]
    return collate(sweep.name, sweep.parameters, have)


def run_sweep(sweep, target, declared=None, log_output=False, log=print):
    """Run every point of ``sweep`` (a failed point is reported and the others go on), then collate.

    Returns
    -------
    dict: ``points`` (name, values, stages, status, seconds), ``table``, ``figure``, ``failed``.
    """
    from ..io.lock import FileLock

    declared = notebook_parameters() if declared is None else declared
    main_params = main_parameters(target, declared)
    points, main = plan(sweep, target, declared, main_params)
    check_main(target)
    folder = target.folder(sweep.name)
    folder.mkdir(parents=True, exist_ok=True)
    record, failed = [], []
    with FileLock(folder, what=f"sweep {sweep.name} of {target.name}"):
        for p in points:
            log(f"{p.name}: " + ("the main build's values: reuse its results" if p.reused else
                                 f"changed {p.changed}: rerun {', '.join(p.stages)}"))
            t0 = time.monotonic()
            try:
                status = run_point(p, target, main, main_params, declared, log_output, log)
            except (SweepError, RuntimeError, ValueError, OSError) as e:
                cause = notebook_error(p.build / "tmp", since=t0)
                status = f"failed: {e}" + (f"; the notebook stopped at {cause}" if cause else "")
                failed.append(p.name)
            record.append({"point": p.name, "values": p.values, "changed": p.changed, "stages": list(p.stages),
                           "status": status, "seconds": round(time.monotonic() - t0, 1), "folder": str(p.folder)})
            log(f"{p.name}: {status} ({record[-1]['seconds']:.0f} s)")
    out = publish(sweep, target, points, main, record)
    return {**out, "points": record, "failed": failed}


def notebook_error(folder, since=0.0):
    """'ename: evalue' of the error in the newest partial notebook of ``folder`` (written after the
    ``time.monotonic()`` value ``since`` was taken, as far as file times tell), or None."""
    now_wall, now_mono = time.time(), time.monotonic()
    nbs = sorted(Path(folder).glob("*.ipynb"), key=lambda f: f.stat().st_mtime) if Path(folder).is_dir() else []
    nbs = [f for f in nbs if f.stat().st_mtime >= now_wall - (now_mono - since) - 1.0]
    for f in reversed(nbs):
        try:
            cells = json.loads(f.read_text()).get("cells", [])
        except (OSError, ValueError):
            continue
        for c in cells:
            for o in c.get("outputs", []):
                if o.get("output_type") == "error":
                    return f"{o.get('ename')}: {o.get('evalue')}"
    return None


def publish(sweep, target, points, main, record=()):
    """Write the table, its provenance (``<sweep>.json`` beside it) and the figure from the points done."""
    from ..io.store import provenance, write_json
    from .plotting import savefig, use_style

    df = _collect(sweep, target, points, main)
    side = target.table(sweep.name).with_suffix(".json")
    if not record and side.exists():  # `collate` alone: keep what the last run said about each point
        from ..io.store import read_json

        record = read_json(side).get("points", [])
    table = write_table(df, target.table(sweep.name))
    write_json(table.with_suffix(".json"), {
        "sweep": sweep.name, "file": str(sweep.path), "description": sweep.description, "target": target.name,
        "grid": {k: list(v) for k, v in sweep.grid.items()}, "fixed": sweep.fixed, "main": main,
        "points": list(record), "table": str(table),
        "provenance": provenance(sweep=sweep.name, target=target.name, preset=target.preset,
                                 dataset=str(target.dataset or ""), build_root=str(target.build_root))})
    use_style()
    fig = plot_sweep(df, sweep.name)
    savefig(fig, target.figure(sweep.name).name, folder=target.figure(sweep.name).parent)
    return {"table": str(table), "figure": str(target.figure(sweep.name)) + ".png", "rows": len(df)}


# ---------------------------------------------------------------------------------------------- reading
def _sel(df, quantity, point=None):
    d = df[df["quantity"] == quantity]
    return d if point is None else d[d["point"] == point]


def _number(v):
    return None if v is None or math.isnan(float(v)) else float(v)


def _one(df, quantity, point):
    """(value, error) of a quantity without T or bin at one point; None where absent."""
    d = _sel(df, quantity, point)
    return (_number(d["value"].iloc[0]), _number(d["error"].iloc[0])) if len(d) else (None, None)


def _points(df):
    return [p for p in dict.fromkeys(df["point"]) if p != MAIN]


def onset_conclusion(df):
    """Does the onset temperature's interval contain the main build's value at every point?

    Compares the crossing of the fit the main build shows (all temperatures or the selective subset).
    Returns a dict: ``claim``, ``survives`` (True, False, or None without a main build or points), ``hold``,
    ``fail`` (point: why), ``sentence``.
    """
    pts = _points(df)
    sel, _ = _one(df, "onset_fit_selective", MAIN)
    fit = "selective" if sel == 1.0 else "all"
    label = "selective temperatures" if fit == "selective" else "all temperatures"
    q = f"onset_temperature_{fit}"
    ref, _ = _one(df, q, MAIN)
    claim = f"onset temperature (fit over {label})"
    if ref is None or not pts:
        return _no_data(claim, ref is None, pts)
    hold, fail = [], {}
    for p in pts:
        v, _ = _one(df, q, p)
        lo, hi = _one(df, f"{q}_low", p)[0], _one(df, f"{q}_high", p)[0]
        if v is None or lo is None or hi is None:
            fail[p] = "no crossing"
        elif lo <= ref <= hi:
            hold.append(p)
        else:
            fail[p] = f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
    head = f"The {claim}: the bootstrap interval contains the main build's T* = {ref:.3g}"
    return _verdict(claim, pts, hold, fail, head)


def fraction_conclusion(df):
    """Does the fraction of rearranging particles softer than the peak of P(S) stay above its baseline?

    'Clearly' above: by more than twice the combined standard error. Returns a dict as
    :func:`onset_conclusion`.
    """
    pts = _points(df)
    claim = "fraction of rearranging particles softer than the peak of P(S)"
    if not pts:
        return _no_data(claim, False, pts)
    hold, fail, clear = [], {}, []
    for p in pts:
        (v, e), (b, eb) = _one(df, "fraction_above_peak", p), _one(df, "baseline_above_peak", p)
        if v is None or b is None:
            fail[p] = "not measured"
            continue
        if v > b:
            hold.append(p)
        else:
            fail[p] = f"{v:.3g} <= baseline {b:.3g}"
        if v - b > 2 * math.hypot(e or 0.0, eb or 0.0):
            clear.append(p)
    T = _sel(df, "fraction_above_peak")["T"].dropna()
    at = f" (T = {T.iloc[0]:.2f})" if len(T) else ""
    head = f"The {claim}{at} is above its baseline (all particle-frames softer than the peak)"
    out = _verdict(claim, pts, hold, fail, head)
    out["clear"] = clear
    out["sentence"] += " " + _margin(clear, pts, "the margin exceeds two combined standard errors",
                                     "At no point is the margin above two combined standard errors: it is "
                                     "within the noise.")
    return out


def barrier_conclusion(df):
    """Does the slope of the barrier Delta E against S keep the main build's sign at every point?

    Returns a dict as :func:`onset_conclusion`, with ``sign`` (+1 or -1) and ``clear`` (points where
    |slope| exceeds twice its error).
    """
    pts = _points(df)
    ref, _ = _one(df, "barrier_slope_S", MAIN)
    claim = "trend of the barrier Delta E with the softness S"
    if ref is None or ref == 0 or not pts:
        return _no_data(claim, ref is None or ref == 0, pts)
    sign = 1 if ref > 0 else -1
    hold, fail, clear = [], {}, []
    for p in pts:
        v, e = _one(df, "barrier_slope_S", p)
        if v is None:
            fail[p] = "no fit"
            continue
        if v * sign > 0:
            hold.append(p)
        else:
            fail[p] = f"slope {v:.3g}"
        if e is not None and abs(v) > 2 * e:
            clear.append(p)
    word = "falls" if sign < 0 else "rises"
    head = f"The barrier {word} with S (main build: slope {ref:.3g})"
    out = _verdict(claim, pts, hold, fail, head)
    out.update(sign=sign, clear=clear)
    out["sentence"] += " " + _margin(clear, pts, "the slope exceeds twice its error",
                                     "At no point does the slope exceed twice its error: its sign is not resolved.")
    return out


def _margin(clear, pts, what, none):
    """A sentence on the points where a margin is significant: all of them, which ones, or ``none``."""
    if not clear:
        return none
    where = _at_all(len(pts)) if len(clear) == len(pts) else f"at {len(clear)} of {len(pts)} points ({', '.join(clear)})"
    return f"{what[0].upper()}{what[1:]} {where}."


def _at_all(n):
    return "at the only point" if n == 1 else f"at all {n} points"


def _no_data(claim, no_main, pts):
    why = ("the main build has no value to compare with" if no_main and pts else
           "no point of the sweep has results yet")
    return {"claim": claim, "survives": None, "hold": [], "fail": {}, "sentence": f"The {claim}: {why}."}


def _verdict(claim, pts, hold, fail, head):
    n = len(pts)
    if not fail:
        text = f"{head} {_at_all(n)}: this conclusion survives the sweep."
    else:
        which = "; ".join(f"{p}: {why}" for p, why in fail.items())
        text = (f"{head} at {len(hold)} of {n} points, not at {which}: this conclusion does not survive "
                "the sweep.")
    return {"claim": claim, "survives": not fail, "hold": hold, "fail": fail, "sentence": text}


def conclusions(df):
    """The three checks (:func:`onset_conclusion`, :func:`fraction_conclusion`, :func:`barrier_conclusion`)."""
    return [onset_conclusion(df), fraction_conclusion(df), barrier_conclusion(df)]


def headline_table(df):
    """One line per point: the swept values and the headline numbers as text ('0.51 +- 0.02')."""
    import pandas as pd

    rows = []
    for p in dict.fromkeys(df["point"]):
        d = df[df["point"] == p].iloc[0]
        row = {"point": p, **{c: d[c] for c in parameter_columns(df)}}
        for q, label in (("fraction_above_peak", "above peak"), ("baseline_above_peak", "baseline"),
                         ("barrier_slope_S", "dE/dS")):
            v, e = _one(df, q, p)
            row[label] = "" if v is None else f"{v:.3g} +- {e:.2g}"
        v, _ = _one(df, "onset_temperature", p)
        lo, hi = _one(df, "onset_temperature_low", p)[0], _one(df, "onset_temperature_high", p)[0]
        row["T* [interval]"] = "" if v is None else f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
        row["T* fit"] = "selective" if _one(df, "onset_fit_selective", p)[0] == 1.0 else "all"
        T = _sel(df, "p_c", p)["T"].min()
        for q in ("p_c", "tau_alpha"):
            d_q = _sel(df, q, p)
            v = d_q[d_q["T"] == T]["value"]
            row[f"{q} (T = {T:.2f})"] = f"{v.iloc[0]:.3g}" if len(v) else ""
        rows.append(row)
    return pd.DataFrame(rows).set_index("point")


def read_tables(layout, names=()):
    """``{sweep: table}`` of ``<data>/<name>/sweeps/*.csv`` (only ``names`` when given)."""
    folder = Path(layout.data) / "sweeps"
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if names:
        missing = [n for n in names if not (folder / f"{n}.csv").exists()]
        if missing:
            raise SweepError(f"no sweep table {', '.join(missing)} in {folder} (it has "
                             f"{[p.stem for p in paths]}): run make sweep SWEEP=sweeps/<name>.toml first")
        paths = [folder / f"{n}.csv" for n in names]
    return {p.stem: read_table(p) for p in paths}


def inventory(layout, tables):
    """A sentence on the tables found (or how to make one)."""
    folder = Path(layout.data) / "sweeps"
    if not tables:
        return (f"no sweep table in {folder}: `make sweep SWEEP=sweeps/window.toml` (PRESET=..., DATASET=...) "
                "writes one")
    lines = [f"{len(tables)} sweep table(s) in {folder}:"]
    for k, df in tables.items():
        lines.append(f"  {k}: {len(_points(df))} point(s) with results, parameters "
                     f"{', '.join(parameter_columns(df))}" + ("" if MAIN in set(df["point"]) else
                                                               "; no main build results to compare with"))
        lines += [f"    {name} FAILED: {why}" for name, why in failed_points(folder / f"{k}.json").items()]
    return "\n".join(lines)


def failed_points(sidecar):
    """``{point: status}`` of the points the last run of a sweep could not finish (from ``<sweep>.json``)."""
    from ..io.store import read_json

    if not Path(sidecar).exists():
        return {}
    return {p["point"]: p["status"].removeprefix("failed: ") for p in read_json(sidecar).get("points", [])
            if str(p.get("status", "")).startswith("failed")}


# ---------------------------------------------------------------------------------------------- figure
def _axis(df):
    """The x parameter (the first that varies among the points), its positions and tick labels."""
    import numpy as np

    cols = parameter_columns(df)
    pts = _points(df)
    rows = df.drop_duplicates("point").set_index("point")
    x = next((c for c in cols if rows.loc[pts, c].nunique() > 1), cols[0]) if pts else cols[0]
    vals = list(dict.fromkeys(rows.loc[pts + ([MAIN] if MAIN in rows.index else []), x]))
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                  for v in vals)
    pos = {v: (float(v) if numeric else float(k)) for k, v in enumerate(vals)}
    return x, {p: pos[rows.loc[p, x]] for p in rows.index}, (None if numeric else vals)


def _series(df, x):
    """{label: [points]}: points grouped by the values of the parameters other than ``x``."""
    rows = df.drop_duplicates("point").set_index("point")
    others = [c for c in parameter_columns(df) if c != x]
    out = {}
    for p in _points(df):
        label = ", ".join(f"{c} = {format_value(rows.loc[p, c])}" for c in others) or "sweep"
        out.setdefault(label, []).append(p)
    return out


def _main_line(ax, df, quantity, low=None, high=None):
    v, _ = _one(df, quantity, MAIN)
    if v is None:
        return
    ax.axhline(v, color="0.4", ls=":", lw=1, label="main build")
    if low and high:
        lo, hi = _one(df, low, MAIN)[0], _one(df, high, MAIN)[0]
        if lo is not None and hi is not None:
            ax.axhspan(lo, hi, color="0.85", zorder=0)


def _scalar_panel(ax, df, x, pos, series, quantity, yerr="error", **kw):
    for k, (label, pts) in enumerate(series.items()):
        xs, ys, lo, hi = [], [], [], []
        for p in pts:
            d = _sel(df, quantity, p)
            if not len(d):
                continue
            v = float(d["value"].iloc[0])
            xs.append(pos[p])
            ys.append(v)
            if yerr == "interval":
                low, high = _one(df, f"{quantity}_low", p)[0], _one(df, f"{quantity}_high", p)[0]
                lo.append(0.0 if low is None else v - low)
                hi.append(0.0 if high is None else high - v)
            else:
                lo.append(_number(d["error"].iloc[0]) or 0.0)
                hi.append(lo[-1])
        if xs:
            order = sorted(range(len(xs)), key=xs.__getitem__)
            ax.errorbar([xs[i] for i in order], [ys[i] for i in order],
                        yerr=[[lo[i] for i in order], [hi[i] for i in order]], capsize=3,
                        color=f"C{k}", label=label if len(series) > 1 else None, **kw)


def _curves_panel(ax, df, quantity, xq=None, key="T", err=True):
    import matplotlib

    pts = _points(df)
    cmap = matplotlib.colormaps["viridis"]
    for k, p in enumerate(pts + ([MAIN] if MAIN in set(df["point"]) else [])):
        d = _sel(df, quantity, p).sort_values(key)
        if not len(d):
            continue
        xs = d[key].astype(float).to_numpy() if xq is None else \
            _sel(df, xq, p).set_index("bin").loc[d["bin"], "value"].to_numpy()
        style = {"color": "k", "ls": "--", "label": MAIN} if p == MAIN else \
            {"color": cmap(0.88 * k / max(1, len(pts) - 1)), "label": p}
        ax.errorbar(xs, d["value"], yerr=d["error"].fillna(0) if err else None, marker="o", ms=3, capsize=2,
                    **style)


def plot_sweep(df, title=""):
    """Headline numbers against the swept parameter (grey dotted: the main build, band: its interval).

    Panels: (a) fraction above the peak of P(S) and its baseline, (b) onset temperature with its interval,
    (c) slope of Delta E against S, (d) Delta E per softness bin, (e) p_c and (f) tau_alpha per temperature.
    """
    from .figures import _plt
    from .plotting import S_LABEL, UNITS, legend_outside

    fig, axes = _plt().subplots(2, 3, figsize=(15, 8))
    a = axes.ravel()
    if not len(df):
        fig.text(0.5, 0.5, "no point has results yet", ha="center")
        return fig
    x, pos, ticks = _axis(df)
    series = _series(df, x)
    line = {} if ticks is None else {"ls": "none"}  # categories: no line between them
    _scalar_panel(a[0], df, x, pos, series, "fraction_above_peak", marker="o", **line)
    _scalar_panel(a[0], df, x, pos, {f"{k} baseline": v for k, v in series.items()}, "baseline_above_peak",
                  marker="s", mfc="none", **({"ls": "--"} | line))
    _main_line(a[0], df, "fraction_above_peak")
    a[0].set(ylabel="fraction", title="(a) rearranging softer than the peak (o), baseline (s)")
    sel, _ = _one(df, "onset_fit_selective", MAIN)
    q = "onset_temperature_selective" if sel == 1.0 else "onset_temperature_all"
    _scalar_panel(a[1], df, x, pos, series, q, yerr="interval", marker="o", **line)
    _main_line(a[1], df, q, f"{q}_low", f"{q}_high")
    a[1].set(ylabel=f"$T^*$ ({UNITS['T']})", title=f"(b) onset temperature ({q.rsplit('_', 1)[-1]} temperatures)")
    _scalar_panel(a[2], df, x, pos, series, "barrier_slope_S", marker="o", **line)
    _main_line(a[2], df, "barrier_slope_S")
    a[2].axhline(0, color="k", lw=0.8)
    a[2].set(ylabel=r"$d\Delta E/dS$", title=r"(c) slope of $\Delta E$ against $S$")
    for ax in a[:3]:
        ax.set_xlabel(x)
        if ticks is not None:
            ax.set_xticks(range(len(ticks)), [format_value(t) for t in ticks])
            ax.margins(x=0.25)
    _curves_panel(a[3], df, "delta_E", xq="softness_bin_center", key="bin")
    a[3].set(xlabel=S_LABEL, ylabel=rf"$\Delta E$ ({UNITS['E']})", title=r"(d) barrier per softness bin")
    _curves_panel(a[4], df, "p_c", err=False)
    a[4].set(xlabel=f"$T$ ({UNITS['T']})", ylabel=f"$p_c$ ({UNITS['S']})", title="(e) $p_c$")
    _curves_panel(a[5], df, "tau_alpha", err=False)
    a[5].set(xlabel=f"$T$ ({UNITS['T']})", ylabel=rf"$\tau_\alpha$ ({UNITS['t']})", yscale="log",
             title=r"(f) $\tau_\alpha$")
    legend_outside(a[5])
    if len(series) > 1:
        legend_outside(a[2])
    fig.suptitle(f"sweep {title}" if title else "sweep")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------- command line
def _plan_lines(sweep, target, points, main):
    lines = [(f"sweep {sweep.name} ({sweep.path}) on {target.name}: {len(points)} point(s); main build "
              f"{target.build} (values {main})")]
    for p in points:
        what = (f"the main build's values: copy {target.data}/*.json" if p.reused
                else f"rerun {', '.join(p.stages)}")
        state = " [done]" if p.results.exists() else ""
        lines.append(f"  {p.name}: {what} -> {p.folder}{state}")
        lines += [f"    MISSING {m}" for m in ([] if state else missing_inputs(p, target))]
    try:
        check_main(target)
    except SweepError as e:
        lines.append(f"MISMATCH {e}")
    if any(missing_inputs(p, target) for p in points if not p.results.exists()):
        lines.append(f"some inputs of the main build are missing: run `{_how(target)}` first")
    else:
        lines.append("the main build's outputs these points read: all present")
    lines.append(f"table {target.table(sweep.name)}, figure {target.figure(sweep.name)}.png")
    return lines


def _parse_args(argv):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m softlib.pipeline.sweep",
                                 description="Run a parameter sweep (plan: say what would run; collate: only "
                                             "the table and figure of the points done)")
    ap.add_argument("command", choices=("run", "plan", "collate"))
    ap.add_argument("sweep", help="a sweep file, e.g. sweeps/window.toml")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--dataset", default="", help="a data set file (replaces the preset's name)")
    ap.add_argument("--build-root", default="build")
    ap.add_argument("--data-root", default="data")
    ap.add_argument("--fig-root", default="figures")
    ap.add_argument("--log-output", action="store_true", help="papermill --log-output")
    return ap.parse_args(argv)


def main(argv=None):
    """Command line (mk/sweep.mk): ``run``, ``plan`` or ``collate`` a sweep file."""
    from ..io.lock import LockedError
    from .dataset import DatasetError

    a = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        sweep = load_sweep(a.sweep)
        target = Target.make(a.preset, a.dataset or None, a.build_root, a.data_root, a.fig_root)
        if a.command == "plan":
            points, main_ = plan(sweep, target)
            print("\n".join(_plan_lines(sweep, target, points, main_)))
            return 0
        if a.command == "collate":
            points, main_ = plan(sweep, target)
            out = publish(sweep, target, points, main_)
            print(f"wrote {out['table']} ({out['rows']} rows) and {out['figure']}")
            return 0
        t0 = time.monotonic()
        out = run_sweep(sweep, target, log_output=a.log_output)
    except (SweepError, DatasetError, LockedError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out['table']} ({out['rows']} rows) and {out['figure']} in {time.monotonic() - t0:.0f} s")
    if out["failed"]:
        print(f"error: point(s) {', '.join(out['failed'])} failed (see above); rerun the same command to retry "
              "them (points done are kept)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
