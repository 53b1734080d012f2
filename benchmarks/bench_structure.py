"""Benchmark: softlib.analysis.structure (partial S(q) and g(r)) against freud, side by side, per frame.

Same frames, same settings:

* S(q): q_max = 40, shells of width 2 pi / L (docs/methods.md §2), at most 300 vectors a shell, all
  three partials. freud's ``StaticStructureFactorDirect`` gets the same number of k points
  (``num_sampled_k_points``) and the same number of bins, and needs three ``compute`` calls
  (AA, AB, BB) for the three partials; ours computes rho_A(k), rho_B(k) once.
* g(r): dr = 0.01 up to half the box, the three partials: three ``freud.density.RDF``
  computes against one call of ours.

Both libraries use every core (numba threads, TBB). Frames: the quick preset's T = 0.60 run
when it exists (N = 500), then KA-density configurations of N = 1000 and 4000 (random
positions: the cost of both methods does not depend on the structure). The closing lines give
the smallest ratio (freud time / ours) over the three sizes.

Run: ``python benchmarks/bench_structure.py``
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import freud  # noqa: E402

from softlib import ka  # noqa: E402
from softlib.analysis import structure as st  # noqa: E402

RUN = "build/quick/runs/T0.600_s0/linear.gsd"


def frames_for(n, n_frames):
    """(positions (F, N, 3), species, box, label)."""
    if n == 500 and os.path.exists(RUN):
        from softlib.io.trajectory import load

        t = load(RUN)
        idx = np.linspace(0, t.n_frames - 1, n_frames).round().astype(int)
        return t[idx].positions, t.species, t.box, "quick run T = 0.60"
    rng = np.random.default_rng(n)
    box = np.full(3, ka.box_length(n))
    return rng.uniform(-0.5, 0.5, (n_frames, n, 3)) * box, ka.composition(n), box, "random, rho = 1.2"


def best(fn, repeat=3):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def wrap(p, box):
    return p - box * np.rint(p / box)


def bench_sq(pos, species, box, freud_frames):
    q, S = st.partial_structure_factor(pos[:1], species=species, box=box)  # compile
    nvec = len(st._shell_vectors(box, 40.0, 300, 0)[0])
    ours = best(lambda: st.partial_structure_factor(pos, species=species, box=box)) / len(pos)
    fbox = freud.box.Box.from_box(box)
    sf = freud.diffraction.StaticStructureFactorDirect(bins=len(q), k_max=40.0, k_min=0.0,
                                                       num_sampled_k_points=nvec)

    def run_freud():
        for p in pos[:freud_frames]:
            w = wrap(p, box)
            a, b = w[species == 0], w[species == 1]
            for x, y in ((a, a), (a, b), (b, b)):
                sf.compute((fbox, x), query_points=y, N_total=len(p))

    run_freud()  # warm up
    theirs = best(run_freud, repeat=2) / freud_frames
    return ours, theirs, nvec


def bench_rdf(pos, species, box):
    r_max = 0.5 * box.min()
    r, g = st.partial_rdf(pos[:1], species=species, box=box)  # compile
    ours = best(lambda: st.partial_rdf(pos, species=species, box=box)) / len(pos)
    fbox = freud.box.Box.from_box(box)
    nbins = len(r)
    like = freud.density.RDF(bins=nbins, r_max=nbins * 0.01, normalization_mode="finite_size")
    unlike = freud.density.RDF(bins=nbins, r_max=nbins * 0.01)
    last = {}

    def run_freud():
        for p in pos:
            w = wrap(p, box)
            a, b = w[species == 0], w[species == 1]
            like.compute((fbox, a), reset=True)
            last["AA"] = like.rdf
            unlike.compute((fbox, b), query_points=a, reset=True)
            like.compute((fbox, b), reset=True)

    run_freud()
    theirs = best(run_freud) / len(pos)
    # same numbers (last frame): freud is single precision
    r1, g1 = st.partial_rdf(pos[-1], species=species, box=box)
    diff = np.abs(g1[0, 0] - last["AA"]).mean()
    return ours, theirs, diff, r_max


def main():
    rows, sq_ratios, rdf_ratios = [], [], []
    for n, nf, ff in ((500, 20, 3), (1000, 10, 2), (4000, 4, 1)):
        pos, species, box, label = frames_for(n, nf)
        o_sq, f_sq, nvec = bench_sq(pos, species, box, ff)
        o_rdf, f_rdf, diff, r_max = bench_rdf(pos, species, box)
        sq_ratios.append(f_sq / o_sq)
        rdf_ratios.append(f_rdf / o_rdf)
        rows.append(f"| {n} | {label} | {nvec} | {o_sq * 1e3:.1f} ms | {f_sq * 1e3:.0f} ms | {f_sq / o_sq:.1f} "
                    f"| {r_max:.2f} | {o_rdf * 1e3:.2f} ms | {f_rdf * 1e3:.2f} ms | {f_rdf / o_rdf:.1f} | {diff:.1e} |")
        print(rows[-1], flush=True)
    print("\n| N | frames from | k vectors | S(q) ours | S(q) freud | ratio | r_max | g(r) ours | g(r) freud "
          "| ratio | mean abs diff g_AA |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    nt = freud.parallel.get_num_threads() or os.cpu_count()  # freud reports 0 for "all cores"
    print(f"threads: numba {__import__('numba').get_num_threads()}, freud {nt}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"sq_vs_freud: {min(sq_ratios):.1f}")
    print(f"rdf_vs_freud: {min(rdf_ratios):.1f}")


if __name__ == "__main__":
    main()
