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
# # 05 — Where particles rearrange, and how soft they were
#
# The local softness $S_i$ of notebook 03 is a static, single-frame property of an A
# particle. This notebook asks whether it tells us which particles are about to leave
# their cage (the paper's Fig. 5(a, b)). We need three ingredients:
#
# 1. a mobility threshold set by the dynamics of each temperature: the mean squared
#    displacement at the time $t^*$ where the non-Gaussian parameter peaks;
# 2. a per-particle, per-frame indicator of a cage jump, $p_{hop}$;
# 3. the softness of the particles at the moment such a jump starts.
#
# ## The cage-jump indicator (Eq. 2)
#
# Take the trajectory of one particle around time $t$ and split a window of length
# $\Delta t$ in two halves, the past $U = [t-\Delta t/2,\, t]$ and the future
# $V = [t,\, t+\Delta t/2]$. If the particle rattles in one cage during the whole window,
# both halves scatter around the same mean position and the spread of the past about the
# *future* mean is just the rattling amplitude. If the particle changes cage near $t$, the
# past scatters about a point far from the future mean and vice versa. Candelier's
# indicator multiplies the two cross-spreads,
#
# $$p_{hop}(i,t) = \sqrt{\big\langle (\mathbf r_i - \langle \mathbf r_i\rangle_V)^2\big\rangle_U\;
#                         \big\langle (\mathbf r_i - \langle \mathbf r_i\rangle_U)^2\big\rangle_V},$$
#
# which has units of length$^2$ and so can be compared with a mean squared displacement.
# (The printed Eq. 2 carries extra square roots; we use the length$^2$ form fixed in
# docs/methods.md §5.) For a particle that jumps by $d$ with no thermal noise, the peak height is
# $d^2\,(h/(h+1))^{3/2}$ with $h$ frames per half-window — a case the unit tests check.
#
# We compute $p_{hop}$ with prefix sums of $\mathbf r$ and $|\mathbf r|^2$ along the dense
# linear frames: every window mean and spread then costs O(1), so a whole trajectory costs
# O(frames × particles) whatever $\Delta t$.
#
# A particle-frame is **rearranging** when $p_{hop} > p_c$; an **event** is a maximal run of
# consecutive rearranging frames, and its softness is read at the event's first frame.

# %% tags=["parameters"]
preset = "quick"
dataset = ""             # a data set file (TOML) of your own trajectories; when set, preset is ignored (README)
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
window = 15.0            # Delta t of p_hop (tau)
calibration = "paper"    # which c0, c1 produced the softness files ('paper' or 'smeared')
softness_dir = ""        # default: <build_dir>/<preset>/softness
windows = [15.0, 30.0, 75.0]   # sensitivity of the headline fraction to Delta t
lag = 0.0                # softness taken this long before an event's first frame (tau)
n_bins = 8               # shared softness bins for P_R(S)
n_boot = 200             # bootstrap replicates over particles
seed = 0
n_traces = 4             # p_hop traces shown
bins_from = ""            # reuse the softness bins of another rearrangements.json (to compare presets)
temperatures = []         # a subset of the preset's temperatures (default: all)
require_equilibrated = True  # leave out runs that notebook 01 did not find equilibrated

# %%
# NBVAL_CHECK_OUTPUT
from functools import partial

import numpy as np

from softlib.io.store import write_json
from softlib.pipeline import figures_dynamics as figures, layout, rearrangement_stage as rs, stages
from softlib.pipeline.plotting import pm, sig

ctx = layout.setup(preset, build_dir, data_dir, fig_dir, temperatures, require_equilibrated, dataset=dataset)
temperatures, tags, T_low = ctx.temperatures, ctx.tags, ctx.T_low

# %% [markdown]
# ## Mobility threshold: MSD, $\alpha_2$ and $p_c$
#
# For every run we measure, for the A particles, the MSD, the 3-D non-Gaussian parameter
# $\alpha_2(t) = 3\langle\Delta r^4\rangle / (5\langle\Delta r^2\rangle^2) - 1$ and the self
# intermediate scattering function $F_s(q=7.25,t)$ as the exact isotropic average
# $\langle \sin(q\Delta r)/(q\Delta r)\rangle$. Short times come from the log-spaced frames
# (`log.gsd`, time origins at block starts); long times from the dense linear frames
# (`linear.gsd`, an origin every $\tau$), which hold far more time origins: in a short run
# the log schedule has only two or three blocks, and $\alpha_2$ near its broad maximum is
# then dominated by noise. $t^*$ is the maximum of $\alpha_2$ (a parabola in $\ln t$ through
# five lags), $p_c = \mathrm{MSD}_A(t^*)$, and $\tau_\alpha$ is where $F_s = 1/e$
# (interpolated in $\ln t$). The values from the log frames alone are printed as a check.

# %%
# NBVAL_IGNORE_OUTPUT
runs = {tag: stages.run_dynamics(ctx.source(tag)) for tag in ctx.all_tags}
for tag, r in runs.items():
    for note in r["notes"]:
        print(f"{tag}: {note}")

