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
# $e^{-x}$ (inset), and the barrier should fall as the softness grows (Fig. 5(d)). Extrapolated
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
# over the selective ones ($T \le 0.60$, METHODS 7).

# %% tags=["parameters"]
preset = "quick"
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
window = 15.0            # must match the window of notebook 05
calibration = "paper"    # must match notebook 05
t_selective = 0.60       # the selective subset: temperatures up to this one
min_frames = 20          # a bin needs this many particle-frames at every temperature
n_boot = 200
seed = 0

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from softlib import arrhenius as ar
from softlib.provenance import atomic_write_bytes, provenance, read_json, write_json

sns.set_theme(style="ticks", context="notebook")
data_out = Path(data_dir) / preset
fig_out = Path(fig_dir) / preset
fig_out.mkdir(parents=True, exist_ok=True)
rear_path = data_out / "rearrangements.json"
tab_path = Path(build_dir) / preset / "rearrangements_tables.npz"
for p in (rear_path, tab_path):
    if not p.exists():
        raise FileNotFoundError(f"{p} is missing: run notebook 05_rearrangements for preset {preset!r} first")
rear = read_json(rear_path)
if rear["window"] != window or rear["calibration"] != calibration:
    raise ValueError(f"{rear_path} was made with window {rear['window']}, calibration {rear['calibration']!r}; "
                     f"this notebook runs with window {window}, calibration {calibration!r}: rerun 05 with these")
tabs = np.load(tab_path)
temperatures = [float(t) for t in tabs["temperatures"]]
edges = tabs["edges"]
tables = [(tabs[f"n_all_{T:.3f}"], tabs[f"n_rearr_{T:.3f}"]) for T in temperatures]

def savefig(fig, name):
    for ext in ("png", "pdf"):
        fig.savefig(fig_out / f"{name}.{ext}", dpi=150, bbox_inches="tight")

def sig(x, n=2):
    """x rounded to n significant digits, as text (robust to last-digit noise); 'nan' for a missing value."""
    return f"{x:.{n}g}" if x is not None and np.isfinite(x) else "nan"

def tf(x):
    """A temperature with two decimals ('nan' when missing, 'inf' when the lines never cross at T > 0)."""
    return "nan" if x is None else f"{x:.2f}"

# %% [markdown]
# ## Fits over all temperatures and over the selective subset

# %%
fits = {"all": ar.fit_arrhenius(temperatures, tables, edges, min_frames=min_frames, n_boot=n_boot, seed=seed)}
selective_reason = None
try:
    fits["selective"] = ar.fit_arrhenius(temperatures, tables, edges, t_max=t_selective,
                                         min_frames=min_frames, n_boot=n_boot, seed=seed)
except ValueError as e:
    selective_reason = str(e)

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
shown = "selective" if "selective" in fits and fits["selective"].temperatures.size >= 3 else "all"
fit = fits[shown]
label = {"all": "all temperatures", "selective": f"T <= {t_selective}"}
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
k_kept = np.flatnonzero(fit.kept)
pal = sns.color_palette("plasma_r", k_kept.size)
x = 1.0 / fit.temperatures
c = fit.crossing
x_lo = min(x.min(), c["inv_T"]) - 0.05 if np.isfinite(c["inv_T"]) else x.min() - 0.05
xx = np.linspace(max(x_lo, 0.0), x.max() + 0.05, 100)
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for col, k in zip(pal, k_kept):
    y = np.log(fit.p_r[:, k])
    ax.errorbar(x, y, yerr=fit.p_r_err[:, k] / fit.p_r[:, k], fmt="o", color=col, ms=4, capsize=2,
                label=f"S = {fit.centers[k]:.2e}")
    ax.plot(xx, fit.ln_p0[k] - fit.delta_e[k] * xx, "-", color=col, lw=0.8)
