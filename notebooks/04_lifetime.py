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
# # 04 — How long does local softness live?
#
# A structural quantity can only steer the dynamics if it outlives the events it is meant to
# predict. Notebook 03 gave every A particle a softness $S_i(t)$ in every frame; here we ask
# how fast that field forgets itself, and compare with how fast the particles leave their
# cages (paper Fig. 4).
#
# **Softness autocorrelation (Eq. 9).** For two frames $t'$ and $t'+t$, the Pearson
# correlation across particles,
#
# $$C_S(t) = \Big\langle \frac{1}{N_A}\sum_i
#   \frac{[S_i(t') - \bar S(t')]\,[S_i(t'+t) - \bar S(t'+t)]}{\sigma_S(t')\,\sigma_S(t'+t)}\Big\rangle_{t'},$$
#
# is 1 for a frozen softness field and 0 for one reshuffled at random; it is blind to a
# uniform drift of all softnesses. **Overlap (Eq. 10).** $Q(t)$ is the fraction of A particles
# that are still within $a = 0.3$ of where they were at $t'$: it decays when particles leave
# their cages.
#
# Both are averaged over time origins on the log-spaced frames: each block of the log schedule
# starts a new origin, and from an origin we use the frames inside its block (short lags) and
# the later block starts (lags that are whole blocks). The lags are therefore exactly the
# schedule's own, the same as those of $F_s(q,t)$ in notebook 05.
#
# **Propagator.** To see *how* the softness of a particle changes while the particle itself
# stays put, we follow particles whose softness at the origin lies in a bin around $S_0$ and
# which have not moved farther than 0.5 from their starting point at any stored frame up to
# $t$: $G(S, S_0, t)$ is the distribution of their $S(t)$ and $\langle S(t)\rangle_{S_0}$ its mean.

# %% tags=["parameters"]
preset = "quick"
dataset = ""                # a data set file (TOML) of your own trajectories; when set, preset is ignored (README)
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
delta = 0.09                # must match the softness files (notebook 03)
calibration = "paper"       # must match the softness files: 'paper' or 'smeared'
temperatures_fig4a = []     # default: quick 1.00, 0.80, 0.60; paper 0.80, 0.53, 0.47
a = 0.3                     # overlap radius of Q(t) (sigma_AA)
r_stay = 0.5                # propagator: largest excursion from the starting point (sigma_AA)
n_s0 = 5                    # S0 bins (quantiles of S at the lowest T) for Fig. 4c
times_fig4b = []            # lags for Fig. 4b; default 0, 0.01, ~tau_alpha / 10, the longest well-sampled lag
min_count = 30              # propagator rows with fewer particle-origin pairs are not drawn
s0_quantiles_fig4b = [0.05, 0.2]  # the 'hard' S0 bin of Fig. 4b, as quantiles of P(S)
temperatures = []           # a subset of the temperatures (default: all); Fig. 4a shows temperatures_fig4a of them
require_equilibrated = True  # leave out runs that notebook 01 did not find equilibrated

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np

from softlib.io.store import write_json
from softlib.pipeline import figures, layout, lifetime_stage as ls
from softlib.pipeline.plotting import sig

ctx = layout.setup(preset, build_dir, data_dir, fig_dir, temperatures, require_equilibrated, dataset=dataset)
chosen = ls.fig4a_temperatures(ctx.temperatures, temperatures_fig4a)
tags = {T: ctx.tags[T] for T in chosen}
T_low = chosen[0]

# %% [markdown]
# ## Data: log-spaced frames of every run
#
# Softness from notebook 03 (`build/<preset>/softness/<run>/log.*`), unwrapped positions from
# the run's `log.gsd`, the block length from the run plan. A run without log-spaced frames (a data
# set that gives only dense frames) is analysed on its dense frames with log-spaced lags and an
# origin every tau (`softlib.analysis.dynamics.time_pairs`, schedule 'linear').

# %%
runs = ls.load_log_runs(ctx, tags, calibration, delta)

# %%
# NBVAL_CHECK_OUTPUT
for tag, r in runs.items():
    if r["frames"] == "log":
        print(f"{tag}: {r['times'].size} log frames, block {r['block'] or float('nan'):g} tau, {r['n_origins']} "
              f"time origins, {r['S'].shape[1]} A particles, NaN softness entries: {r['n_nonpositive']}")
    else:
        print(f"{tag}: no log frames: {r['times'].size} dense frames, {r['grid']['lags'].size} log-spaced lags, "
              f"{r['n_origins']} time origins, {r['S'].shape[1]} A particles, NaN softness entries: "
              f"{r['n_nonpositive']}")