# %%
# NBVAL_CHECK_OUTPUT
per_T = rs.pool_dynamics(runs, tags)
print(f"{'T':>5} {'tau_alpha':>10} {'t*':>7} {'p_c':>7} | log frames: {'tau':>6} {'t*':>6} {'p_c':>6}")
for T, v in per_T.items():
    lv = v["log_frames"]
    print(f"{T:5.2f} {sig(v['tau_alpha']):10g} {sig(v['t_star']):7g} {sig(v['p_c']):7g} | "
          f"{'':11} {sig(lv['tau_alpha']):6g} {sig(lv['t_star']):6g} {sig(lv['p_c']):6g}")

# %%
fig = figures.dynamics(runs, tags, ctx.colors)
ctx.savefig(fig, "fig5_dynamics")

# %% [markdown]
# Dots: log-spaced frames; lines: log frames below the dense spacing, linear frames above.

# %% [markdown]
# ## Softness and $p_{hop}$ of every run
#
# The softness files (notebook 03) hold $S_i$ of every A particle on the dense frames;
# non-positive denominators of Eq. 7 are stored as NaN and counted — they are excluded here
# and the count is printed. The softness bins for $P_R(S)$ are shared by all temperatures:
# the intersection of the 1–99 % quantile ranges, so every bin is populated at every $T$.

# %%
soft = rs.load_linear_softness(ctx.layout, tags, calibration, softness_dir)

# %%
# NBVAL_CHECK_OUTPUT
for tag, s in soft.items():
    print(f"{tag}: {s['softness'].shape[0]} frames x {s['softness'].shape[1]} A particles, "
          f"non-positive denominators excluded: {s['n_nonpositive']}")

# %%
edges = rs.softness_edges(soft, tags, n_bins, bins_from)
if bins_from:  # e.g. the finite-size run on the bins of the paper preset, so P_R(S) compare bin by bin
    print(f"softness bins taken from {bins_from}")
res = {T: rs.pool_rearrangements(rs.samples_of(ctx, tags[T], soft), per_T[T]["p_c"], edges, window, lag,
                                 n_boot, seed, with_trace=(T == T_low), keep_softness=(T == T_low))
       for T in temperatures}

# %%
# NBVAL_CHECK_OUTPUT
print(f"Delta t = {window:g}; shared softness bins: {np.round(edges, 6).tolist()}")
print(f"{'T':>5} {'p_c':>6} {'rearranging':>11} {'events':>7} {'censored':>8}")
for T in temperatures:
    r = res[T]
    print(f"{T:5.2f} {sig(per_T[T]['p_c']):6g} {r['fraction_rearranging']:11.2f} {r['n_events']:7d} "
          f"{r['dropped'].get('left_censored', 0):8d}")

# %% [markdown]
# "rearranging" is the fraction of all A particle-frames with $p_{hop} > p_c$. Where
# $\Delta t$ is much longer than $\tau_\alpha$ (the higher temperatures here), a large part of
# all particle-frames counts as rearranging and the criterion stops being selective
# (docs/methods.md §5): keep that in mind when reading $P_R(S)$ at those temperatures. "censored"
# events already ran when $p_{hop}$ first becomes defined; their start is unknown, so they
# are left out of $P(S|R)$.
#
# ## $p_{hop}$ of a few particles at the lowest temperature

# %%
fig = figures.phop_traces(res[T_low]["trace"], per_T[T_low]["p_c"], T_low, window, n_traces)
ctx.savefig(fig, "fig5_phop_traces")

# %% [markdown]
# ## Fig. 5(a): softness of all particles and of those about to rearrange
#
# The paper reports that about 75 % of the rearranging particles are softer than the peak
# of $P(S)$. Two reference numbers make that meaningful: the same fraction for all
# particle-frames (the baseline: what a softness blind to the dynamics would give), and the
# fraction above the *median* of $P(S)$ (baseline exactly 50 %). The mode of a nearly
# symmetric $P(S)$ sits near its median but moves with the calibration $c_0, c_1$, while the
# median fraction depends only on the ordering of the depths. Errors: bootstrap over
# particles (a particle's frames are resampled together).

# %%
# NBVAL_CHECK_OUTPUT
fr = res[T_low]["fractions"]
print(f"T = {T_low:.2f}, Delta t = {window:g}, {fr['n_events']} events")
print(f"rearranging softer than the peak of P(S):   {pm(fr['fraction_above_peak'])}  (paper: about 75 %)")
print(f"all particle-frames softer than the peak:   {pm(fr['baseline_above_peak'])}  (baseline)")
print(f"rearranging softer than the median of P(S): {pm(fr['fraction_above_median'])}  (baseline 50 %)")

# %%
fig = figures.fig5a(res[T_low], T_low)
ctx.savefig(fig, "fig5a")

# %% [markdown]
# ## Fig. 5(b): probability to rearrange against softness

# %%
fig = figures.fig5b(res, edges, ctx.colors, window)
ctx.savefig(fig, "fig5b")

