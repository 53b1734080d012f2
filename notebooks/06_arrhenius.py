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
# # 06 — An Arrhenius law for the softness, and the onset temperature
#
# Notebook 05 measured, at every temperature, the probability $P_R(S)$ that an A particle
# whose local softness lies in a bin around $S$ is rearranging ($p_{hop} > p_c$). The paper
# proposes that each softness bin follows its own Arrhenius law,
#
# $$P_R(S) = P_0(S)\, e^{-\Delta E(S)/T},$$
#
# so that $\ln P_R$ is a straight line in $1/T$ with slope $-\Delta E(S)$ and intercept
# $\ln P_0(S)$ (Fig. 5(c)); $P_R/P_0$ against $\Delta E/T$ should then collapse on
# $e^{-x}$ (right panel of Fig. 5(c)), and the barrier should fall as the softness grows (Fig. 5(d)). Extrapolated
# to high temperature, the lines of soft and hard bins meet; above that point a harder
# particle would be *more* likely to rearrange than a softer one, so the softness loses its
# meaning there. The paper reads this crossing, $T = 0.801$, as the onset temperature.
#
# **How we fit.** For each shared softness bin: a weighted least-squares line of $\ln P_R$
# against $1/T$, with the error of $\ln P_R$ from a bootstrap over particles (each particle's
# frames resampled together, since consecutive frames are strongly correlated). Errors of
# $\Delta E$ and $\ln P_0$ are inflated by $\sqrt{\chi^2/\mathrm{dof}}$ when the points scatter
# more than their errors. Bins without particle-frames or without any rearranging
# particle-frame at some temperature are excluded and listed. **The crossing** is the point
# $(x^*, y^*)$ that minimises $\sum_k (\ln P_{0,k} - \Delta E_k x - y)^2$ over the kept bins,
# i.e. $x^* = \mathrm{cov}(\ln P_0, \Delta E)/\mathrm{var}(\Delta E)$, $T^* = 1/x^*$; its interval comes
# from refitting every bootstrap replicate.
#
# **Which temperatures.** Where $\Delta t$ of $p_{hop}$ is long compared with $\tau_\alpha$, a
# large share of all particle-frames counts as rearranging, $P_R(S)$ flattens, and such a
# point can drag the crossing towards itself. So we fit twice: over all temperatures and
# over the selective ones ($T \le 0.60$, docs/methods.md §6).

# %% tags=["parameters"]
preset = "quick"
dataset = ""             # a data set file (TOML) of your own trajectories; when set, preset is ignored (README)
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
window = 15.0            # must match the window of notebook 05
calibration = "paper"    # must match notebook 05
t_selective = 0.60       # the selective subset: temperatures up to this one
min_frames = 20          # a bin needs this many particle-frames at every temperature
n_boot = 200
seed = 0
finite_size_preset = None  # e.g. "seed": compare with that preset's run(s) at a shared temperature

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np

from softlib.analysis import arrhenius as ar
from softlib.pipeline import figures_dynamics as figures, layout, rearrangement_stage as rs, report
from softlib.pipeline.plotting import sig_text as sig, tf  # numbers go into text (the comparison table) here

ctx = layout.setup(preset, build_dir, data_dir, fig_dir, select=False, dataset=dataset)
inputs = rs.load_tables(ctx.layout, window, calibration)
rear, temperatures, edges, tables = inputs["rear"], inputs["temperatures"], inputs["edges"], inputs["tables"]

# %% [markdown]
# ## Fits over all temperatures and over the selective subset

# %%
fits, selective_reason = rs.arrhenius_fits(temperatures, tables, edges, t_selective, min_frames, n_boot, seed)

