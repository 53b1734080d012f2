"""Structure functions: softlib.analysis.predictors.frame_features (numba) against the plain numpy version.

Same inputs, one process: frames of the quick preset's T = 0.60 run when it exists (N = 500), else random
non-overlapping configurations of the same size and density. The numpy reference
(``structure_functions_numpy``) enumerates the same periodic images and evaluates one exp per
(pair, shell); both give G_A, G_B of all A particles on mu = 0.4 ... 5.0 (L = 0.1).

Run: ``python benchmarks/bench_predictors.py [build_root]``; ends with ``structure_functions_vs_numpy: <ratio>``
(numpy time / numba time per frame; numba threads = all cores).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from softlib.analysis import predictors as pr  # noqa: E402

N_NUMBA, N_NUMPY = 20, 3


def frames(build_root):
    from softlib.io.trajectory import load_positions

    run = Path(build_root) / "quick" / "runs" / "T0.600_s0"
    if (run / "run.json").exists():
        t, sp, box, pos = load_positions(run / "linear.gsd", frames=slice(0, None, 50))
        return pos[:N_NUMBA], sp, box, str(run)
    rng = np.random.default_rng(0)
    L = (500 / 1.2) ** (1 / 3)
    pos = rng.random((N_NUMBA, 500, 3)) * L
    sp = np.r_[np.zeros(400, int), np.ones(100, int)]
    return pos, sp, np.full(3, L), "random points (no trajectory found)"


def main():
    build_root = sys.argv[1] if len(sys.argv) > 1 else ROOT / "build"
    pos, sp, box, src = frames(build_root)
    print(f"source: {src}; N = {sp.size}, {pos.shape[0]} frames numba, {N_NUMPY} numpy; "
          f"numba threads {numba.get_num_threads()}")
    pr.frame_features(pos[0], sp, box)  # compile (or load the cache) outside the timing
    t0 = time.perf_counter()
    for f in pos:
        pr.frame_features(f, sp, box)
    t_numba = (time.perf_counter() - t0) / pos.shape[0]
    t0 = time.perf_counter()
    for f in pos[:N_NUMPY]:
        ref = pr.structure_functions_numpy(f, sp, box)
    t_numpy = (time.perf_counter() - t0) / N_NUMPY
    g_last = pr.frame_features(pos[N_NUMPY - 1], sp, box)["G"]
    print(f"max |numba - numpy| = {np.abs(g_last - ref).max():.2e} (of max {ref.max():.3g})")
    print(f"per frame: numba {t_numba * 1e3:.1f} ms (structure functions + e_pot + counts), numpy {t_numpy * 1e3:.1f} ms")
    print(f"structure_functions_vs_numpy: {t_numpy / t_numba:.2f}")


if __name__ == "__main__":
    main()
