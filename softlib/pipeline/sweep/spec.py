"""The sweep file and the stage graph: which notebook declares which parameter, which stages a
change reruns, and the validated :class:`Sweep` (see the package doc for the file format)."""
from __future__ import annotations

import ast
import difflib
import itertools
import json
import re
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
    from ..layout import repository_root as root

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
