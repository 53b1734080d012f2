"""Running a sweep: every point in turn, a failed point reported and the others kept, then the table,
its provenance and the figure; and the command line (``python -m softlib.pipeline.sweep``)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .figure import plot_sweep
from .points import Target, _how, check_main, main_parameters, missing_inputs, plan, run_point
from .spec import MAIN, SweepError, load_sweep, notebook_parameters
from .table import collate, write_table


def _collect(sweep, target, points, main):
    from ...io.store import read_json

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
    from ...io.lock import FileLock

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
    from ...io.store import provenance, write_json
    from ..plotting import savefig, use_style

    df = _collect(sweep, target, points, main)
    side = target.table(sweep.name).with_suffix(".json")
    if not record and side.exists():  # `collate` alone: keep what the last run said about each point
        from ...io.store import read_json

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
    from ...io.lock import LockedError
    from ..dataset import DatasetError

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

