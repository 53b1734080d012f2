# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 — A softness for every particle
#
# Notebook 02 measured, at each temperature, one number for the whole liquid: the softness
# $S^{av}$ of the mean-field caging potential, and tied it linearly to a depth computed in
# real space from the average partial rdfs,
#
# $$\frac{1}{S^{av}} = c_0 + c_1\,\beta\Phi_r^{av}, \qquad
#   \beta\Phi_r = -\frac12 \sum_{v\in\{A,B\}} \sqrt{x_A x_v}\int_{r_{lo,Av}}^{r_{hi,Av}}
#   4\pi r^2\rho\; C_{Av}(r)\,g_{Av}(r)\,dr ,$$
#
# with the HNC direct correlation function $C_{Av} = -\beta U_{Av} + g_{Av} - 1 - \ln g_{Av}$
# (Eqs. 5-7; METHODS 3). The depth needs nothing but an rdf and the pair potential, so it can
# be evaluated for a *single* particle in a *single* frame, if that particle has an rdf of its
# own. Here we build that rdf, put it through the same functional, and turn the depth into a
# local softness $S_i$ with the same $c_0, c_1$ (the paper's assumption).
#
# ## The rdf of one particle (Eq. 8)
#
# Around a tagged A particle $i$, the neighbours of species $v$ sit at distances $r_{ij}$.
# A histogram of these distances would be a comb of spikes; replacing each spike by a
# normalised Gaussian of width $\delta$ and dividing by the ideal-gas shell gives a smooth
# function that has the meaning of an rdf:
#
# $$g^i_{Av}(r) = \frac{1}{4\pi r^2 \rho_v}\sum_{j\in v,\, j\neq i}
#   \frac{1}{\sqrt{2\pi\delta^2}}\, e^{-(r - r_{ij})^2/2\delta^2}.$$
#
# (The printed Eq. 8 has a 2-D prefactor; we use the 3-D one of METHODS 4.) $\rho_v$ counts the
# particles the tagged one can see, $(N_v - \delta_{Av})/V$, so that the average of $g^i$ over
# particles has exactly the normalisation of a histogram rdf. Averaged over particles and
# frames, $g^i$ is the average rdf convolved with the Gaussian: the smaller $\delta$, the closer
# to the true $g$, but the noisier a single particle's curve.
#
# The local depth $\beta\Phi_r^i$ is the functional above with $g^i$ in place of $g$ — in the
# rdf factor *and* inside $C$ — between the limits fixed for the average at that temperature
# ($r_{lo}$: where the average $g$ first exceeds $10^{-3}$; $r_{hi}$: its first minimum). The
# lower limit matters: the Gaussian tail of the nearest neighbour reaches distances where the
# true $g$ vanishes and $\beta U$ is huge, and without $r_{lo}$ that tail would dominate the
# integral.
#
# Numerically (`softlib.analysis.local_softness`): neighbours within $r_{hi} + 6\delta$ from a cell list, the
# Gaussians of all neighbours accumulated on an r-grid of spacing $\le\delta/10$ by a
# multiplicative recurrence (two exponentials per neighbour instead of one per grid point),
# Simpson's rule, numba-parallel over particles.

# %% tags=["parameters"]
preset = "quick"
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
delta = 0.09              # Gaussian width of Eq. 8 (sigma_AA)
calibration = "paper"     # c0, c1 used for the stored softness: 'paper' or 'smeared'
calibration_file = ""     # default: <data_dir>/<preset>/calibration.json
deltas_fig2 = [0.05, 0.09, 0.12]
frames_fig2 = 20          # frames averaged for Fig. 2 (lowest temperature)
chunk = 256               # frames per chunk of the softness computation
schedules = ["linear", "log"]
n_bins = 60               # histogram bins of Fig. 3
temperatures = []         # a subset of the preset's temperatures (default: all)
require_equilibrated = True  # leave out runs that notebook 01 did not find equilibrated

# %%
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from scipy import stats

from softlib.analysis import local_softness as local, structure
from softlib.io.softness_store import read_softness
from softlib.pipeline import stages
from softlib.pipeline import plotting
from softlib.pipeline.runs import select_runs
from softlib.pipeline.plotting import output_dirs, use_style
from softlib.pipeline.presets import get_preset
from softlib.io.store import provenance, write_json
from softlib.io.trajectory import load

use_style()
get_preset(preset)  # fails early, naming the presets, on a wrong name
runs_root = Path(build_dir) / preset / "runs"
soft_root = Path(build_dir) / preset / "softness"
data_out, fig_out = output_dirs(preset, data_dir, fig_dir)
cal_path = Path(calibration_file) if calibration_file else data_out / "calibration.json"
cal = local.load_calibration(cal_path)
sel = select_runs(preset, data_out / "simulate", temperatures, require_equilibrated, runs_root)
for tag, why in sel["dropped"].items():
    print(f"left out {tag}: {why}")
