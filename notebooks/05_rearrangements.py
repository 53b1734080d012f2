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
# METHODS 6.) For a particle that jumps by $d$ with no thermal noise, the peak height is
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
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from softlib.analysis import rearrangements as rr
from softlib.io.store import json_safe
from softlib.io.trajectory import load_positions
from softlib.pipeline import stages
from softlib.pipeline import plotting
from softlib.io.softness_store import read_softness
from softlib.pipeline.runs import select_runs
from softlib.pipeline.plotting import output_dirs, use_style
from softlib.pipeline.presets import get_preset
from softlib.io.store import provenance, read_json, save_npz, write_json

use_style()
get_preset(preset)  # fails early, naming the presets, on a wrong name
runs_root = Path(build_dir) / preset / "runs"
soft_root = Path(softness_dir) if softness_dir else Path(build_dir) / preset / "softness"
data_out, fig_out = output_dirs(preset, data_dir, fig_dir)
sel = select_runs(preset, data_out / "simulate", temperatures, require_equilibrated, runs_root)
for tag, why in sel["dropped"].items():
    print(f"left out {tag}: {why}")
temperatures, tags = sel["temperatures"], sel["tags"]
T_low = temperatures[0]

savefig = partial(plotting.savefig, folder=fig_out)
sig = plotting.sig

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
runs = {tag: stages.run_dynamics(runs_root / tag) for T in temperatures for tag in tags[T]}
for tag, r in runs.items():
    for note in r["notes"]:
        print(f"{tag}: {note}")

# %%
# NBVAL_CHECK_OUTPUT
per_T = {}
print(f"{'T':>5} {'tau_alpha':>10} {'t*':>7} {'p_c':>7} | log frames: {'tau':>6} {'t*':>6} {'p_c':>6}")
for T in temperatures:
    rs = [runs[t] for t in tags[T]]
    v = {k: float(np.mean([r[k] for r in rs])) for k in ("tau_alpha", "t_star", "p_c")}
    lv = {k: float(np.mean([r["log_values"][k] for r in rs])) for k in ("tau_alpha", "t_star", "p_c")}
    per_T[T] = {**v, "p_c_samples": [r["p_c"] for r in rs], "log_frames": lv,
                "notes": sum((r["notes"] for r in rs), [])}
    print(f"{T:5.2f} {sig(v['tau_alpha']):10g} {sig(v['t_star']):7g} {sig(v['p_c']):7g} | "
          f"{'':11} {sig(lv['tau_alpha']):6g} {sig(lv['t_star']):6g} {sig(lv['p_c']):6g}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
colors = dict(zip(temperatures, sns.color_palette("viridis", len(temperatures))))
for T in temperatures:
    r = runs[tags[T][0]]
    lg, ln = r["log"], r["linear"]
    short = lg.times < ln.times[0]
    for ax, y_log, y_lin in ((axes[0], lg.msd, ln.msd), (axes[1], lg.alpha2, ln.alpha2),
                             (axes[2], lg.fs, ln.fs)):
        ax.plot(lg.times, y_log, ".", color=colors[T], ms=3, alpha=0.5)
        ax.plot(np.r_[lg.times[short], ln.times], np.r_[y_log[short], y_lin], "-", color=colors[T],
                label=f"T = {T:.2f}")
    axes[0].plot(r["t_star"], r["p_c"], "o", mfc="none", mec="k")
    axes[1].axvline(r["t_star"], color=colors[T], ls=":", lw=1)
    if np.isfinite(r["tau_alpha"]):
        axes[2].plot(r["tau_alpha"], np.exp(-1), "s", mfc="none", mec="k")
axes[0].set(xscale="log", yscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"MSD$_A$ ($\sigma^2$)",
            title=r"MSD; circles: $p_c$ = MSD$(t^*)$")
axes[1].set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"$\alpha_2$", title=r"$\alpha_2$; dotted: $t^*$")
axes[2].axhline(np.exp(-1), color="gray", lw=0.8)
axes[2].set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"$F_s(q=7.25, t)$", title=r"$F_s$; squares: $\tau_\alpha$")
axes[0].legend(fontsize=8)
fig.tight_layout()
savefig(fig, "fig5_dynamics")
plt.show()

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
soft = {}
for T in temperatures:
    for tag in tags[T]:
        s = read_softness(soft_root / tag, "linear")
        used = s["key"].get("variant", calibration) if isinstance(s["key"], dict) else calibration
        if used != calibration:
            raise ValueError(f"{soft_root / tag} holds softness of calibration {used!r}, not {calibration!r}: "
                             "point softness_dir at the right files or change the calibration parameter")
        soft[tag] = s

# %%
# NBVAL_CHECK_OUTPUT
for tag, s in soft.items():
    print(f"{tag}: {s['softness'].shape[0]} frames x {s['softness'].shape[1]} A particles, "
          f"non-positive denominators excluded: {s['n_nonpositive']}")

