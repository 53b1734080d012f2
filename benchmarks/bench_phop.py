"""p_hop: prefix sums (softlib.analysis.dynamics.p_hop, numba) against the direct window version, side by side.

N = 1000 particles, 10^4 frames of 3-D random walks, Dt = 15 tau. Two frame spacings:
0.25 tau (the paper preset's dense frames, 30 frames per half-window) and 0.1 tau (quick,
75 frames per half-window). The reference is ``softlib.analysis.dynamics.p_hop_direct`` (numpy,
one vectorised window per frame: O(frames x window x particles)); it is timed on a
subset of frames and scaled to all frames (its cost per frame is constant), which is
said in the output. A compiled direct-window loop (numba, written here) is also timed,
to separate the algorithm's gain from the compiler's.

Run: ``python benchmarks/bench_phop.py`` (ends with ``phop_vs_direct: <ratio>`` for the
paper spacing).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np
from numba import njit, prange

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from softlib.analysis import dynamics as dyn  # noqa: E402

N, F, WINDOW = 1000, 10_000, 15.0
SUBSET = 600  # frames of the numpy reference actually timed


@njit(parallel=True, cache=True)
def _p_hop_window_numba(pos, h):
    """Direct window sums, compiled, scalar accumulators: O(frames x window x particles)."""
    F, n, _ = pos.shape
    out = np.full((F, n), np.nan)
    w = h + 1.0
    for i in prange(n):
        for f in range(h, F - h):
            ux = uy = uz = vx = vy = vz = 0.0
            for g in range(f - h, f + 1):
                ux += pos[g, i, 0]
                uy += pos[g, i, 1]
                uz += pos[g, i, 2]
            for g in range(f, f + h + 1):
                vx += pos[g, i, 0]
                vy += pos[g, i, 1]
                vz += pos[g, i, 2]
            ux /= w
            uy /= w
            uz /= w
            vx /= w
            vy /= w
            vz /= w
            a = 0.0
            b = 0.0
            for g in range(f - h, f + 1):
                a += (pos[g, i, 0] - vx) ** 2 + (pos[g, i, 1] - vy) ** 2 + (pos[g, i, 2] - vz) ** 2
            for g in range(f, f + h + 1):
                b += (pos[g, i, 0] - ux) ** 2 + (pos[g, i, 1] - uy) ** 2 + (pos[g, i, 2] - uz) ** 2
            out[f, i] = np.sqrt(a / w * b / w)
    return out


def best_of(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench(dt, rng):
    times = np.arange(F) * dt
    pos = np.cumsum(rng.normal(scale=0.03, size=(F, N, 3)), axis=0) + rng.uniform(0, 10, (1, N, 3))
    h = dyn.half_window_frames(times, WINDOW)
    dyn.p_hop(pos[: 4 * h], times[: 4 * h], WINDOW)  # compile outside the timing
    _p_hop_window_numba(pos[: 4 * h], h)
    t_prefix, p = best_of(lambda: dyn.p_hop(pos, times, WINDOW))
    t_wnumba, pw = best_of(lambda: _p_hop_window_numba(pos, h), repeat=1)
    sub = SUBSET + 2 * h
    t_sub, pd = best_of(lambda: dyn.p_hop_direct(pos[:sub], times[:sub], WINDOW), repeat=1)
    t_direct = t_sub * (F - 2 * h) / SUBSET
    err = np.nanmax(np.abs(p[:sub] - pd) / pd)
    err_w = np.nanmax(np.abs(p - pw) / pw)
    print(f"dt = {dt} tau: h = {h} frames per half-window")
    print(f"  p_hop (prefix sums, numba)      {t_prefix:8.3f} s   {N * F / t_prefix:10.3e} particle-frames/s")
    print(f"  direct window, numba loop       {t_wnumba:8.3f} s   ratio {t_wnumba / t_prefix:7.1f}x  "
          f"max rel diff {err_w:.1e}")
    print(f"  p_hop_direct (numpy)            {t_direct:8.3f} s   ratio {t_direct / t_prefix:7.1f}x  "
          f"max rel diff {err:.1e}")
    print(f"    (numpy timed on {SUBSET} of {F - 2 * h} frames: {t_sub:.3f} s, scaled linearly)")
    return t_direct / t_prefix


def main():
    import numba

    print(f"p_hop benchmark: N = {N}, {F} frames, Dt = {WINDOW}; numba threads = {numba.get_num_threads()}")
    rng = np.random.default_rng(0)
    ratio_quick = bench(0.1, rng)
    ratio_paper = bench(0.25, rng)
    print(f"ratio at dt = 0.1 (quick spacing): {ratio_quick:.1f}x")
    print(f"phop_vs_direct: {ratio_paper:.1f}")


if __name__ == "__main__":
    main()