temperatures, tags = sel["temperatures"], sel["tags"]
T_low = temperatures[0]
colors = dict(zip(temperatures, sns.color_palette("viridis_r", len(temperatures))))
params = {T: {v: local.softness_parameters(cal, T, v) for v in local.VARIANTS} for T in temperatures}


savefig = partial(plotting.savefig, folder=fig_out)


def sig(x, n=3):
    return plotting.sig(x, n)

# %%
# NBVAL_CHECK_OUTPUT
print(f"calibration: {cal_path}")
print(f"  paper   : 1/S = {sig(cal['c0'])} + {sig(cal['c1'])} beta Phi_r")
print(f"  smeared : 1/S = {sig(cal['smeared']['c0'])} + {sig(cal['smeared']['c1'])} beta Phi_r "
      f"(c0, c1 fitted against the depth of the delta = {cal['smeared']['delta']} smeared average rdf)")
for T in temperatures:
    lim = params[T]["paper"]["limits"]
    print(f"  T = {T:.2f}: r_AA in [{lim['AA'][0]:.3f}, {lim['AA'][1]:.3f}], r_AB in [{lim['AB'][0]:.3f}, "
          f"{lim['AB'][1]:.3f}]")

# %% [markdown]
# ## Eq. 8 for one particle
#
# One A particle at the lowest temperature: each neighbour contributes a Gaussian (thin
# lines, the sticks mark the $r_{ij}$), their normalised sum is $g^i$ (thick), to be compared
# with the average rdf (grey). The shaded band is the integration range of the depth.