# %%
# NBVAL_CHECK_OUTPUT
for name, fit in fits.items():
    print(f"fit over {name} temperatures {fit.temperatures.tolist()} (dof per bin = {fit.dof}):")
    print(f"  {'S':>9} {'Delta E':>8} {'+-':>6} {'ln P0':>7} {'+-':>6} {'chi2/dof':>8}")
    for k in np.flatnonzero(fit.kept):
        print(f"  {fit.centers[k]:9.2e} {fit.delta_e[k]:8.2f} {fit.delta_e_err[k]:6.2f} {fit.ln_p0[k]:7.2f} "
              f"{fit.ln_p0_err[k]:6.2f} {fit.chi2_dof[k]:8.1f}")
    for e in fit.excluded:
        print(f"  excluded bin {e['bin']} (S = {e['center']:.2e}): {e['reason']}")
if selective_reason:
    print(f"selective subset T <= {t_selective}: no fit possible. {selective_reason}")

# %% [markdown]
# With two temperatures a line goes exactly through both points: $\chi^2/\mathrm{dof}$ is
# undefined (printed as nan) and the linearity of the Arrhenius plot is not tested at all.

# %%
shown, label = rs.shown_fit(fits, t_selective)
fit = fits[shown]
# NBVAL_CHECK_OUTPUT
print(f"Fig. 5(c, d) show the fit over {label[shown]}")
for name, f in fits.items():
    c = f.crossing
    print(f"onset (crossing) temperature, {label[name]}: T* = {tf(c['T'])} "
          f"[{tf(c['low'])}, {tf(c['high'])}] ({100 * c['interval']:.0f} % bootstrap interval, "
          f"{c['n_failed']} of {c['n_boot']} replicates without a crossing)   paper: 0.801")

# %% [markdown]
# ## Fig. 5(c): $\ln P_R$ against $1/T$, lines extrapolated to their crossing

# %%
fig = figures.fig5c(fits, shown, label[shown])
ctx.savefig(fig, "fig5c")

# %% [markdown]
# Grey band: bootstrap interval of the crossing; dotted: the paper's 0.801; open circles:
# temperatures outside the fit shown (if any). Right panel: the collapse $P_R/P_0$ against
# $\Delta E/T$ with the line $e^{-x}$.
#
# ## Fig. 5(d): the barrier against softness

# %%
trend = ar.barrier_trend(fit)
fig = figures.fig5d(fit, trend, label[shown])
ctx.savefig(fig, "fig5d")

# %%
# NBVAL_CHECK_OUTPUT
print(f"Delta E against S:   slope {sig(trend['S']['slope'], 2)} +- {sig(trend['S']['slope_err'], 1)}, "
      f"R^2 = {trend['S']['r2']:.2f}")
print(f"Delta E against 1/S: slope {sig(trend['inv_S']['slope'], 2)} +- {sig(trend['inv_S']['slope_err'], 1)}, "
      f"R^2 = {trend['inv_S']['r2']:.2f}")

# %% [markdown]
# **Reading these fits.** The error bars of $\ln P_R$ are smallest where $P_R$ is large, i.e. at the
# highest temperatures, so a weighted line follows those points most closely. If $\ln P_R$ bends
# (it must level off as $P_R \to 1$ when most particle-frames count as rearranging), the lines of
# all bins are pulled together near the hottest temperature and their crossing lands there; a
# large $\chi^2/\mathrm{dof}$ is the sign of it. That is why the crossing over the selective
# temperatures is the one to compare with the paper whenever the preset has at least two of them.

# %% [markdown]
# ## Equilibration of the runs behind these numbers
#
# Notebook 01 judged every run (length in units of the measured $\tau_\alpha$, energy drift,
# the two halves of production); notebooks 02-05 used only runs that passed. At temperatures
# with two samples the spread of $\tau_\alpha$ between them shows the sample-to-sample
# scatter that a single run of our size carries.

# %%
# NBVAL_CHECK_OUTPUT
equil = report.equilibration_table(ctx.layout.summaries)
print(f"{'run':>10} {'tau_alpha':>9} {'n tau eq':>8} {'e_pot/N':>8}  equilibrated")
for tag, d in equil.items():
    n_eq = f"{d['n_tau_eq']:8.0f}" if d["n_tau_eq"] is not None else f"{'n/a':>8}"
    e_pot = f"{d['e_pot']:8.3f}" if d["e_pot"] is not None else f"{'n/a':>8}"
    print(f"{tag:>10} {sig(d['tau_alpha'], 2):>9} {n_eq} {e_pot}  "
          f"{'yes' if d['equilibrated'] else ('NO (left out)' if ctx.dataset is None or ctx.dataset.require_equilibrated else 'NO (analysed anyway)')}")