# %%
if bins_from:  # e.g. the finite-size run on the bins of the paper preset, so P_R(S) compare bin by bin
    edges = np.asarray(read_json(bins_from)["softness_bins"], dtype=float)
    print(f"softness bins taken from {bins_from}")
else:
    edges = rr.shared_bins([np.concatenate([np.asarray(soft[t]["softness"]).ravel() for t in tags[T]])
                            for T in temperatures], n_bins=n_bins)
centers = 0.5 * (edges[1:] + edges[:-1])

def analyse(T, win, with_traces=False):
    """Tables, events and fractions of all samples at T for p_hop window `win`."""
    n_all, n_r, S, ev_v, ev_p, dropped, n_ev, trace = [], [], [], [], [], {}, 0, None
    offset, n_valid, n_above = 0, 0, 0
    for tag in tags[T]:
        s = soft[tag]
        t, _, _, pos = load_positions(runs_root / tag / "linear.gsd")
        S_run = np.asarray(s["softness"], dtype=float)
        rd = rr.rearrangement_data(t, pos[:, s["a_index"]], s["times"], S_run, per_T[T]["p_c"], win, lag)
        a, r = rr.rearrangement_table(S_run, rd["p_hop_s"], per_T[T]["p_c"], edges)
        n_all.append(a)
        n_r.append(r)
        S.append(S_run)
        ev_v.append(rd["ev_values"])
        ev_p.append(rd["ev_particle"] + offset)
        offset += S_run.shape[1]
        n_ev += rd["events"]["first"].size
        ok = np.isfinite(rd["p_hop_s"]) & np.isfinite(S_run)
        n_valid += int(ok.sum())
        n_above += int((rd["p_hop_s"][ok] > per_T[T]["p_c"]).sum())
        for k, v in rd["dropped"].items():
            dropped[k] = dropped.get(k, 0) + v
        if with_traces and trace is None:
            trace = {"t": t, "p_hop": rd["p_hop"], "events": rd["events"]}
        del pos, rd
    nf = min(x.shape[0] for x in S)  # samples share a plan; guard against a ragged last frame
    S = np.hstack([x[:nf] for x in S])
    ev_v, ev_p = np.concatenate(ev_v), np.concatenate(ev_p)
    out = {"n_all": np.vstack(n_all), "n_rearr": np.vstack(n_r), "ev_values": ev_v, "ev_particle": ev_p,
           "n_events": n_ev, "dropped": dropped, "trace": trace,
           "fraction_rearranging": n_above / n_valid}
    out["fractions"] = rr.fraction_analysis(S, ev_v, ev_p, n_boot=n_boot, seed=seed)
    out["P_S"] = rr.softness_density(S, edges)
    out["P_S_given_R"] = rr.softness_density(ev_v, edges)
    out["P_R"], out["P_R_err"] = rr.rearrangement_probability(out["n_all"], out["n_rearr"], n_boot, seed)
    out["S_all"] = S if T == T_low else None
    return out

res = {T: analyse(T, window, with_traces=(T == T_low)) for T in temperatures}

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
# (METHODS 6): keep that in mind when reading $P_R(S)$ at those temperatures. "censored"
# events already ran when $p_{hop}$ first becomes defined; their start is unknown, so they
# are left out of $P(S|R)$.
#
# ## $p_{hop}$ of a few particles at the lowest temperature

# %%
tr = res[T_low]["trace"]
ev = tr["events"]
order = np.argsort(-np.bincount(ev["particle"], weights=ev["peak"], minlength=tr["p_hop"].shape[1]))
show = order[:n_traces]
fig, axes = plt.subplots(len(show), 1, figsize=(10, 1.6 * len(show)), sharex=True)
for ax, i in zip(np.atleast_1d(axes), show):
    ax.plot(tr["t"], tr["p_hop"][:, i], lw=0.8)
    ax.axhline(per_T[T_low]["p_c"], color="k", ls="--", lw=0.8)
    for f, l in zip(ev["first"][ev["particle"] == i], ev["last"][ev["particle"] == i]):
        ax.axvspan(tr["t"][f], tr["t"][l], color="tab:red", alpha=0.25, lw=0)
    ax.set_ylabel(rf"A{i}: $p_{{hop}}$")
np.atleast_1d(axes)[-1].set_xlabel(r"$t$ ($\tau$)")
np.atleast_1d(axes)[0].set_title(f"T = {T_low:.2f}, $\\Delta t$ = {window:g}: events (red) above $p_c$ (dashed)")
fig.tight_layout()
savefig(fig, "fig5_phop_traces")
plt.show()

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
pct = lambda d: f"{100 * d['value']:.0f} % +- {100 * d['error']:.1g} %"  # noqa: E731
print(f"T = {T_low:.2f}, Delta t = {window:g}, {fr['n_events']} events")
print(f"rearranging softer than the peak of P(S):   {pct(fr['fraction_above_peak'])}  (paper: about 75 %)")
print(f"all particle-frames softer than the peak:   {pct(fr['baseline_above_peak'])}  (baseline)")
print(f"rearranging softer than the median of P(S): {pct(fr['fraction_above_median'])}  (baseline 50 %)")

