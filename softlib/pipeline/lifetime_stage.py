"""Notebook 04's steps: the log-frame data of every run, C_S(t), Q(t) and tau_alpha per run, the pooled
propagators of the lowest temperature (Fig. 4(b, c)) and lifetime.json."""
from __future__ import annotations

import json
import warnings

import numpy as np

from ..analysis import dynamics as dyn
from ..analysis import lifetime as lt
from ..io.softness_store import read_softness
from ..io.store import provenance
from ..io.trajectory import load

#: the paper's three temperatures of Fig. 4(a)
PAPER_FIG4A = (0.47, 0.53, 0.80)


def fig4a_temperatures(available, requested=None):
    """The temperatures of Fig. 4(a): ``requested`` if given, else the paper's three (0.47, 0.53, 0.80)
    where all are available, else the lowest, middle and highest available ones."""
    available = sorted(available)
    if requested:
        chosen = sorted(float(t) for t in requested)
    elif all(any(abs(t - w) < 1e-9 for t in available) for w in PAPER_FIG4A):
        chosen = list(PAPER_FIG4A)
    else:
        chosen = sorted({available[0], available[len(available) // 2], available[-1]})
    absent = [T for T in chosen if not any(abs(T - t) < 1e-9 for t in available)]
    if absent:
        raise ValueError(f"temperatures_fig4a {absent} have no usable run (available: {available})")
    return chosen


def load_log_runs(ctx, tags, calibration="paper", delta=0.09, per_decade=16, origin_every=1.0):
    """Softness (notebook 03), unwrapped A positions and the time grid of every run, on its log frames.

    ``ctx``: the notebook's Context (a Layout also works for a preset). A run with log-spaced frames
    (every preset run; a data set run with ``log_files``) uses them: origins at block starts, the block
    length from the run plan. A run without them (a data set run with only its dense ``files``) uses its
    dense frames with log-spaced lags (:func:`softlib.analysis.dynamics.time_pairs`, schedule 'linear',
    lags :func:`~softlib.analysis.dynamics.log_lags`, an origin every ``origin_every`` tau).

    Checks that the softness files were made with ``calibration`` and ``delta`` and lie on the
    trajectory's frames. Returns {tag: {'T', 'S', 'times', 'pos', 'block', 'grid', 'frames',
    'n_origins', 'n_nonpositive'}}; ``grid`` holds the keyword arguments of ``time_pairs``.
    """
    from .sources import RunSource

    layout = getattr(ctx, "layout", ctx)
    runs = {}
    for T in sorted(tags):
        for tag in tags[T]:
            src = ctx.source(tag) if hasattr(ctx, "source") else RunSource.from_run_dir(layout.run(tag), tag)
            sch = "log" if src.has("log") else "linear"
            s = read_softness(layout.softness_of(tag), sch, mmap=False)
            key = s["key"]
            if key.get("variant") != calibration or abs(key.get("delta", delta) - delta) > 1e-12:
                raise ValueError(f"{layout.softness_of(tag)} holds softness for calibration {key.get('variant')!r}, "
                                 f"delta {key.get('delta')}; this notebook runs with {calibration!r}, {delta}: "
                                 "rerun notebook 03 with these parameters")
            tr = load(src.path(sch)) if src.kind == "preset" else src.open(sch)
            if not np.allclose(tr.times, s["times"]):
                raise ValueError(f"{tag}: softness and trajectory frames differ; rerun notebook 03")
            times = np.asarray(s["times"])
            if sch == "log":
                block = float(src.plan["log_block"]) if src.plan.get("log_block") else None
                grid = {"schedule": "log", "block": block}
                n_org = dyn.log_block_origins(times, block).size
            else:
                dt = float(np.median(np.diff(times)))
                every = max(1, int(round(origin_every / dt)))
                grid = {"schedule": "linear", "origin_every": every, "lags": dyn.log_lags(times.size, per_decade)}
                block, n_org = None, int(np.arange(0, times.size - 1, every).size)
            runs[tag] = {"T": T, "S": np.asarray(s["softness"], float), "times": times,
                         "pos": np.asarray(tr[:].positions)[:, s["a_index"]], "block": block, "grid": grid,
                         "frames": sch, "n_origins": int(n_org), "n_nonpositive": s["n_nonpositive"]}
    return runs


def decay_time(t, y):
    """1/e crossing of a decaying curve, NaN (silently) when it is not inside the window."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return dyn.decay_time(t, y, level=np.exp(-1), missing="nan")


def lifetime_curves(runs, a=0.3, summaries=None):
    """C_S(t), Q(t), F_s(t) and the decay times of every run on its own log lags (Eqs. 9, 10).

    tau_alpha comes from notebook 01's summary (``summaries / <tag>.json``) where it is finite, else from
    F_s(q = 7.25, t) on the same log frames.
    """
    curves = {}
    for tag, r in runs.items():
        grid = r.get("grid", {"schedule": "log", "block": r["block"]})
        pairs = dyn.time_pairs(r["times"], **grid)
        t, q = lt.overlap(r["pos"], r["times"], a=a, pairs=pairs)
        _, c, excl = lt.softness_correlation(r["S"], r["times"], pairs=pairs)
        _, fs = dyn.self_intermediate_scattering(r["pos"], r["times"], **grid)
        summ = None if summaries is None else summaries / f"{tag}.json"
        summary = json.loads(summ.read_text()) if summ is not None and summ.exists() else {}
        tau_01 = summary.get("tau_alpha")
        if tau_01 is not None and np.isfinite(tau_01):
            # notebook 01's summary for a preset; the data set check of notebook 02 for user runs
            tau, src = float(tau_01), ("summary of 02" if "made_by" in summary else "notebook 01")
        else:
            tau = dyn.tau_alpha(t, fs, missing="nan")
            src = "F_s on log frames" if grid["schedule"] == "log" else "F_s, dense frames"
        curves[tag] = {"T": r["T"], "t": t, "C_S": c, "Q": q, "F_s": fs, "excluded": excl,
                       "tau_alpha": tau, "tau_alpha_source": src,
                       "tau_C_S": decay_time(t, c), "tau_Q": decay_time(t, q)}
    return curves


def value_at(t, y, t0):
    """y at t0, interpolated in ln t (NaN for a non-finite t0)."""
    return float(np.interp(np.log(t0), np.log(t), y)) if np.isfinite(t0) else float("nan")


def propagators(runs, tags, n_s0=5, s0_quantiles=(0.05, 0.2), r_stay=0.5, n_s=40):
    """The propagators of Fig. 4(b, c), all runs in ``tags`` pooled (:func:`lifetime.combine`).

    Bins: the 'hard' S0 bin between the ``s0_quantiles`` of P(S), ``n_s0`` S0 bins at the quantiles of P(S),
    and ``n_s`` bins of S between its 0.1 and 99.9 % quantiles, all from the pooled softness.

    Returns dict with ``S_all`` (finite pooled softness), ``e_hard``, ``e_s0``, ``e_s`` and the pooled
    ``hard`` and ``s0`` propagators.
    """
    S_all = np.concatenate([runs[t]["S"].ravel() for t in tags])
    S_all = S_all[np.isfinite(S_all)]
    e_hard = np.quantile(S_all, s0_quantiles)
    e_s0 = np.quantile(S_all, np.linspace(0, 1, n_s0 + 1))
    e_s0[0], e_s0[-1] = S_all.min() - 1e-12, S_all.max() + 1e-12
    e_s = np.linspace(*np.quantile(S_all, [0.001, 0.999]), n_s)
    props = {}
    for tag in tags:
        r = runs[tag]
        for name, e0 in (("hard", e_hard), ("s0", e_s0)):
            grid = r.get("grid", {"schedule": "log", "block": r["block"]})
            props.setdefault(name, []).append(lt.propagator(r["S"], r["pos"], r["times"], e0, e_s, r_stay=r_stay,
                                                            **grid))
    return {"S_all": S_all, "e_hard": e_hard, "e_s0": e_s0, "e_s": e_s,
            "hard": lt.combine(props["hard"]), "s0": lt.combine(props["s0"])}


def fig4b_lags(hard, tau_alpha, min_count=30, requested=None):
    """Lag indices drawn in Fig. 4(b): ``requested`` lags, or 0, 0.01, tau_alpha / 10 and the longest lag
    that keeps at least a tenth of the starting pairs (and ``min_count``), each to the nearest stored lag."""
    lags = hard["times"]
    good = np.flatnonzero(hard["count"][:, 0] >= max(min_count, 0.1 * hard["count"][0, 0]))
    want = requested or [0.0, 0.01, 0.1 * tau_alpha if np.isfinite(tau_alpha) else 1.0, lags[good[-1]]]
    return sorted({int(np.argmin(np.abs(np.log((lags + 1e-12) / (w + 1e-12))))) for w in want})


def spread_check(s0, min_count=30):
    """Spread of <S>_S0 over the S0 bins at t = 0 and at the last lag where every bin has min_count pairs."""
    last = int(np.flatnonzero((s0["count"] >= min_count).all(axis=1))[-1])
    return {"spread0": float(np.ptp(s0["mean"][0])), "spread_end": float(np.ptp(s0["mean"][last])),
            "t_end": float(s0["times"][last])}


def lifetime_result(preset, curves, prop, T_low, temperatures, delta, calibration, a, r_stay):
    """The contents of ``<data>/<preset>/lifetime.json``."""
    s0 = prop["s0"]
    return {
        "preset": preset, "delta": delta, "calibration": calibration, "a": a, "r_stay": r_stay,
        "temperatures": list(temperatures),
        "runs": {tag: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in cv.items()}
                 for tag, cv in curves.items()},
        "propagator": {"T": T_low, "s0_edges": prop["e_s0"].tolist(), "times": s0["times"].tolist(),
                       "mean": s0["mean"].tolist(), "count": s0["count"].tolist(),
                       "hard_s0_edges": prop["e_hard"].tolist()},
        "provenance": provenance(notebook="04_lifetime", preset=preset, delta=delta, calibration=calibration,
                                 a=a, r_stay=r_stay),
    }
