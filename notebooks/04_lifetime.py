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
require_equilibrated = True  # leave out runs that notebook 01 did not find equilibrated

# %%
import json
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from softlib.analysis import dynamics as dyn
from softlib.analysis import lifetime as lt
from softlib.pipeline import plotting
from softlib.pipeline.runs import select_runs
from softlib.io.softness_store import read_softness
from softlib.pipeline.plotting import output_dirs, use_style
from softlib.pipeline.presets import get_preset
from softlib.io.store import provenance, write_json
from softlib.io.trajectory import load

use_style()
get_preset(preset)  # fails early, naming the presets, on a wrong name
runs_root = Path(build_dir) / preset / "runs"
soft_root = Path(build_dir) / preset / "softness"
data_out, fig_out = output_dirs(preset, data_dir, fig_dir)
sel = select_runs(preset, data_out / "simulate", None, require_equilibrated, runs_root)
for tag, why in sel["dropped"].items():
    print(f"left out {tag}: {why}")
temperatures = sel["temperatures"]
if temperatures_fig4a:
    chosen = sorted(float(t) for t in temperatures_fig4a)
else:  # the paper's three (0.47, 0.53, 0.80) where the preset has them, else lowest, middle, highest
    wanted = [0.47, 0.53, 0.80]
    chosen = wanted if all(any(abs(t - w) < 1e-9 for t in temperatures) for w in wanted) else \
        sorted({temperatures[0], temperatures[len(temperatures) // 2], temperatures[-1]})
absent = [T for T in chosen if T not in sel["tags"]]
if absent:
    raise ValueError(f"temperatures_fig4a {absent} have no usable run (available: {temperatures})")
tags = {T: sel["tags"][T] for T in chosen}
T_low = chosen[0]
colors = dict(zip(chosen, sns.color_palette("viridis_r", len(chosen))))


savefig = partial(plotting.savefig, folder=fig_out)
sig = plotting.sig

# %% [markdown]
# ## Data: log-spaced frames of every run
#
# Softness from notebook 03 (`build/<preset>/softness/<run>/log.*`), unwrapped positions from
# the run's `log.gsd`, the block length from the run plan.

# %%
runs = {}
for T in chosen:
    for tag in tags[T]:
        s = read_softness(soft_root / tag, "log", mmap=False)
        key = s["key"]
        if key.get("variant") != calibration or abs(key.get("delta", delta) - delta) > 1e-12:
            raise ValueError(f"{soft_root / tag} holds softness for calibration {key.get('variant')!r}, "
                             f"delta {key.get('delta')}; this notebook runs with {calibration!r}, {delta}: "
                             "rerun notebook 03 with these parameters")
        tr = load(runs_root / tag / "log.gsd")
        if not np.allclose(tr.times, s["times"]):
            raise ValueError(f"{tag}: softness and trajectory frames differ; rerun notebook 03")
        with open(runs_root / tag / "run.json") as f:
            plan = json.load(f)["plan"]
        runs[tag] = {"T": T, "S": np.asarray(s["softness"], float), "times": s["times"],
                     "pos": tr.positions[:, s["a_index"]], "block": float(plan["log_block"]),
                     "n_nonpositive": s["n_nonpositive"]}

# %%
# NBVAL_CHECK_OUTPUT
for tag, r in runs.items():
    n_org = dyn.log_block_origins(r["times"], r["block"]).size
    print(f"{tag}: {r['times'].size} log frames, block {r['block']:g} tau, {n_org} time origins, "
          f"{r['S'].shape[1]} A particles, NaN softness entries: {r['n_nonpositive']}")

# %% [markdown]
# ## Fig. 4(a): $C_S(t)$ and $Q(t)$
#
# $\tau_\alpha$ is read from notebook 01's summary (`data/<preset>/simulate/<run>.json`) where it
# exists, else measured here from $F_s(q = 7.25, t)$ of the A particles on the same log frames.
# The decay time of $C_S$ is where it crosses $1/e$ (interpolated in $\ln t$).

# %%
curves = {}
for tag, r in runs.items():
    pairs = dyn.time_pairs(r["times"], schedule="log", block=r["block"])
    t, q = lt.overlap(r["pos"], r["times"], a=a, pairs=pairs)
    _, c, excl = lt.softness_correlation(r["S"], r["times"], pairs=pairs)
    _, fs = dyn.self_intermediate_scattering(r["pos"], r["times"], schedule="log", block=r["block"])
    summ = data_out / "simulate" / f"{tag}.json"
    if summ.exists() and np.isfinite(json.loads(summ.read_text()).get("tau_alpha", np.nan)):
        tau, src = float(json.loads(summ.read_text())["tau_alpha"]), "notebook 01"
    else:
        tau, src = dyn.tau_alpha(t, fs, missing="nan"), "F_s on log frames"
    curves[tag] = {"T": r["T"], "t": t, "C_S": c, "Q": q, "F_s": fs, "excluded": excl,
                   "tau_alpha": tau, "tau_alpha_source": src,
                   "tau_C_S": lt.decay_time(t, c), "tau_Q": lt.decay_time(t, q)}

fig, ax = plt.subplots(figsize=(6.5, 4.3))
for tag, cv in curves.items():
    col = colors[cv["T"]]
    several = len(tags[cv["T"]]) > 1  # samples of one temperature: tell them apart
    which = f"T = {cv['T']:.2f}" + (f", {tag.split('_')[-1]}" if several else "")
    mark = "-o" if tag.endswith("_s0") else "-s"
    ax.plot(cv["t"], cv["C_S"], mark, ms=3, color=col, label=rf"$C_S$, {which}")
    ax.plot(cv["t"], cv["Q"], ":", lw=2, color=col, label=rf"$Q$, {which}")
    if np.isfinite(cv["tau_alpha"]):
        ax.axvline(cv["tau_alpha"], color=col, lw=0.8, ls="--")
ax.axhline(np.exp(-1), color="0.6", lw=0.8)
ax.set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"$C_S(t)$, $Q(t)$", ylim=(-0.05, 1.05),
       title=r"(a) solid: $C_S$; dotted: $Q$ ($a = 0.3$); dashed: $\tau_\alpha$")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
savefig(fig, "fig4a")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'run':>10} {'tau_alpha':>10} {'(source)':>18} {'tau_C_S':>8} {'tau_Q':>7} {'C_S(tau_a)':>10}")
for tag, cv in curves.items():
    c_at = np.interp(np.log(cv["tau_alpha"]), np.log(cv["t"]), cv["C_S"]) if np.isfinite(cv["tau_alpha"]) else np.nan
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
low = [tag for tag in tags[T_low]]
S_all = np.concatenate([runs[t]["S"].ravel() for t in low])
S_all = S_all[np.isfinite(S_all)]
e_hard = np.quantile(S_all, s0_quantiles_fig4b)
e_s0 = np.quantile(S_all, np.linspace(0, 1, n_s0 + 1))
e_s0[0], e_s0[-1] = S_all.min() - 1e-12, S_all.max() + 1e-12
e_s = np.linspace(*np.quantile(S_all, [0.001, 0.999]), 40)
props = {}
for tag in low:
    r = runs[tag]
    for name, e0 in (("hard", e_hard), ("s0", e_s0)):
        props.setdefault(name, []).append(lt.propagator(r["S"], r["pos"], r["times"], e0, e_s, r_stay=r_stay,
                                                        block=r["block"]))


def combine(res):
    """Pool propagators of several runs (same lags) by their counts."""
    cnt = sum(p["count"] for p in res)
    with np.errstate(invalid="ignore"):
        g = sum(np.nan_to_num(p["G"]) * p["count"][..., None] for p in res) / cnt[..., None]
        m = sum(np.nan_to_num(p["mean"]) * p["count"] for p in res) / cnt
    return {**res[0], "G": g, "mean": m, "count": cnt}


hard, s0 = combine(props["hard"]), combine(props["s0"])
lags = hard["times"]
tau_low = curves[low[0]]["tau_alpha"]
# the longest lag shown keeps at least a tenth of the starting pairs (and min_count), so it is not noise
good = np.flatnonzero(hard["count"][:, 0] >= max(min_count, 0.1 * hard["count"][0, 0]))
want = times_fig4b or [0.0, 0.01, 0.1 * tau_low if np.isfinite(tau_low) else 1.0, lags[good[-1]]]
pick = sorted({int(np.argmin(np.abs(np.log((lags + 1e-12) / (w + 1e-12))))) for w in want})
fig, ax = plt.subplots(figsize=(6, 4.2))
ax.hist(S_all, e_s, density=True, color="0.85", label="all A particles")
pal = sns.color_palette("rocket", len(pick))
for k, li in enumerate(pick):
    ax.plot(hard["s_centres"], hard["G"][li, 0], "-", color=pal[k], lw=2,
            label=f"t = {plotting.sig_text(lags[li], 3)} (n = {hard['count'][li, 0]})")
ax.axvspan(*e_hard, color="C0", alpha=0.1)
ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
ax.set(xlabel=r"$S$ ($\sigma^2$)", ylabel=r"$G(S, S_0, t)$",
       title=f"(b) T = {T_low:.2f}, $S_0$ in [{e_hard[0]:.2e}, {e_hard[1]:.2e}]")
ax.legend(fontsize=8)
fig.tight_layout()
savefig(fig, "fig4b")
plt.show()

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
fig, ax = plt.subplots(figsize=(6, 4.2))
pal = sns.color_palette("coolwarm", n_s0)
t_pos = s0["times"] > 0
for b in range(n_s0):
    ok = t_pos & (s0["count"][:, b] >= min_count)
    ax.plot(s0["times"][ok], s0["mean"][ok, b], "-o", ms=3, color=pal[b],
            label=rf"$S_0 \approx$ {s0['s0_centres'][b]:.2e}")
ax.axhline(S_all.mean(), color="k", ls="--", lw=1)
if np.isfinite(tau_low):
    ax.axvline(tau_low, color="0.5", lw=0.8)
ax.set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"$\langle S(t)\rangle_{S_0}$ ($\sigma^2$)",
       title=f"(c) T = {T_low:.2f}, particles within {r_stay} of their start")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: the curves fill the frame