# %%
# NBVAL_CHECK_OUTPUT
# does P_R rise with S? Spearman rank correlation of P_R with S over the shared bins
centers = 0.5 * (edges[1:] + edges[:-1])
for T in temperatures:
    p = res[T]["P_R"]
    print(f"T = {T:.2f}: P_R from {sig(np.nanmin(p))} to {sig(np.nanmax(p))}, "
          f"max/min = {sig(np.nanmax(p) / np.nanmin(p))}, rank correlation with S = "
          f"{rs.rank_correlation(centers, p):.1f}")

# %% [markdown]
# ## The softness field in real space
#
# $P_R(S)$ pools every particle-frame of a temperature; the picture below shows what it summarises. We cut a slab
# 1.8 $\sigma_{AA}$ thick out of the first run of the lowest temperature and look down its normal: each A
# particle is a disc coloured by its local softness (red soft, blue hard, the scale centred on the median),
# the B particles are the small grey discs. A black ring marks an A particle that rearranges within the
# next $\tau_\alpha$: its $p_{hop}$ exceeds $p_c$ at some dense frame of $[t, t + \tau_\alpha]$, the same
# criterion and window as $P_R(S)$ above. The left panel is the first frame where $p_{hop}$ is defined over
# that whole interval; the right one the same slab about $3\,\tau_\alpha$ later (or as late as the run
# allows), long enough for the soft and hard regions to have rearranged themselves. (Where the run holds
# $p_{hop}$ over less than $\tau_\alpha$, or $\tau_\alpha$ is unknown, we look ahead over a shorter time and
# the printed line says so.) As a number we count, over all A particles of the box (not only the slab),
# which share of those about to rearrange sits in the softest fifth: 20 % if softness told nothing.

# %%
from softlib.pipeline import figures_field

tag_low = tags[T_low][0]
snap = figures_field.field_snapshot(ctx.source(tag_low).open("linear"), soft[tag_low], res[T_low]["trace"],
                                    per_T[T_low]["p_c"], per_T[T_low]["tau_alpha"], later=3.0, thickness=1.8)
fig = figures_field.fig_softness_field(snap, T_low)
ctx.savefig(fig, "fig_softness_field")

# %%
# NBVAL_CHECK_OUTPUT
print(f"T = {T_low:.2f}, run {tag_low}: " + (snap["note"] or f"look-ahead tau_alpha = {sig(snap['tau_alpha'])} tau")
      + f"; second panel {snap['later']:.1f} look-aheads after the first")
for panel in snap["panels"]:
    e = panel["enrichment"]
    print(f"t = {panel['t']:g}: {e['n_marked']} of {e['n']} A particles rearrange within the look-ahead "
          f"({100 * e['rate_all']:.0f} %), {100 * e['rate_soft']:.0f} % of the softest fifth; "
          f"{100 * e['marked_in_soft']:.0f} % of the rearranging are in the softest fifth "
          f"({100 * e['soft_share']:.0f} % by chance)")

# %% [markdown]
# ## Sensitivity to the window $\Delta t$
#
# The paper varies $\Delta t$ from 15 to 75 and reports similar results. We recompute the
# fractions at the lowest temperature with the same $p_c$. A window is skipped when the
# production run is shorter than twice the window (fewer than half of its frames would
# carry a $p_{hop}$ value).

# %%
# NBVAL_CHECK_OUTPUT
t_prod = runs[tags[T_low][0]]["plan"]["t_production"]
sensitivity = rs.window_sensitivity(
    windows, window, res[T_low], t_production=t_prod,
    rerun=partial(rs.pool_rearrangements, rs.samples_of(ctx, tags[T_low], soft), per_T[T_low]["p_c"],
                  edges, lag=lag, n_boot=n_boot, seed=seed))
print(f"T = {T_low:.2f}, production {t_prod:g} tau")
for w in sensitivity:
    if "skipped" in w:
        print(f"Delta t = {w['window']:g}: skipped, the production ({t_prod:g} tau) is shorter than 2 x {w['window']:g}")
    else:
        print(f"Delta t = {w['window']:g}: above peak {pm(w['fraction_above_peak'])}, baseline "
              f"{pm(w['baseline_above_peak'])}, above median {pm(w['fraction_above_median'])}, "
              f"rearranging {w['fraction_rearranging']:.2f}")

# %% [markdown]
# ## Saved results
#
# `data/<preset>/rearrangements.json` holds, per temperature, $p_c$, $t^*$, $\tau_\alpha$, the
# fractions with errors and $P(S)$, $P(S|R)$, $P_R(S)$ on the shared bins. The per-particle
# counts behind $P_R(S)$ (needed to bootstrap the Arrhenius analysis of notebook 06) go to
# `build/<preset>/rearrangements_tables.npz`.

# %%
# NBVAL_IGNORE_OUTPUT
out = rs.rearrangements_result(ctx.preset, temperatures, tags, edges, per_T, res, soft, sensitivity, window, lag,
                               calibration, n_bins, n_boot, seed, bins_from)
write_json(ctx.layout.json("rearrangements"), out)
rs.save_tables(ctx.layout.tables, edges, temperatures, res)
print("wrote", ctx.layout.json("rearrangements"), "and", ctx.layout.tables)