# %% [markdown]
# ## Fig. 4(a): $C_S(t)$ and $Q(t)$
#
# $\tau_\alpha$ is read from notebook 01's summary (`data/<preset>/simulate/<run>.json`) where it
# exists, else measured here from $F_s(q = 7.25, t)$ of the A particles on the same log frames.
# The decay time of $C_S$ is where it crosses $1/e$ (interpolated in $\ln t$).

# %%
curves = ls.lifetime_curves(runs, a, ctx.layout.summaries)
fig = figures.fig4a(curves, tags, ctx.colors)
ctx.savefig(fig, "fig4a")

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'run':>10} {'tau_alpha':>10} {'(source)':>18} {'tau_C_S':>8} {'tau_Q':>7} {'C_S(tau_a)':>10}")
for tag, cv in curves.items():
    c_at = ls.value_at(cv["t"], cv["C_S"], cv["tau_alpha"])
    print(f"{tag:>10} {sig(cv['tau_alpha']):10g} {cv['tau_alpha_source']:>18} {sig(cv['tau_C_S']):8g} "
          f"{sig(cv['tau_Q']):7g} {c_at:10.2f}")

# %% [markdown]
# Reading Fig. 4(a): $Q(t)$ shows the two-step decay of caged dynamics, a plateau while the
# particles rattle in their cages and a final decay on the scale of $\tau_\alpha$. $C_S(t)$
# first drops quickly — the vibrations inside the cage change each particle's neighbour
# distances and thus its smeared rdf — then decays with the cages on a time comparable to
# $\tau_\alpha$. Both slow down together as $T$ falls: the lifetime of the softness field is set
# by the lifetime of the cages.
#
# ## Fig. 4(b): the propagator of hard particles at the lowest temperature
#
# Particles that start in a low-softness ("hard") bin of $P(S)$ and do not move farther than
# 0.5: their softness distribution spreads and drifts toward the overall $P(S)$ (grey) although
# the particles themselves stay in their cages — the neighbourhood rearranges around them.

# %%
prop = ls.propagators(runs, tags[T_low], n_s0, s0_quantiles_fig4b, r_stay)
tau_low = curves[tags[T_low][0]]["tau_alpha"]
pick = ls.fig4b_lags(prop["hard"], tau_low, min_count, times_fig4b)
fig = figures.fig4b(prop, pick, T_low)
ctx.savefig(fig, "fig4b")

# %% [markdown]
# ## Fig. 4(c): mean softness of particles that stay put
#
# $\langle S(t)\rangle_{S_0}$ for $S_0$ bins spanning $P(S)$ (quintiles), among particles that
# stayed within 0.5 of their start. The groups converge to the overall mean (dashed) on a time
# of the order of $\tau_\alpha$ (vertical line): hard regions soften and soft ones harden
# without their particles leaving, the facilitation-like evolution of the softness field.
# Points resting on fewer than `min_count` particle-origin pairs are not drawn (at long lags
# few particles have stayed within 0.5, and the log schedule has few origins).

# %%
fig = figures.fig4c(prop, T_low, tau_low, r_stay, min_count)
ctx.savefig(fig, "fig4c")

# %%
# NBVAL_CHECK_OUTPUT
sp = ls.spread_check(prop["s0"], min_count)
print(f"T = {T_low:.2f}: spread of <S>_S0 over the {n_s0} S0 bins: {sig(sp['spread0'])} at t = 0, "
      f"{sig(sp['spread_end'])} at t = {sig(sp['t_end'])} (ratio {sp['spread_end'] / sp['spread0']:.1f})")
slower = [cv["tau_C_S"] for cv in curves.values()]  # curves are ordered by rising T
print("C_S decays more slowly at lower T:", bool(np.all(np.diff(slower) < 0)))

# %%
out = ls.lifetime_result(ctx.preset, curves, prop, T_low, chosen, delta, calibration, a, r_stay)
write_json(ctx.layout.json("lifetime"), out)
print(f"wrote {ctx.layout.json('lifetime')}")
