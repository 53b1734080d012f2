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
# # 09 — Which conclusions survive a change of the analysis choices
#
# Notebooks 02-06 make choices the paper leaves open or fixes without a test: the width $\delta$ of
# the Gaussians in the local rdf (Eq. 8), the window $\Delta t$ over which $p_{hop}$ is computed, and
# the constants $c_0, c_1$ that turn a local depth into a softness (the paper's, fitted against the
# depth of the average rdf, or the smeared variant, fitted against the depth of the $\delta$-smeared
# average rdf). A result that only holds for one value of such a choice says little about the liquid.
#
# `make sweep SWEEP=sweeps/<name>.toml` reruns the notebooks downstream of the first one a parameter
# enters, once per value, each point in its own folder (`softlib.pipeline.sweep`), and gathers the
# headline numbers of every point's `results.json` into one table,
# `data/<preset>/sweeps/<sweep>.csv`, one row per point, quantity, temperature and softness bin. The
# row set `main` is the main build, the reference every point is compared with.
#
# This notebook reads those tables. For each sweep it shows the headline numbers per point, draws
# them against the swept parameter, and tests three statements of notebooks 05 and 06:
#
# 1. **The onset temperature.** The crossing $T^*$ of the Arrhenius lines (for the fit the main
#    build shows) moves with the parameter no more than its uncertainty allows: the bootstrap interval
#    of every point contains the main build's $T^*$.
# 2. **Soft particles rearrange more often.** The fraction of rearranging particles softer than the
#    peak of $P(S)$ stays above its baseline, the same fraction for all particle-frames (what a softness
#    without any information would give). We also count where the margin exceeds two combined
#    standard errors.
# 3. **The barrier falls with the softness.** The slope of $\Delta E$ against $S$ keeps the sign it has
#    in the main build.
#
# A statement *survives* a sweep when it holds at every point. Each sentence below is written from the
# numbers, so it changes with them.

# %% tags=["parameters"]
preset = "quick"
dataset = ""              # a data set file (TOML); when set, preset is ignored (README)
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
sweeps = []               # names of the sweep tables to show (default: every table in <data_dir>/<name>/sweeps)

# %%
# NBVAL_IGNORE_OUTPUT
from IPython.display import display

from softlib.pipeline import layout, sweep

ctx = layout.setup(preset, build_dir, data_dir, fig_dir, select=False, dataset=dataset)
tables = sweep.read_tables(ctx.layout, sweeps)
print(sweep.inventory(ctx.layout, tables))

# %% [markdown]
# ## The headline numbers per point
#
# One line per point (and `main`): the swept values, the fraction above the peak and its baseline
# with their bootstrap errors, the onset temperature with its interval and the fit it comes from, the
# slope of the barrier against $S$, and $p_c$, $\tau_\alpha$ at the lowest temperature. $p_c$ and
# $\tau_\alpha$ come from the dynamics alone, so they must not move with $\delta$, $\Delta t$ or the
# calibration: a change there would point at a stage that read the wrong runs.

# %%
# NBVAL_IGNORE_OUTPUT
for name, df in tables.items():
    print(f"sweep {name}")
    display(sweep.headline_table(df))

# %% [markdown]
# ## The figure
#
# Top: the three headline numbers against the swept parameter, the main build as a grey dotted line
# (and its interval as a grey band for $T^*$). Bottom: the barrier per softness bin of every point,
# and $p_c$, $\tau_\alpha$ per temperature. The same figure is in `figures/<preset>/sweeps/`.

# %%
# NBVAL_IGNORE_OUTPUT
for name, df in tables.items():
    fig = sweep.plot_sweep(df, name)

# %% [markdown]
# ## Which conclusions survive

# %%
# NBVAL_IGNORE_OUTPUT
for name, df in tables.items():
    print(f"sweep {name}:")
    for c in sweep.conclusions(df):
        print(f"- {c['sentence']}")

# %% [markdown]
# How to read a failure. An onset temperature whose interval misses the main value at some window is
# a sign that $\Delta t$ decides which temperatures have a flat $P_R(S)$ (notebook 06 explains how a
# flat temperature pins the crossing). A fraction above the peak that falls to its baseline means that
# the softness, at that setting, carries no information on who rearranges. A barrier slope that
# changes sign means that the ordering of Fig. 5(d) is not a property of the liquid but of the choice.