# %%
traj = load(runs_root / tags[T_low][0] / "linear.gsd")
frames = traj[:: max(1, traj.n_frames // frames_fig2)][:frames_fig2]
pos_fig2 = frames.positions
species, box = traj.species, traj.box
r_hist, g_hist = structure.partial_rdf(pos_fig2, dr=0.01, species=species, box=box)
edges_hist = np.r_[r_hist - 0.005, r_hist[-1] + 0.005]

i0 = int(np.flatnonzero(species == 0)[0])
r = np.linspace(0.5, 2.5, 401)
gi = local.local_rdf(pos_fig2[0], species, box, r, delta=delta, particles=[i0])[0]
d = pos_fig2[0] - pos_fig2[0, i0]
d -= box * np.rint(d / box)
rij = np.sqrt((d**2).sum(1))
vol = np.prod(box)
lim0 = params[T_low]["paper"]["limits"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for v, (ax, key) in enumerate(zip(axes, ("AA", "AB"))):
    nb = (species == v) & (np.arange(species.size) != i0) & (rij < r[-1] + 3 * delta)
    rho_v = (np.sum(species == v) - (v == 0)) / vol
    for dd in rij[nb]:
        ax.plot(r, np.exp(-((r - dd) ** 2) / (2 * delta**2)) / np.sqrt(2 * np.pi * delta**2)
                / (4 * np.pi * r**2 * rho_v), color="C0", lw=0.6, alpha=0.6)
    ax.vlines(rij[nb], 0, 0.4, color="k", lw=1)
    ax.plot(r, gi[v], color="C3", lw=2.2, label=rf"$g^i_{{{key}}}(r)$, $\delta = {delta}$")
    ax.plot(r_hist, g_hist[0, v], color="0.5", lw=1.2, label=rf"average $g_{{{key}}}(r)$")
    ax.axvspan(*lim0[key], color="C2", alpha=0.12, label="integration range")
    ax.set(xlabel=r"$r$ ($\sigma_{AA}$)", title=f"{key}: tagged A particle {i0}, T = {T_low:.2f}",
           xlim=(r[0], r[-1]))
    ax.legend(fontsize=8, loc="upper right")
axes[0].set_ylabel(r"$g(r)$")
fig.tight_layout()
savefig(fig, "fig2_single_particle")
plt.show()

# %% [markdown]
# ## Fig. 2: the average of local rdfs
#
# Averaged over all A particles of 20 frames at the lowest temperature, $g^i_{AA}$ reproduces
# the histogram rdf convolved with the same Gaussian (dashed): the first peak is lowered and
# broadened by the smearing, the more so the larger $\delta$, and the smeared curve is nonzero
# below the contact distance where the true $g$ vanishes.

# %%
r2 = np.linspace(0.5, 3.0, 251)
avg = {dl: np.mean([local.local_rdf(p, species, box, r2, delta=dl).mean(0) for p in pos_fig2], axis=0)
       for dl in deltas_fig2}
smeared = {dl: local.smear_rdf(edges_hist, g_hist[0], r2, dl) for dl in deltas_fig2}

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
pal = dict(zip(deltas_fig2, sns.color_palette("flare", len(deltas_fig2))))
for v, (ax, key) in enumerate(zip(axes, ("AA", "AB"))):
    ax.plot(r_hist, g_hist[0, v], color="k", lw=1.2, label="histogram rdf")
    for dl in deltas_fig2:
        ax.plot(r2, avg[dl][v], color=pal[dl], lw=2, label=rf"$\langle g^i\rangle$, $\delta = {dl}$")
        ax.plot(r2, smeared[dl][v], color="w", lw=0.8, ls="--")
    ax.set(xlabel=r"$r$ ($\sigma_{AA}$)", ylabel=rf"$g_{{{key}}}(r)$", xlim=(0.5, 3.0),
           title=f"{key}, T = {T_low:.2f}, {len(pos_fig2)} frames")
axes[0].legend(fontsize=8)
fig.tight_layout()
savefig(fig, "fig2")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
for dl in deltas_fig2:
    dev = np.max(np.abs(avg[dl] - smeared[dl])[:, r2 > 0.6])
    peak = avg[dl][0].max()
    print(f"delta = {dl}: first peak of <g^i_AA> = {peak:.2f} (histogram {g_hist[0, 0].max():.2f}); "
          f"max |<g^i> - smeared histogram| = {dev:.0e}")

# %% [markdown]
# The white dashed lines (histogram rdf convolved with the Gaussian) lie on the averaged
# local rdfs; the residual is the histogram binning ($dr = 0.01$), not the local rdfs.
#
# ## Local depth and softness of every particle and frame
#
# For every run and both frame schedules (dense linear frames for $p_{hop}$ in notebook 05,
# log-spaced frames for the lifetime in notebook 04) we compute $\beta\Phi^i_r$ of every A
# particle in every frame and $S_i = 1/(c_0 + c_1\beta\Phi_r^i)$, and store them (float32,
# frames x A particles, with provenance) under `build/<preset>/softness/<run>/`. A
# computation that is interrupted resumes where it stopped; one that is complete is not
# redone. Where $c_0 + c_1\beta\Phi_r^i \le 0$ the linear calibration predicts no cage at all:
# such entries are stored as NaN and counted.

# %%
# NBVAL_IGNORE_OUTPUT
summary = {}
for T in temperatures:
    for tag in tags[T]:
        summary[tag] = stages.compute_run_softness(runs_root / tag, soft_root / tag, cal, T=T, delta=delta,
                                                  schedule=schedules, chunk=chunk, variant=calibration)

# %%
# NBVAL_CHECK_OUTPUT
for tag, res in summary.items():
    print(tag, ", ".join(f"{s}: {v['n_frames']} frames x {v['n_a']} A, {v['n_nonpositive']} non-positive"
                         for s, v in res.items()))

# %% [markdown]
# ## Fig. 3: distributions over particles and frames
#
# All A particle-frames of the dense schedule. Panel (a): the local depth. Panel (b): the
# softness with the paper's $c_0, c_1$ (fitted against the depth of the *unsmeared* average
# rdf) and with the smeared variant ($c_0, c_1$ fitted against the depth of the
# $\delta$-smeared average rdf, which is what the average of local rdfs actually is).

# %%
data = {}
for T in temperatures:
    dep = np.concatenate([np.asarray(read_softness(soft_root / t, "linear")["depth"], float).ravel()
                          for t in tags[T]])
    data[T] = {"depth": dep}
    for v in local.VARIANTS:
        s, bad = local.local_softness(dep, params[T][v]["c0"], params[T][v]["c1"])
        data[T][v] = s[np.isfinite(s)]
        data[T][v + "_nonpositive"] = bad

fig, ax = plt.subplots(figsize=(5.5, 4))
lo, hi = np.percentile(np.concatenate([data[T]["depth"] for T in temperatures]), [0.05, 99.95])
bins = np.linspace(lo, hi, n_bins)
for T in temperatures:
    ax.hist(data[T]["depth"], bins, density=True, histtype="step", lw=2, color=colors[T], label=f"T = {T:.2f}")
    ax.axvline(cal["per_temperature"][f"{T:.3f}"]["Phi_r"], color=colors[T], ls=":", lw=1)
ax.set(xlabel=r"$\beta\Phi_r^i$", ylabel=r"$P(\beta\Phi_r)$",
       title=r"(a) local depth; dotted: $\beta\Phi_r^{av}$ of the average rdf")
ax.legend(fontsize=8)
fig.tight_layout()
savefig(fig, "fig3a")
plt.show()

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, v in zip(axes, (calibration, [x for x in local.VARIANTS if x != calibration][0])):
    allv = np.concatenate([data[T][v] for T in temperatures])
    bins = np.linspace(*np.percentile(allv, [0.05, 99.9]), n_bins)
    for T in temperatures:
        ax.hist(data[T][v], bins, density=True, histtype="step", lw=2, color=colors[T], label=f"T = {T:.2f}")
        ax.axvline(cal["per_temperature"][f"{T:.3f}"]["S_av"], color=colors[T], ls=":", lw=1)
    which = "paper's $c_0, c_1$" if v == "paper" else "smeared-rdf $c_0, c_1$"
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
    ax.set(xlabel=r"$S_i$ ($\sigma^2$)", ylabel=r"$P(S)$",
           title=f"(b) {which}" + (" (stored)" if v == calibration else ""))
axes[0].legend(fontsize=8)
fig.tight_layout()
savefig(fig, "fig3b")
plt.show()

# %% [markdown]
# Dotted lines: $S^{av}$ of the caging potential at each temperature (notebook 02).
#
# ## Mean, width and skewness against temperature

# %%
# NBVAL_CHECK_OUTPUT
rows = {}
print(f"{'T':>5} | {'<bPhi>':>7} {'sd':>6} {'skew':>6} | {'variant':>8} {'<S>':>9} {'sd':>9} {'skew':>6} "
      f"{'<S>/S_av':>8} {'NaN':>5}")
for T in temperatures:
    dep = data[T]["depth"]
    pt = cal["per_temperature"][f"{T:.3f}"]
    rows[T] = {"depth": {"mean": float(dep.mean()), "std": float(dep.std()), "skew": float(stats.skew(dep)),
                         "n": int(dep.size)}}
    for v in local.VARIANTS:
        s = data[T][v]
        rows[T][v] = {"mean": float(s.mean()), "std": float(s.std()), "skew": float(stats.skew(s)),
                      "n_nonpositive": int(data[T][v + "_nonpositive"]), "ratio_to_S_av": float(s.mean() / pt["S_av"])}
        head = (f"{T:5.2f} | {dep.mean():7.2f} {dep.std():6.2f} {stats.skew(dep):6.2f} |"
                if v == "paper" else f"{'':5} | {'':7} {'':6} {'':6} |")
        r_ = rows[T][v]
        print(f"{head} {v:>8} {sig(r_['mean']):9g} {sig(r_['std'], 2):9g} {r_['skew']:6.2f} "
              f"{r_['ratio_to_S_av']:8.2f} {r_['n_nonpositive']:5d}")

# %% [markdown]
# How to read the table: with decreasing $T$ the local depth moves to more negative values
# (a deeper cage: more well-defined neighbour shells) and, in the paper, its distribution
# broadens; through $1/S = c_0 + c_1\beta\Phi_r$ (with $c_1 < 0$) the softness moves to smaller
# values and narrows. The mean local softness sits above $S^{av}$ with the paper's $c_0, c_1$,
# because the $\delta$-smearing lowers the first peaks and makes every local depth shallower
# than the depth of the unsmeared average rdf; the smeared calibration removes most of that
# offset by construction.

# %%
# NBVAL_CHECK_OUTPUT
mean_S = [rows[T][calibration]["mean"] for T in temperatures]
mean_phi = [rows[T]["depth"]["mean"] for T in temperatures]
print("mean local depth deepens as T falls:", bool(np.all(np.diff(mean_phi) > 0)))
print(f"mean local softness ({calibration}) grows with T:", bool(np.all(np.diff(mean_S) > 0)))

# %%
# the histograms behind Fig. 3 (shared edges across temperatures), so the figure can be redrawn from data/
def histograms(key):
    allv = np.concatenate([data[T][key] for T in temperatures])
    edges = np.linspace(*np.percentile(allv, [0.05, 99.95]), n_bins)
    return {"edges": edges.tolist(),
            "density": {f"{T:.3f}": np.histogram(data[T][key], edges, density=True)[0].tolist()
                        for T in temperatures}}


out = {
    "preset": preset, "delta": delta, "calibration": calibration, "calibration_file": str(cal_path),
    "histograms": {"depth": histograms("depth"), **{f"S_{v}": histograms(v) for v in local.VARIANTS}},
    "temperatures": temperatures, "per_temperature": {f"{T:.3f}": rows[T] for T in temperatures},
    "runs": summary,
    "fig2": {"delta": deltas_fig2, "max_dev_from_smeared_histogram":
             {str(dl): float(np.max(np.abs(avg[dl] - smeared[dl])[:, r2 > 0.6])) for dl in deltas_fig2}},
    "provenance": provenance(notebook="03_local_softness", preset=preset, delta=delta, calibration=calibration),
}
write_json(data_out / "local_softness.json", out)
print(f"wrote {data_out / 'local_softness.json'}")