if np.isfinite(c["inv_T"]) and c["inv_T"] > 0:
    ax.plot(c["inv_T"], c["ln_p"], "k*", ms=12, label=f"crossing T* = {c['T']:.2f}")
    if np.isfinite(c["low"]) and np.isfinite(c["high"]):
        ax.axvspan(1 / c["high"], 1 / c["low"], color="gray", alpha=0.2, lw=0)
ax.axvline(1 / 0.801, color="k", ls=":", lw=0.8)
ax.text(1 / 0.801, ax.get_ylim()[1], " paper 0.801", va="top", fontsize=8)
ax.set(xlabel="$1/T$", ylabel=r"$\ln P_R(S)$", title=f"Fig. 5(c), fit over {label[shown]}")
ax.legend(fontsize=7, loc="lower left")
ins = ax.inset_axes([0.68, 0.6, 0.3, 0.36])
cx, cy = ar.collapse(fit)
for j, col in enumerate(pal):
    ins.plot(cx[:, j], cy[:, j], "o", color=col, ms=3)
u = np.linspace(max(0.0, cx.min() - 0.2), cx.max() + 0.2, 50)
ins.plot(u, np.exp(-u), "k-", lw=0.8)
ins.set_yscale("log")
ins.set_xlabel(r"$\Delta E/T$", fontsize=8)
ins.set_ylabel(r"$P_R/P_0$", fontsize=8)
ins.tick_params(labelsize=7)
fig.tight_layout()
savefig(fig, "fig5c")
plt.show()

# %% [markdown]
# Grey band: bootstrap interval of the crossing; dotted: the paper's 0.801. Inset: the
# collapse $P_R/P_0$ against $\Delta E/T$ with the line $e^{-x}$.
#
# ## Fig. 5(d): the barrier against softness

# %%
trend = ar.barrier_trend(fit)
s = fit.centers[k_kept]
fig, ax = plt.subplots(figsize=(6, 4.2))
ax.errorbar(s, fit.delta_e[k_kept], yerr=fit.delta_e_err[k_kept], fmt="o", color="k", capsize=2)
ax.plot(s, trend["S"]["intercept"] + trend["S"]["slope"] * s, "r-", lw=0.8,
        label=f"linear, $R^2$ = {trend['S']['r2']:.2f}")
ax.set(xlabel=r"$S$ ($\sigma^2$)", ylabel=r"$\Delta E(S)$", title=f"Fig. 5(d), fit over {label[shown]}")
ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
ax.legend(fontsize=8, loc="lower left")
ins = ax.inset_axes([0.62, 0.58, 0.35, 0.38])
ins.errorbar(1 / s, fit.delta_e[k_kept], yerr=fit.delta_e_err[k_kept], fmt="o", color="k", ms=3, capsize=1)
ins.plot(1 / s, trend["inv_S"]["intercept"] + trend["inv_S"]["slope"] / s, "r-", lw=0.8)
ins.set_xlabel(r"$1/S$", fontsize=8)
ins.set_ylabel(r"$\Delta E$", fontsize=8)
ins.text(0.05, 0.9, f"$R^2$ = {trend['inv_S']['r2']:.2f}", transform=ins.transAxes, fontsize=8, va="top")
ins.tick_params(labelsize=7)
fig.tight_layout()
savefig(fig, "fig5d")
plt.show()

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
#
# ## Our numbers against the paper's
#
# The paper's system is N = 4000 at T = 0.47 ... 0.80; the quick preset is N = 500 at
# T = 0.60 ... 1.00 with short runs, so only the signs and rough sizes can be compared there.
# `data/<preset>/COMPARISON.md` records the same table with notes.

# %%
pt = rear["per_temperature"]
T_low = min(temperatures)
low = pt[f"{T_low:.3f}"]
fr = low["fractions"]
cal = read_json(data_out / "calibration.json") if (data_out / "calibration.json").exists() else None
life = read_json(data_out / "lifetime.json") if (data_out / "lifetime.json").exists() else None
loc = read_json(data_out / "local_softness.json") if (data_out / "local_softness.json").exists() else None

def pm(d, scale=100, unit=" %"):
    return f"{scale * d['value']:.0f}{unit} +- {scale * d['error']:.1g}{unit}"