if ctx.dataset is not None:
    print("data set: runs checked by notebook 02 on their dense frames (n tau eq: the trajectory's own length "
          f"{[round(d['n_tau_run'] or float('nan')) for d in equil.values()]} tau_alpha; the equilibration before "
          "it and the energy drift are unknown: the files hold no energies)")

# %% [markdown]
# ## Finite size: the same temperature at N = 4000
#
# The paper simulates N = 4000; the paper preset here uses N = 1000 so that it fits a 2-core
# machine. When `finite_size_preset` names a preset with a run at one of our temperatures
# (`make paper` runs T = 0.60 of the `seed` preset, N = 4000, with LAMMPS on 2 MPI ranks),
# we compare the two sizes at that temperature: $P(\beta\Phi_r)$ and $P(S)$ from the stored
# per-particle files, and $P_R(S)$ on the *same* softness bins (notebook 05 of the large run
# reuses this preset's bins). The softness of the large run uses this preset's $c_0, c_1$,
# since one temperature cannot calibrate Eq. 7.

# %%
fs = report.finite_size(ctx.layout, finite_size_preset, rear)
if fs is not None and "P_R_z" not in fs:
    print("note: the two presets used different softness bins; P_R is compared bin by bin only where "
          "they coincide (rerun notebook 05 of the large run with bins_from = this preset's json)")

# %%
if fs is not None:
    fig = figures.finite_size(fs, window)
    ctx.savefig(fig, "finite_size")

# %%
# NBVAL_CHECK_OUTPUT
if fs is None:
    print("finite-size comparison: not requested (finite_size_preset = None)")
else:
    print("\n".join(report.finite_size_table(fs)))

# %% [markdown]
# ## Our numbers against the paper's
#
# The paper's system is N = 4000 at T = 0.47 ... 0.80; the quick preset is N = 500 at
# T = 0.60 ... 1.00 with short runs, so only the signs and rough sizes can be compared there.
# `data/<preset>/COMPARISON.md` records the same table with notes.

# %%
rows = report.comparison_rows(rear, fits, selective_reason, trend, shown, label, equil, calibration, t_selective,
                              fs=fs, kind=ctx.kind, **report.stage_outputs(ctx.layout))

# %% [markdown]
# ## Where we differ, and why
#
# The list below is computed from the numbers above (so it stays true when the notebook is
# rerun with other parameters); it is copied into `COMPARISON.md`. The generic causes are the
# system size (the paper preset's N = 1000 against the paper's 4000, so fewer particles per frame and
# larger sample-to-sample fluctuations at low T), the run lengths (about 20 $\tau_\alpha$ of
# production in the paper preset), and our choices (docs/methods.md) (shell width of $S(q)$, $p_c$ from the MSD at $t^*$,
# the window $\Delta t$).

# %%
facts = report.run_facts(ctx.layout.summaries)
differences = report.differences(rear, fits, label, equil, facts, fs, kind=ctx.kind)
smoke_note = report.smoke_test_note(rear, fits, facts, window, t_selective, kind=ctx.kind)

# %%
# NBVAL_CHECK_OUTPUT
print("\n".join(report.table_lines(rows)))
print()
for d in differences:
    print("-", d)
if smoke_note:
    print(smoke_note)

# %% [markdown]
# ## Saved results

# %%
# NBVAL_IGNORE_OUTPUT
results = report.results_dict(ctx.preset, rear, fits, selective_reason, trend, shown, label, equil, edges, differences,
                              fs, window, calibration, t_selective=t_selective, min_frames=min_frames,
                              n_boot=n_boot, seed=seed, inputs=inputs["inputs"])
written = report.write_report(ctx.layout, results, rows, differences, label[shown], smoke_note)
print("wrote", *written)
