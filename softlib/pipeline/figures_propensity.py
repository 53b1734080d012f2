"""Figures of notebook 08: correlation with the propensity against time, the benchmark table as a plot, the
coarse-graining length, and a slab of one starting configuration coloured by propensity and by S."""
from __future__ import annotations

import numpy as np

from .figures_predictors import LABELS
from .plotting import legend_outside

LABELS = {**LABELS, "S_cg": r"$\bar S_L$ (coarse-grained S)"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def correlation_vs_time(per_T, colors=None):
    """Pearson(predictor, propensity) against t / tau_alpha, one panel per temperature, the ceiling dashed."""
    Ts = sorted(per_T)
    fig, axes = _plt().subplots(1, len(Ts), figsize=(4.2 * len(Ts) + 1.5, 3.8), sharey=True, squeeze=False)
    for ax, T in zip(axes[0], Ts):
        r = per_T[T]
        x = r["times"] / r["times"][r["i_tau"]]
        for name, c in r["corr"].items():
            ax.errorbar(x, c["pearson"], yerr=c["pearson_error"], label=LABELS.get(name, name), lw=1.2,
                        capsize=0, elinewidth=0.6)
        ax.plot(x, r["ceiling"]["ceiling"], "k--", lw=1, label="ceiling (finite ensemble)")
        ax.plot(x, -r["ceiling"]["ceiling"], "k--", lw=1)
        ax.axvline(1.0, color="0.6", lw=0.8)
        ax.axhline(0.0, color="0.8", lw=0.6)
        ax.set(xscale="log", xlabel=r"$t / \tau_\alpha$", title=f"T = {T:.2f}, {r['n_a']} A particles")
    axes[0][0].set_ylabel("Pearson correlation with the propensity")
    legend_outside(axes[0][-1], fontsize=8)
    fig.tight_layout()
    return fig


def benchmark(rows, published, names=("S", "S_cg", "S_ML", "epot")):
    """Pearson at t = tau_alpha against T: our predictors (points with errors) beside the published models."""
    fig, ax = _plt().subplots(figsize=(6.5, 4.2))
    Ts = [r["T"] for r in rows]
    for name in names:
        if all(name in r["pearson"] for r in rows):
            ax.errorbar(Ts, [abs(r["pearson"][name]) for r in rows], yerr=[r["error"][name] for r in rows],
                        marker="o", label=f"{LABELS.get(name, name)} (ours, N = 1000)")
    ax.plot(Ts, [r["ceiling"] for r in rows], "k--", label="our ceiling (32 replicas)")
    pT = sorted(published["pearson_at_tau_alpha"])
    for i, model in enumerate(published["models"]):
        ax.plot(pT, [published["pearson_at_tau_alpha"][T][i] for T in pT], ":", marker="s", ms=4, color="0.55",
                alpha=0.5 + 0.12 * i, label=f"{model} (GlassBench, N = 4096)")
    ax.set(xlabel=r"$T$ ($\epsilon_{AA}/k_B$)", ylabel=r"|Pearson| at $t = \tau_\alpha$", ylim=(0, 1))
    legend_outside(ax, fontsize=8)
    fig.tight_layout()
    return fig


def coarse_graining(per_T, colors=None):
    """Pearson(S_L, propensity) at tau_alpha against the coarse-graining length L (L = 0: the bare S)."""
    fig, ax = _plt().subplots(figsize=(4.8, 3.8))
    for T in sorted(per_T):
        r = per_T[T]
        Ls = [0.0] + sorted(r["S_cg"])
        v = [r["corr"]["S"]["pearson"][r["i_tau"]]] + [r["S_cg"][L]["pearson"][r["i_tau"]] for L in Ls[1:]]
        kw = {"color": colors[T]} if colors is not None and T in colors else {}
        ax.plot(Ls, v, "o-", label=f"T = {T:.2f}", **kw)
    ax.set(xlabel=r"coarse-graining length $L$ ($\sigma_{AA}$)", ylabel=r"Pearson at $t = \tau_\alpha$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def slab(data, values, plan, k=0, thickness=2.0):
    """One starting configuration: A particles in a slab coloured by propensity at tau_alpha and by S."""
    a = values["a_index"]
    box = np.asarray(data["box"], float)
    x = np.mod(data["positions"][k][a], box)
    sel = np.abs(x[:, 2] - box[2] / 2) < thickness / 2
    i_tau = int(np.flatnonzero(data["steps"] == int(round(plan.tau_alpha / plan.dt)))[0])
    prop = data["mean_abs"][k, i_tau, a]
    fig, axes = _plt().subplots(1, 2, figsize=(10, 4.6))
    for ax, v, lab, cmap in ((axes[0], prop, r"propensity $\langle|\Delta r|\rangle$ at $\tau_\alpha$ ($\sigma$)",
                              "viridis"), (axes[1], values["S"][k], r"$S$ ($\sigma^2$)", "coolwarm")):
        lo, hi = np.percentile(v, [2, 98])
        sc = ax.scatter(x[sel, 0], x[sel, 1], c=v[sel], s=90, cmap=cmap, vmin=lo, vmax=hi, edgecolors="k",
                        linewidths=0.3)
        fig.colorbar(sc, ax=ax, label=lab)
        ax.set(xlim=(0, box[0]), ylim=(0, box[1]), aspect="equal", xlabel=r"$x$ ($\sigma_{AA}$)",
               ylabel=r"$y$ ($\sigma_{AA}$)")
    fig.suptitle(f"T = {plan.T:.2f}: configuration {k}, slab of thickness {thickness} (A particles)")
    fig.tight_layout()
    return fig


def distributions(data_by_T, plans, a_index_by_T, colors=None):
    """Distribution of the A particles' propensity at tau_alpha, scaled by its mean, per temperature."""
    fig, ax = _plt().subplots(figsize=(4.8, 3.8))
    for T in sorted(data_by_T):
        d, p = data_by_T[T], plans[T]
        i = int(np.flatnonzero(d["steps"] == int(round(p.tau_alpha / p.dt)))[0])
        v = d["mean_abs"][:, i, a_index_by_T[T]].ravel()
        kw = {"color": colors[T]} if colors is not None and T in colors else {}
        ax.hist(v / v.mean(), bins=60, density=True, histtype="step", lw=1.4, label=f"T = {T:.2f}", **kw)
    ax.set(xlabel=r"propensity at $\tau_\alpha$ / its mean", ylabel="probability density", yscale="log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