def p_r_contrast(T):
    p = np.array([np.nan if v is None else v for v in pt[f"{T:.3f}"]["P_R"]], dtype=float)
    return np.nanmax(p) / np.nanmin(p)

rows = []
if cal is not None:
    r2 = cal.get("r2", {})
    rows.append(("Fig. 1: 1/S^av, Phi_q, Phi_r linear in each other", "linear",
                 ", ".join(f"R^2({k}) = {v:.3f}" for k, v in r2.items()), "notebook 02"))
else:
    rows.append(("Fig. 1 linearity (R^2)", "linear", "calibration.json not found", "run notebook 02"))
if loc is not None:
    lt = loc.get("per_temperature", {})
    ts = sorted(lt, key=float)
    def _stat(T, part, k):
        return lt[T].get(part, {}).get(k, float("nan"))
    rows.append(("Fig. 3: P(beta Phi_r) deeper and broader as T falls", "yes",
                 ", ".join(f"T={float(T):.2f}: mean {sig(_stat(T, 'depth', 'mean'), 3)}, "
                           f"sd {sig(_stat(T, 'depth', 'std'), 2)}" for T in ts), "notebook 03"))
    rows.append(("Fig. 3: P(S) at smaller S and narrower as T falls", "yes",
                 ", ".join(f"T={float(T):.2f}: mean {sig(_stat(T, calibration, 'mean'), 2)}, "
                           f"sd {sig(_stat(T, calibration, 'std'), 2)}" for T in ts), f"calibration {calibration!r}"))
else:
    rows.append(("Fig. 3: P(beta Phi_r), P(S) against T", "shift and width", "local_softness.json not found",
                 "run notebook 03"))
if life is not None:
    entries = life.get("runs") or life.get("per_temperature") or {}
    txt = "; ".join(f"{tag}: " + ", ".join(f"{k} = {sig(d[k], 2)}" for k in ("tau_C_S", "tau_Q", "tau_alpha")
                                          if isinstance(d.get(k), (int, float)))
                    for tag, d in entries.items() if isinstance(d, dict))
    rows.append(("Fig. 4: C_S(t) decays in two steps like Q(t); their times", "similar times",
                 txt or "no decay times in lifetime.json", "notebook 04"))
else:
    rows.append(("Fig. 4: C_S(t) against Q(t)", "similar times", "lifetime.json not found", "run notebook 04"))
rows += [
    (f"Fig. 5(a): rearranging softer than the peak of P(S) (T = {T_low:.2f})", "about 75 % (T = 0.47)",
     pm(fr["fraction_above_peak"]), f"baseline {pm(fr['baseline_above_peak'])}; "
     f"above the median {pm(fr['fraction_above_median'])} (baseline 50 %)"),
    ("Fig. 5(b): P_R(S) rises with S, more steeply at low T", "yes",
     ", ".join(f"T={T:.2f}: max/min {sig(p_r_contrast(T), 2)}" for T in temperatures), "over the shared bins"),
    ("Fig. 5(c): ln P_R linear in 1/T", "linear",
     f"median chi^2/dof {sig(np.nanmedian(fits['all'].chi2_dof), 2)} (all T, dof {fits['all'].dof})"
     if fits["all"].dof > 0 else "2 temperatures: not testable", f"{int(fits['all'].kept.sum())} bins kept"),
    ("Fig. 5(c): crossing (onset) temperature, all T", "0.801",
     f"{tf(fits['all'].crossing['T'])} [{tf(fits['all'].crossing['low'])}, "
     f"{tf(fits['all'].crossing['high'])}]", f"T = {temperatures}"),
    (f"Fig. 5(c): crossing, T <= {t_selective}", "0.801",
     (f"{tf(fits['selective'].crossing['T'])} [{tf(fits['selective'].crossing['low'])}, "
      f"{tf(fits['selective'].crossing['high'])}]") if "selective" in fits else "no fit",
     "" if "selective" in fits else selective_reason.split(":")[0]),
    ("Fig. 5(d): Delta E falls with S", "yes",
     f"slope {sig(trend['S']['slope'], 2)} +- {sig(trend['S']['slope_err'], 1)}, R^2 {trend['S']['r2']:.2f}",
     f"fit over {label[shown]}"),
    ("Fig. 5(d) inset: Delta E linear in 1/S", "linear, deviations at small S",
     f"R^2 {trend['inv_S']['r2']:.2f}", ""),
    (f"tau_alpha at the lowest T", "700 at T = 0.47", f"{sig(low['tau_alpha'], 2)} at T = {T_low:.2f}",
     "F_s(q = 7.25) = 1/e, A particles"),
]

