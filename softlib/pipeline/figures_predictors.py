"""Figures of notebook 07: ROC curves, AUC against T, SVM weights, S against S_ML, the shoulders of P(S).

P_R(S_ML) and its Arrhenius fits reuse :func:`figures_dynamics.fig5b` and :func:`figures_dynamics.fig5c`.
"""
from __future__ import annotations

import numpy as np

from .plotting import S_LABEL, UNITS, legend_outside

#: how the predictors are named in legends
LABELS = {"S": "S (Eq. 7)", "beta_Phi_r": r"$\beta\Phi_r$", "S_ML": r"$S_{ML}$ (this T)",
          "S_ML_low_T": r"$S_{ML}$ (lowest T)", "epot": r"$e_{pot}$", "coordination": "coordination",
          "voronoi_volume": "Voronoi volume"}

#: axis label of the ML softness (a signed distance to the SVM's plane in standardised features: no unit), for
#: ``figures_dynamics.fig5b(..., variable=SML_AXIS)`` and ``fig5c(..., variable=SML_AXIS)``
SML_AXIS = r"$S_{ML}$ (lowest-T machine, dimensionless)"


def _plt():
    import matplotlib.pyplot as plt

    return plt


def roc_curves(roc, T):
    """ROC curves of every predictor on the test set at temperature T; ``roc``: {name: (scores, labels)}."""
    from sklearn.metrics import roc_curve

    from ..analysis.predictors import roc_auc

    fig, ax = _plt().subplots(figsize=(5, 5))
    for name, (s, y) in roc.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{LABELS.get(name, name)}: AUC {roc_auc(s, y):.2f}")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate (hard called soft)", ylabel="true positive rate", title=f"T = {T:.2f}")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def auc_vs_temperature(per_T, temperatures):
    """AUC with bootstrap errors against T, one line per predictor."""
    fig, ax = _plt().subplots(figsize=(6, 4))
    names = sorted({n for T in temperatures for n in per_T[T]["metrics"]})
    for k, name in enumerate(names):
        Ts = [T for T in temperatures if name in per_T[T]["metrics"]]
        a = [per_T[T]["metrics"][name]["auc"] for T in Ts]
        e = [per_T[T]["metrics"][name]["auc_error"] for T in Ts]
        ax.errorbar(np.asarray(Ts) + 0.003 * (k - len(names) / 2), a, yerr=e, marker="o", ms=4, capsize=2,
                    label=LABELS.get(name, name))
    ax.axhline(0.5, color="k", ls=":", lw=0.8)
    ax.set(xlabel=f"$T$ ({UNITS['T']})", ylabel="ROC AUC (test set)")
    legend_outside(ax, title="predictor")
    return fig


def svm_weights(mu, weights, g, T):
    """SVM weights of the A and B shells (standardised features) against mu, above g_AA and g_AB."""
    M = mu.size
    fig, (ax, bx) = _plt().subplots(2, 1, figsize=(7, 6), sharex=True)
    for v, name in enumerate(("A", "B")):
        ax.plot(mu, weights[v * M:(v + 1) * M], marker="o", ms=3, label=f"shells of {name} neighbours")
        bx.plot(mu, g[v], label=f"$g_{{A{name}}}$ (shell-smoothed)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set(ylabel="SVM weight", title=f"linear SVM trained at T = {T:.2f}")
    ax.legend(fontsize=8)
    bx.set(xlabel=rf"$\mu$ ({UNITS['r']})", ylabel="$g(r)$")
    bx.legend(fontsize=8)
    return fig


def joint_s_sml(S, S_ML, T, rho):
    """Joint distribution of the theory softness and the ML softness (all A particle-frames)."""
    ok = np.isfinite(S) & np.isfinite(S_ML)
    fig, ax = _plt().subplots(figsize=(5.5, 4.5))
    hb = ax.hexbin(S[ok], S_ML[ok], gridsize=45, bins="log", cmap="viridis", mincnt=1)
    fig.colorbar(hb, ax=ax, label="particle-frames")
    ax.set(xlabel=rf"$S$ ({UNITS['S']}, Eq. 7)", ylabel=r"$S_{ML}$ (dimensionless)",
           title=f"T = {T:.2f}, Spearman {rho:.2f}")
    return fig


def shoulders(sh, T):
    """P(S) and its components by the number of first-shell neighbours, with the two modes."""
    e = sh["edges"]
    c = 0.5 * (e[1:] + e[:-1])
    fig, ax = _plt().subplots(figsize=(6.5, 4))
    ax.plot(c, sh["P_S"], "k-", lw=2, label="$P(S)$")
    for n, b in sorted(sh["by_n"].items()):
        ax.plot(c, b["P"], lw=1, label=f"n = {n} ({100 * b['weight']:.0f} %)")
    ax.axvline(sh["mode_hist"], color="C3", ls="--", lw=1, label="histogram mode")
    ax.axvline(sh["mode_smooth"], color="C0", ls=":", lw=1.5, label="smoothed mode")
    ax.set(xlabel=S_LABEL, ylabel=f"probability density ({UNITS['inv_S']})",
           title=f"T = {T:.2f}: $P(S)$ by first-shell neighbours")
    legend_outside(ax, fontsize=7)  # the components fill the frame
    return fig