fig.tight_layout()
savefig(fig, "fig4c")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
spread0 = np.ptp(s0["mean"][0])
last = int(np.flatnonzero((s0["count"] >= min_count).all(axis=1))[-1])
spread_end = np.ptp(s0["mean"][last])
print(f"T = {T_low:.2f}: spread of <S>_S0 over the {n_s0} S0 bins: {sig(spread0)} at t = 0, "
      f"{sig(spread_end)} at t = {sig(s0['times'][last])} (ratio {spread_end / spread0:.1f})")
slower = [curves[t]["tau_C_S"] for t in sorted(curves, key=lambda k: curves[k]["T"])]
print("C_S decays more slowly at lower T:", bool(np.all(np.diff(slower) < 0)))

# %%
out = {
    "preset": preset, "delta": delta, "calibration": calibration, "a": a, "r_stay": r_stay,
    "temperatures": chosen,
    "runs": {tag: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in cv.items()}
             for tag, cv in curves.items()},
    "propagator": {"T": T_low, "s0_edges": e_s0.tolist(), "times": s0["times"].tolist(),
                   "mean": s0["mean"].tolist(), "count": s0["count"].tolist(),
                   "hard_s0_edges": e_hard.tolist()},
    "provenance": provenance(notebook="04_lifetime", preset=preset, delta=delta, calibration=calibration,
                             a=a, r_stay=r_stay),
}
write_json(data_out / "lifetime.json", out)
print(f"wrote {data_out / 'lifetime.json'}")
