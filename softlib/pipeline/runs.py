"""Which runs of a preset the analysis may use."""
from __future__ import annotations


def select_runs(preset, summaries_dir, temperatures=None, require_equilibrated=True, runs_root=None):
    """The runs of a preset that downstream analysis may use, and why the others are left out.

    Parameters
    ----------
    preset : str
        Preset name (``softlib.pipeline.presets``).
    summaries_dir : path
        Folder of the per-run summaries written by notebook 01 (``<data>/<preset>/simulate``).
    temperatures : sequence of float, optional
        A subset of the preset's temperatures (default: all of them).
    require_equilibrated : bool
        Leave out samples whose summary says ``equilibrated: false``. With False, the summaries
        are not read at all (for trajectories that notebook 01 did not make).
    runs_root : path, optional
        Folder of the run directories (``<build>/<preset>/runs``): every selected run must be
        complete there (its ``run.json`` exists), else FileNotFoundError.

    Returns
    -------
    dict
        ``temperatures`` (sorted, each with at least one usable sample), ``tags`` ({T: [run tags]})
        and ``dropped`` ({run tag: reason}).
    """
    import json
    from pathlib import Path

    from .presets import get_preset

    P = get_preset(preset)
    known = sorted(P.temperatures)
    if temperatures is None or len(temperatures) == 0:
        wanted = known
    else:
        wanted = sorted(float(t) for t in temperatures)
        unknown = [t for t in wanted if not any(abs(t - k) < 1e-9 for k in known)]
        if unknown:
            raise ValueError(f"temperatures {unknown} are not in preset {preset!r} (it has {known}): "
                             "choose among those or add them to softlib/pipeline/presets.py")
    out = {"temperatures": [], "tags": {}, "dropped": {}}
    for T in wanted:
        kept = []
        for plan in (p for p in P.plans() if abs(p.T - T) < 1e-9):
            if not require_equilibrated:
                kept.append(plan.tag)
                continue
            path = Path(summaries_dir) / f"{plan.tag}.json"
            if not path.exists():
                raise FileNotFoundError(f"no equilibration summary {path}: run notebook 01 for {plan.tag} "
                                        f"(make PRESET={preset} simulate) or pass require_equilibrated=False")
            summary = json.loads(path.read_text())
            if summary.get("equilibrated", False):
                kept.append(plan.tag)
            else:
                failed = [k for k, v in summary.get("checks", {}).items() if v is False]
                out["dropped"][plan.tag] = "not equilibrated: failed " + (", ".join(failed) or "checks")
        if kept:
            out["temperatures"].append(T)
            out["tags"][T] = kept
    if runs_root is not None:
        missing = [t for T in out["temperatures"] for t in out["tags"][T]
                   if not (Path(runs_root) / t / "run.json").exists()]
        if missing:
            raise FileNotFoundError(f"runs not complete in {runs_root}: {missing}; run notebook 01 "
                                    f"(make PRESET={preset} simulate) first")
    if not out["temperatures"]:
        raise ValueError(f"no usable run of preset {preset!r} at T = {wanted}: {out['dropped']}; run them "
                         "longer (t_equilibrate / t_production of notebook 01)")
    return out