# %%
# NBVAL_CHECK_OUTPUT
w0 = max(len(r[0]) for r in rows)
for claim, paper, ours, note in rows:
    print(f"{claim:<{w0}} | paper: {paper:<22} | ours: {ours}" + (f"  ({note})" if note else ""))

# %% [markdown]
# ## Saved results

# %%
# NBVAL_IGNORE_OUTPUT
onset = fits[shown].crossing
results = {
    "preset": preset,
    "temperatures": temperatures,
    "fraction_above_peak": fr["fraction_above_peak"],
    "fraction_above_peak_T": T_low,
    "baseline_above_peak": fr["baseline_above_peak"],
    "fraction_above_median": fr["fraction_above_median"],
    "onset_temperature": {"value": onset["T"], "low": onset["low"], "high": onset["high"],
                          "fit": label[shown], "interval": onset["interval"]},
    "onset_temperature_all": {k: fits["all"].crossing[k] for k in ("T", "low", "high")},
    "onset_temperature_selective": ({k: fits["selective"].crossing[k] for k in ("T", "low", "high")}
                                    if "selective" in fits else {"value": None, "reason": selective_reason}),
    "tau_alpha": {f"{T:.3f}": pt[f"{T:.3f}"]["tau_alpha"] for T in temperatures},
    "p_c": {f"{T:.3f}": pt[f"{T:.3f}"]["p_c"] for T in temperatures},
    "softness_bins": edges,
    "delta_E": fit.delta_e, "delta_E_error": fit.delta_e_err,
    "ln_P0": fit.ln_p0, "ln_P0_error": fit.ln_p0_err, "chi2_dof": fit.chi2_dof,
    "excluded_bins": fit.excluded,
    "barrier_trend": trend,
    "window": window, "calibration": calibration,
    "provenance": provenance(notebook="06_arrhenius", preset=preset, window=window, calibration=calibration,
                             t_selective=t_selective, min_frames=min_frames, n_boot=n_boot, seed=seed,
                             inputs=[str(rear_path), str(tab_path)]),
}
write_json(data_out / "results.json", ar.json_safe(results))

md = [f"# {preset}: the paper's claims beside our numbers", "",
      f"Generated by notebooks/06_arrhenius.py (git {results['provenance']['git_revision']}); "
      f"temperatures {temperatures}, p_hop window {window:g}, calibration {calibration!r}.", "",
      "| claim | paper | ours | note |", "| --- | --- | --- | --- |"]
md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
md += ["", "Errors: bootstrap over particles. Intervals: "
       f"{100 * onset['interval']:.0f} % bootstrap. Figures 5(c, d) use the fit over {label[shown]}."]
if preset == "quick":
    md += ["", "The quick preset (N = 500, T = 0.60 ... 1.00, runs of 100-200 tau) is a smoke test: at "
           "T >= 0.8 the window Dt = 15 is several tau_alpha long, so p_hop marks a large share of all "
           "particle-frames and P_R(S) is nearly flat; only one temperature is <= 0.60, so the selective "
           "fit cannot be made. Compare signs, not values."]
atomic_write_bytes(data_out / "COMPARISON.md", ("\n".join(md) + "\n").encode())
print("wrote", data_out / "results.json", "and", data_out / "COMPARISON.md")