# %%
S_low = res[T_low]["S_all"]
fin = S_low[np.isfinite(S_low)]
fine = np.linspace(*np.quantile(fin, [0.002, 0.998]), 41)
fig, ax = plt.subplots(figsize=(6, 4))
ax.stairs(rr.softness_density(fin, fine), fine, color="k", lw=1.5, label="$P(S)$, all A particle-frames")
ax.stairs(rr.softness_density(res[T_low]["ev_values"], fine), fine, color="tab:red", lw=1.5,
          label="$P(S|R)$, at the start of an event")
ax.axvline(fr["peak"], color="k", ls="--", lw=0.8, label="peak of $P(S)$")
ax.axvline(fr["median"], color="gray", ls=":", lw=0.8, label="median of $P(S)$")
ax.set(xlabel=r"$S$ ($\sigma^2$)", ylabel="probability density", title=f"Fig. 5(a), T = {T_low:.2f}")
ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
ax.legend(fontsize=8)
fig.tight_layout()
savefig(fig, "fig5a")
plt.show()

# %% [markdown]
# ## Fig. 5(b): probability to rearrange against softness

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for T in temperatures:
    r = res[T]
    ax.errorbar(centers, r["P_R"], yerr=r["P_R_err"], marker="o", ms=4, capsize=2, color=colors[T],
                label=f"T = {T:.2f}")
ax.set(yscale="log", xlabel=r"$S$ ($\sigma^2$)", ylabel="$P_R(S)$", title=f"Fig. 5(b), $\\Delta t$ = {window:g}")
ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: the curves fill the frame
fig.tight_layout()
savefig(fig, "fig5b")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
# does P_R rise with S? Spearman rank correlation of P_R with S over the shared bins
from scipy.stats import spearmanr  # noqa: E402

for T in temperatures:
    p = res[T]["P_R"]
    ok = np.isfinite(p)
    rho = spearmanr(centers[ok], p[ok]).statistic
    print(f"T = {T:.2f}: P_R from {sig(np.nanmin(p))} to {sig(np.nanmax(p))}, "
          f"max/min = {sig(np.nanmax(p) / np.nanmin(p))}, rank correlation with S = {rho:.1f}")

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
sensitivity = []
print(f"T = {T_low:.2f}, production {t_prod:g} tau")
for w in windows:
    if t_prod < 2 * w:
        print(f"Delta t = {w:g}: skipped, the production ({t_prod:g} tau) is shorter than 2 x {w:g}")
        sensitivity.append({"window": w, "skipped": f"production {t_prod:g} < 2 x window"})
        continue
    r = res[T_low] if w == window else analyse(T_low, w)
    f = r["fractions"]
    sensitivity.append({"window": w, "fraction_rearranging": r["fraction_rearranging"],
                        "n_events": r["n_events"], **{k: f[k] for k in
                        ("fraction_above_peak", "baseline_above_peak", "fraction_above_median")}})
    print(f"Delta t = {w:g}: above peak {pct(f['fraction_above_peak'])}, baseline "
          f"{pct(f['baseline_above_peak'])}, above median {pct(f['fraction_above_median'])}, "
          f"rearranging {r['fraction_rearranging']:.2f}")

# %% [markdown]
# ## Saved results
#
# `data/<preset>/rearrangements.json` holds, per temperature, $p_c$, $t^*$, $\tau_\alpha$, the
# fractions with errors and $P(S)$, $P(S|R)$, $P_R(S)$ on the shared bins. The per-particle
# counts behind $P_R(S)$ (needed to bootstrap the Arrhenius analysis of notebook 06) go to
# `build/<preset>/rearrangements_tables.npz`.

# %%
# NBVAL_IGNORE_OUTPUT
def clean(d):
    return {k: v for k, v in d.items() if k not in ("trace", "S_all", "n_all", "n_rearr", "ev_values",
                                                   "ev_particle")}

out = {
    "preset": preset, "window": window, "lag": lag, "calibration": calibration,
    "temperatures": temperatures, "softness_bins": edges,
    "per_temperature": {f"{T:.3f}": {**per_T[T], **clean(res[T]),
                                    "n_nonpositive": int(sum(soft[t]["n_nonpositive"] for t in tags[T])),
                                    "samples": tags[T]} for T in temperatures},
    "window_sensitivity": sensitivity,
    "provenance": provenance(notebook="05_rearrangements", preset=preset, window=window, lag=lag,
                             calibration=calibration, n_bins=n_bins, n_boot=n_boot, seed=seed,
                             bins_from=bins_from),
}
write_json(data_out / "rearrangements.json", json_safe(out))
save_npz(Path(build_dir) / preset / "rearrangements_tables.npz", edges=edges,
         temperatures=np.asarray(temperatures),
         **{f"n_all_{T:.3f}": res[T]["n_all"] for T in temperatures},
         **{f"n_rearr_{T:.3f}": res[T]["n_rearr"] for T in temperatures})
print("wrote", data_out / "rearrangements.json")
