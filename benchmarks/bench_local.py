"""Local depth: softlib.analysis.local_softness.local_depth (numba) against a plain numpy/scipy version, side by side.

N = 1000 liquid frames: from ``build/paper/runs`` when there (N = 1000), else the quick
preset's N = 500 frames stacked twice along x (an exact periodic N = 1000 configuration with
a 2:1:1 box), else FIRE-relaxed random configurations. Limits from the calibration file of
that preset when it exists, else typical KA values.

The reference, written here: neighbours from ``scipy.spatial.cKDTree`` (periodic
``boxsize``), one ``exp`` per (pair, grid point) on the same r-grid (spacing delta / 10),
the HNC product and ``np.trapezoid`` per particle, vectorised over all pairs of a frame.
Both use the trapezoid rule here so that their numbers can be compared (they agree to
~1e-9); numba threads = all cores.

Run: ``python benchmarks/bench_local.py``; ends with ``local_depth_rate: <A-particle-frames/s>``
and ``local_vs_numpy: <ratio>``.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from softlib import ka  # noqa: E402
from softlib.analysis import local_softness as lc  # noqa: E402

T, DELTA = 0.6, 0.09
LIMITS = {"AA": (0.90, 1.44), "AB": (0.74, 1.25)}
F_NUMBA, F_NUMPY = 300, 6


def frames_n1000():
    """(frames (F, 1000, 3), species, box, source description, limits)."""
    from softlib.io.trajectory import load

    for preset, tag in (("paper", "T0.600_s0"), ("quick", "T0.600_s0")):
        run = ROOT / "build" / preset / "runs" / tag
        if not (run / "run.json").exists():
            continue
        tr = load(run / "linear.gsd")
        sub = tr[:: max(1, tr.n_frames // F_NUMBA)][:F_NUMBA]
        pos, sp, box = sub.positions, tr.species, tr.box
        lim = LIMITS
        cal = ROOT / "data" / preset / "calibration.json"
        if cal.exists():
            lim = lc.softness_parameters(json.loads(cal.read_text()), T)["limits"]
        if sp.size == 500:  # two copies side by side along x: still an exact periodic liquid
            pos = pos - box * np.floor(pos / box)
            pos = np.concatenate([pos, pos + [box[0], 0, 0]], axis=1)
            sp = np.concatenate([sp, sp])
            box = box * [2, 1, 1]
            return pos, sp, box, f"build/{preset}/runs/{tag} (N = 500, stacked 2x1x1)", lim
        return pos, sp, box, f"build/{preset}/runs/{tag}", lim
    from softlib.engine import md

    sp = ka.composition(1000)
    box = np.full(3, ka.box_length(1000))
    pos = np.array([md.remove_overlaps(md.random_configuration(1000, seed=s)[0], sp, box) for s in range(4)])
    pos = np.concatenate([pos] * (F_NUMBA // 4))
    return pos, sp, box, "FIRE-relaxed random configurations (no run found)", LIMITS


def depth_numpy(pos, species, box, T, limits, delta):
    """Plain numpy/scipy local depth of every A particle of one frame (trapezoid, h <= delta/10)."""
    n = len(pos)
    vol = np.prod(box)
    x = np.bincount(species, minlength=2) / n
    rho = n / vol
    a_idx = np.flatnonzero(species == 0)
    wrapped = pos - box * np.floor(pos / box)
    tree = cKDTree(wrapped, boxsize=box)
    cut = max(hi for _, hi in limits.values()) + 6 * delta
    pairs = tree.query_pairs(cut, output_type="ndarray")
    d = wrapped[pairs[:, 1]] - wrapped[pairs[:, 0]]
    d -= box * np.rint(d / box)
    r = np.sqrt((d * d).sum(1))
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])  # both directions: (centre, neighbour)
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    r = np.concatenate([r, r])
    out = np.zeros(n)
    for v, key in enumerate(("AA", "AB")):
        lo, hi = limits[key]
        m = int(np.ceil((hi - lo) / (delta / 10) - 1e-9))
        grid = np.linspace(lo, hi, m + 1)
        sel = (species[i] == 0) & (species[j] == v) & (r < hi + 6 * delta)
        ii, rr = i[sel], r[sel]
        order = np.argsort(ii, kind="stable")
        ii, rr = ii[order], rr[order]
        gauss = np.exp(-((grid[None, :] - rr[:, None]) ** 2) / (2 * delta**2))
        starts = np.flatnonzero(np.r_[True, ii[1:] != ii[:-1]])
        summed = np.add.reduceat(gauss, starts, axis=0)
        rho_v = (np.sum(species == v) - (v == 0)) / vol
        g = np.zeros((n, grid.size))
        g[ii[starts]] = summed / (np.sqrt(2 * np.pi) * delta * 4 * np.pi * grid**2 * rho_v)
        bu = ka.pair_potential(grid, 0, v) / T
        with np.errstate(divide="ignore", invalid="ignore"):
            cg = np.where(g > 0, g * (-bu + g - 1 - np.log(g)), 0.0)
        out += -0.5 * np.sqrt(x[0] * x[v]) * np.trapezoid(4 * np.pi * grid**2 * rho * cg, grid, axis=1)
    return out[a_idx]


def _cpu_time(fn):
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def best_of(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    pos, sp, box, source, lim = frames_n1000()
    n_a = int(np.sum(sp == 0))
    print(f"frames: {source}; N = {sp.size}, N_A = {n_a}, box {np.round(box, 3).tolist()}")
    print(f"limits: {lim}; T = {T}, delta = {DELTA}; numba threads: {numba.get_num_threads()}; "
          f"load average: {os.getloadavg()[0]:.2f}")
    lc.local_depth(pos[:2], sp, box, T, lim, DELTA, rule="trapezoid")  # compile outside the timing
    t_nb, d_nb = best_of(lambda: lc.local_depth(pos, sp, box, T, lim, DELTA, rule="trapezoid"))
    t_np, d_np = best_of(lambda: np.array([depth_numpy(p, sp, box, T, lim, DELTA) for p in pos[:F_NUMPY]]), 2)
    dev = np.max(np.abs(d_nb[:F_NUMPY] - d_np))
    rate_nb = pos.shape[0] * n_a / t_nb
    rate_np = F_NUMPY * n_a / t_np
    t_simpson, _ = best_of(lambda: lc.local_depth(pos, sp, box, T, lim, DELTA))
    print(f"numba local_depth : {pos.shape[0]} frames in {t_nb:.3f} s -> {rate_nb:.3e} A-particle-frames/s "
          f"(Simpson, the default: {pos.shape[0] * n_a / t_simpson:.3e})")
    print(f"numpy/scipy       : {F_NUMPY} frames in {t_np:.3f} s -> {rate_np:.3e} A-particle-frames/s")
    print(f"max |numba - numpy| = {dev:.1e} (depths of order 10)")
    numba.set_num_threads(1)
    t_one, _ = best_of(lambda: lc.local_depth(pos[:100], sp, box, T, lim, DELTA, rule="trapezoid"))
    cpu = min(_cpu_time(lambda: lc.local_depth(pos[:100], sp, box, T, lim, DELTA, rule="trapezoid"))
              for _ in range(3))
    # CPU time is what other jobs on a shared machine cannot steal: rate per core actually used
    print(f"numba, 1 thread   : {100 * n_a / t_one:.3e} A-particle-frames/s wall, "
          f"{100 * n_a / cpu:.3e} per CPU-second")
    cpu_np = _cpu_time(lambda: [depth_numpy(p, sp, box, T, lim, DELTA) for p in pos[:F_NUMPY]])
    per_cpu_np = F_NUMPY * n_a / cpu_np
    print(f"numpy/scipy       : {per_cpu_np:.3e} per CPU-second; per-core ratio {100 * n_a / cpu / per_cpu_np:.3g}")
    print(f"local_depth_rate: {rate_nb:.4g}")
    print(f"local_vs_numpy: {rate_nb / rate_np:.3g}")


if __name__ == "__main__":
    main()
