"""Notebook 03's steps: Eq. 8 for one particle and on average (Fig. 2), the softness of every run, the
pooled distributions of Fig. 3 and the table of their moments, and local_softness.json."""
from __future__ import annotations

import numpy as np

from ..analysis import caging
from ..analysis import local_softness as local
from ..analysis import structure
from ..io.softness_store import read_softness
from ..io.store import provenance
from ..io.trajectory import load
from .stages import compute_run_softness

#: the grid of Fig. 2's average local rdfs and the distance above which they are compared with the
#: smeared histogram rdf (below it both are ~0 and the relative error means nothing)
FIG2_R = (0.5, 3.0, 251)
FIG2_R_MIN = 0.6


def softness_parameters_by_T(cal, temperatures):
    """{T: {variant: softness_parameters}} for both calibration variants."""
    return {T: {v: local.softness_parameters(cal, T, v) for v in local.VARIANTS} for T in temperatures}


def fig2_frames(path, n_frames=20):
    """Positions (F, N, 3), species and box of ``n_frames`` frames spread over one trajectory.

    ``path``: a trajectory file or a :class:`softlib.pipeline.sources.RunSource` (its dense frames)."""
    traj = path.open("linear") if hasattr(path, "open") else load(path)
    frames = traj[:: max(1, traj.n_frames // n_frames)][:n_frames]
    return frames.positions, traj.species, traj.box


def neighbour_terms(positions, species, box, particle, r, delta=0.09, reach=3.0):
    """The terms of Eq. 8 for one tagged A particle, one Gaussian per neighbour, and their sum.

    Each term is the library's smeared rdf (:func:`caging.smear_rdf`) of a single pair at r_ij,
    G_delta(r - r_ij) / (4 pi r^2 rho_v); the sum over all neighbours is :func:`local_softness.local_rdf`
    of the particle, which is returned beside them as ``g``.

    Parameters
    ----------
    positions : (N, 3)
        One frame.
    particle : int
        Index of the tagged A particle.
    r : (nr,) increasing distances > 0.
    reach : float
        Neighbours up to r[-1] + reach * delta get a term.

    Returns
    -------
    dict: ``g`` (2, nr) the local rdf; ``r_ij`` [A, B] neighbour distances; ``terms`` [A, B] arrays
    (n_neighbours, nr).
    """
    pos = np.asarray(positions, dtype=float)
    species = np.asarray(species)
    box = np.asarray(box, dtype=float) * np.ones(3)
    g = local.local_rdf(pos, species, box, r, delta=delta, particles=[particle])[0]
    d = pos - pos[particle]
    d -= box * np.rint(d / box)
    rij = np.sqrt((d**2).sum(1))
    vol = float(np.prod(box))
    out = {"g": g, "r_ij": [], "terms": []}
    h = 1e-6  # half width of the one-pair histogram bin
    for v in (0, 1):
        near = (species == v) & (np.arange(species.size) != particle) & (rij < r[-1] + reach * delta)
        rho_v = (np.sum(species == v) - (v == 0)) / vol
        terms = []
        for x in rij[near]:
            edges = np.array([x - h, x + h, x + 3 * h])
            shell = 4.0 / 3.0 * np.pi * (edges[1] ** 3 - edges[0] ** 3)
            terms.append(caging.smear_rdf(edges, [1.0 / (rho_v * shell), 0.0], r, delta))
        out["r_ij"].append(rij[near])
        out["terms"].append(np.array(terms).reshape(-1, np.size(r)))
    return out


def average_local_rdf(positions, species, box, r, deltas):
    """{delta: <g^i>(r)} averaged over all A particles and frames (2, nr)."""
    return {dl: np.mean([local.local_rdf(p, species, box, r, delta=dl).mean(0) for p in positions], axis=0)
            for dl in deltas}


def fig2_data(positions, species, box, deltas=(0.05, 0.09, 0.12), dr=0.01):
    """Fig. 2: the average of local rdfs against the histogram rdf smeared with the same Gaussian.

    Returns dict with ``r`` (grid of the local rdfs), ``r_hist``, ``g_hist`` (histogram rdf), ``avg``
    and ``smeared`` ({delta: (2, nr)}), and ``max_dev`` ({delta: max |avg - smeared| above FIG2_R_MIN}).
    """
    r_hist, g_hist = structure.partial_rdf(positions, dr=dr, species=species, box=box)
    edges = np.r_[r_hist - dr / 2, r_hist[-1] + dr / 2]
    r = np.linspace(*FIG2_R)
    avg = average_local_rdf(positions, species, box, r, deltas)
    smeared = {dl: caging.smear_rdf(edges, g_hist[0], r, dl) for dl in deltas}
    dev = {dl: float(np.max(np.abs(avg[dl] - smeared[dl])[:, r > FIG2_R_MIN])) for dl in deltas}
    return {"r": r, "r_hist": r_hist, "g_hist": g_hist, "avg": avg, "smeared": smeared, "max_dev": dev,
            "deltas": list(deltas), "n_frames": len(positions)}


def compute_softness(ctx, cal, delta=0.09, schedules=("linear", "log"), chunk=256, calibration="paper"):
    """:func:`stages.compute_run_softness` for every selected run; {tag: per-schedule summary}."""
    lay = ctx.layout
    return {tag: compute_run_softness(ctx.source(tag), lay.softness_of(tag), cal, T=T, delta=delta,
                                      schedule=schedules, chunk=chunk, variant=calibration)
            for T in ctx.temperatures for tag in ctx.tags[T]}


def pooled_softness(layout, tags, params, schedule="linear"):
    """Depth and both softness variants of all particle-frames, all samples of each temperature pooled.

    Returns {T: {'depth': all depths, variant: finite softness, variant + '_nonpositive': count}}.
    """
    data = {}
    for T in sorted(tags):
        dep = np.concatenate([np.asarray(read_softness(layout.softness_of(t), schedule)["depth"], float).ravel()
                              for t in tags[T]])
        data[T] = {"depth": dep}
        for v in local.VARIANTS:
            s, bad = local.local_softness(dep, params[T][v]["c0"], params[T][v]["c1"])
            data[T][v] = s[np.isfinite(s)]
            data[T][v + "_nonpositive"] = bad
    return data


def softness_moments(data, cal):
    """Mean, sd, skewness of the depth and of both softness variants per temperature (and <S>/S_av)."""
    from scipy import stats

    rows = {}
    for T in sorted(data):
        dep = data[T]["depth"]
        pt = cal["per_temperature"][f"{T:.3f}"]
        rows[T] = {"depth": {"mean": float(dep.mean()), "std": float(dep.std()), "skew": float(stats.skew(dep)),
                             "n": int(dep.size)}}
        for v in local.VARIANTS:
            s = data[T][v]
            rows[T][v] = {"mean": float(s.mean()), "std": float(s.std()), "skew": float(stats.skew(s)),
                          "n_nonpositive": int(data[T][v + "_nonpositive"]),
                          "ratio_to_S_av": float(s.mean() / pt["S_av"])}
    return rows


def histograms(data, key, n_bins=60, quantiles=(0.05, 99.95)):
    """Densities of ``data[T][key]`` on edges shared by all temperatures (percentiles of the pooled values)."""
    allv = np.concatenate([data[T][key] for T in sorted(data)])
    edges = np.linspace(*np.percentile(allv, quantiles), n_bins)
    return {"edges": edges.tolist(),
            "density": {f"{T:.3f}": np.histogram(data[T][key], edges, density=True)[0].tolist()
                        for T in sorted(data)}}


def local_softness_result(preset, data, rows, runs, fig2, delta, calibration, calibration_file, n_bins=60):
    """The contents of ``<data>/<preset>/local_softness.json``."""
    temps = sorted(rows)
    return {
        "preset": preset, "delta": delta, "calibration": calibration, "calibration_file": str(calibration_file),
        "histograms": {"depth": histograms(data, "depth", n_bins),
                       **{f"S_{v}": histograms(data, v, n_bins) for v in local.VARIANTS}},
        "temperatures": temps, "per_temperature": {f"{T:.3f}": rows[T] for T in temps},
        "runs": runs,
        "fig2": {"delta": fig2["deltas"],
                 "max_dev_from_smeared_histogram": {str(dl): fig2["max_dev"][dl] for dl in fig2["deltas"]}},
        "provenance": provenance(notebook="03_local_softness", preset=preset, delta=delta, calibration=calibration),
    }
