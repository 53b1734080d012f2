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
# (Eqs. 5-7; docs/methods.md §2). The depth needs nothing but an rdf and the pair potential, so it can
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
# (The printed Eq. 8 has a 2-D prefactor; we use the 3-D one of docs/methods.md §3.) $\rho_v$ counts the
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
dataset = ""              # a data set file (TOML) of your own trajectories; when set, preset is ignored (README)
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
# NBVAL_CHECK_OUTPUT
from pathlib import Path

import numpy as np

from softlib.analysis import local_softness as local
from softlib.pipeline import figures, layout, softness_stage as ss
from softlib.io.store import write_json
from softlib.pipeline.plotting import sig

ctx = layout.setup(preset, build_dir, data_dir, fig_dir, temperatures, require_equilibrated, dataset=dataset)
temperatures, tags, T_low = ctx.temperatures, ctx.tags, ctx.T_low
cal_path = Path(calibration_file) if calibration_file else ctx.layout.calibration
cal = local.load_calibration(cal_path)
params = ss.softness_parameters_by_T(cal, temperatures)

# %%
# NBVAL_CHECK_OUTPUT
print(f"calibration: {cal_path}")
print(f"  paper   : 1/S = {sig(cal['c0'], 3)} + {sig(cal['c1'], 3)} beta Phi_r")
print(f"  smeared : 1/S = {sig(cal['smeared']['c0'], 3)} + {sig(cal['smeared']['c1'], 3)} beta Phi_r "
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
pos_fig2, species, box = ss.fig2_frames(ctx.source(tags[T_low][0]), frames_fig2)
fig2 = ss.fig2_data(pos_fig2, species, box, deltas_fig2)
i0 = int(np.flatnonzero(species == 0)[0])
r = np.linspace(0.5, 2.5, 401)
terms = ss.neighbour_terms(pos_fig2[0], species, box, i0, r, delta)
fig = figures.fig2_single_particle(terms, r, fig2, params[T_low]["paper"]["limits"], i0, T_low, delta)
ctx.savefig(fig, "fig2_single_particle")

# %% [markdown]
# ## Fig. 2: the average of local rdfs
#
# Averaged over all A particles of 20 frames at the lowest temperature, $g^i_{AA}$ reproduces
# the histogram rdf convolved with the same Gaussian (dashed): the first peak is lowered and
# broadened by the smearing, the more so the larger $\delta$, and the smeared curve is nonzero
# below the contact distance where the true $g$ vanishes.

# %%
fig = figures.fig2(fig2, T_low)
ctx.savefig(fig, "fig2")

# %%
# NBVAL_CHECK_OUTPUT
for dl in deltas_fig2:
    print(f"delta = {dl}: first peak of <g^i_AA> = {fig2['avg'][dl][0].max():.2f} "
          f"(histogram {fig2['g_hist'][0, 0].max():.2f}); "
          f"max |<g^i> - smeared histogram| = {fig2['max_dev'][dl]:.0e}")

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
summary = ss.compute_softness(ctx, cal, delta, schedules, chunk, calibration)

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
data = ss.pooled_softness(ctx.layout, tags, params)
fig = figures.fig3a(data, cal, ctx.colors, n_bins)
ctx.savefig(fig, "fig3a")

# %%
fig = figures.fig3b(data, cal, ctx.colors, calibration, local.VARIANTS, n_bins)
ctx.savefig(fig, "fig3b")

# %% [markdown]
# Dotted lines: $S^{av}$ of the caging potential at each temperature (notebook 02).
#
# ## Mean, width and skewness against temperature

# %%
# NBVAL_CHECK_OUTPUT
rows = ss.softness_moments(data, cal)
print(f"{'T':>5} | {'<bPhi>':>7} {'sd':>6} {'skew':>6} | {'variant':>8} {'<S>':>9} {'sd':>9} {'skew':>6} "
      f"{'<S>/S_av':>8} {'NaN':>5}")
for T in temperatures:
    d = rows[T]["depth"]
    for v in local.VARIANTS:
        head = (f"{T:5.2f} | {d['mean']:7.2f} {d['std']:6.2f} {d['skew']:6.2f} |"
                if v == "paper" else f"{'':5} | {'':7} {'':6} {'':6} |")
        r_ = rows[T][v]
        print(f"{head} {v:>8} {sig(r_['mean'], 3):9g} {sig(r_['std'], 2):9g} {r_['skew']:6.2f} "
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
# the histograms behind Fig. 3 (shared edges across temperatures) go with it, so the figure can be redrawn
out = ss.local_softness_result(ctx.preset, data, rows, summary, fig2, delta, calibration, cal_path, n_bins)
write_json(ctx.layout.json("local_softness"), out)
print(f"wrote {ctx.layout.json('local_softness')}")
