"""The points of a sweep on a main build: their folders, what they link and copy from the main build,
the checks that the main build is the one swept, and running one point's notebooks."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from .spec import (BUILD_PRODUCTS, DATA_PRODUCTS, RESERVED, STAGES, UNREAD, SweepError, executed_parameters,
                   notebook_parameters, repository_root, stages_to_run, upstream)


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
            from ..dataset import load_dataset

            dataset = Path(dataset).resolve()
            name = load_dataset(dataset).name
        return cls(name, preset, dataset or None, *(Path(p).absolute() for p in (build_root, data_root, fig_root)))

    @property
    def layout(self):
        """The main build's :class:`softlib.pipeline.layout.Layout` (all its paths)."""
        from ..layout import Layout

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
        from ..layout import Layout

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

    from ...io.store import read_json

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
    from ...io.store import atomic_write_bytes

    atomic_write_bytes(dst, Path(src).read_bytes())


def _copy_tree(dst, src):
    for f in sorted(Path(src).glob("*.json")):
        _copy(Path(dst) / f.name, f)


def _point_record(point, main):
    return {"point": point.name, "values": point.values, "changed": point.changed, "stages": list(point.stages),
            "main": main}


def _check_record(point, main):
    from ...io.store import read_json, write_json

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
    from ..notebook import run

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
