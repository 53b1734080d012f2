"""The figures of notebooks 05 and 06 (dynamics, p_hop, Fig. 5, finite size): results in, figure out."""
from __future__ import annotations

import numpy as np

from .figures import _plt
from .plotting import S_LABEL, UNITS, legend_outside

PAPER_ONSET = 0.801


# ---------------------------------------------------------------------------------------------- 05
def dynamics(runs, tags, colors):
    """MSD, alpha_2 and F_s of the first sample of each temperature, with p_c, t* and tau_alpha marked."""
    fig, axes = _plt().subplots(1, 3, figsize=(14, 4))
    for T in sorted(tags):
        r = runs[tags[T][0]]
        lg, ln = r["log"], r["linear"]
        if lg is None:  # a data set run without log-spaced frames: the dense frames only
            for ax, y_lin in ((axes[0], ln.msd), (axes[1], ln.alpha2), (axes[2], ln.fs)):
                ax.plot(ln.times, y_lin, "-", color=colors[T], label=f"T = {T:.2f}")
        else:
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
    axes[0].set(xscale="log", yscale="log", xlabel=r"$t$ ($\tau$)", ylabel=rf"MSD$_A$ ({UNITS['S']})",
                title=r"MSD; circles: $p_c$ = MSD$(t^*)$")
    axes[1].set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"$\alpha_2$", title=r"$\alpha_2$; dotted: $t^*$")
    axes[2].axhline(np.exp(-1), color="gray", lw=0.8)
    axes[2].set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=r"$F_s(q=7.25, t)$",
                title=r"$F_s$; squares: $\tau_\alpha$")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def most_active(trace, n):
    """The n particles with the largest summed event peaks of p_hop."""
    ev = trace["events"]
    order = np.argsort(-np.bincount(ev["particle"], weights=ev["peak"], minlength=trace["p_hop"].shape[1]))
    return order[:n]


def phop_traces(trace, p_c, T, window, n=4):
    """p_hop of the n most active A particles with their events (red) above p_c (dashed)."""
    ev = trace["events"]
    show = most_active(trace, n)
    fig, axes = _plt().subplots(len(show), 1, figsize=(10, 1.6 * len(show)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, i in zip(axes, show):
        ax.plot(trace["t"], trace["p_hop"][:, i], lw=0.8)
        ax.axhline(p_c, color="k", ls="--", lw=0.8)
        for f, l in zip(ev["first"][ev["particle"] == i], ev["last"][ev["particle"] == i]):
            ax.axvspan(trace["t"][f], trace["t"][l], color="tab:red", alpha=0.25, lw=0)
        ax.set_ylabel(f"A{i}\n" + rf"$p_{{hop}}$ ({UNITS['S']})")
    axes[-1].set_xlabel(r"$t$ ($\tau$)")
    axes[0].set_title(f"T = {T:.2f}, $\\Delta t$ = {window:g} $\\tau$: events (red) above $p_c$ (dashed)")
    fig.tight_layout()
    return fig


def fig5a(res, T, n_bins=40):
    """Fig. 5(a): P(S) of all particle-frames and P(S|R) at event starts, with the peak and median of P(S)."""
    from ..analysis.rearrangements import softness_density

    S = res["S_all"]
    fin = S[np.isfinite(S)]
    fr = res["fractions"]
    fine = np.linspace(*np.quantile(fin, [0.002, 0.998]), n_bins + 1)
    fig, ax = _plt().subplots(figsize=(6, 4))
    ax.stairs(softness_density(fin, fine), fine, color="k", lw=1.5, label="$P(S)$, all A particle-frames")
    ax.stairs(softness_density(res["ev_values"], fine), fine, color="tab:red", lw=1.5,
              label="$P(S|R)$, at the start of an event")
    ax.axvline(fr["peak"], color="k", ls="--", lw=0.8, label="peak of $P(S)$")
    ax.axvline(fr["median"], color="gray", ls=":", lw=0.8, label="median of $P(S)$")
    ax.set(xlabel=S_LABEL, ylabel=f"probability density ({UNITS['inv_S']})", title=f"Fig. 5(a), T = {T:.2f}")
    ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
    legend_outside(ax)  # the histograms fill the frame
    fig.tight_layout()
    return fig


def fig5b(res, edges, colors, window, variable=None):
    """Fig. 5(b): P_R of every temperature on the shared bins.

    Parameters
    ----------
    res : dict
        {T: {'P_R': (nb,), 'P_R_err': (nb,)}}.
    edges : (nb + 1,) float
        The shared bins of the predictor (sigma_AA^2 for the softness S).
    colors : dict
        {T: colour} (``ctx.colors``).
    window : float
        Delta t of p_hop (tau).
    variable : str, optional
        x-axis label: the predictor binned with its unit (default: the softness S in sigma_AA^2).
    """
    centers = 0.5 * (edges[1:] + edges[:-1])
    fig, ax = _plt().subplots(figsize=(6, 4))
    for T in sorted(res):
        ax.errorbar(centers, res[T]["P_R"], yerr=res[T]["P_R_err"], marker="o", ms=4, capsize=2, color=colors[T],
                    label=f"T = {T:.2f}")
    ax.set(yscale="log", xlabel=variable or S_LABEL, ylabel="$P_R$",
           title=f"Fig. 5(b), $\\Delta t$ = {window:g} $\\tau$")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    legend_outside(ax, title=f"T ({UNITS['T']})")  # outside: the curves fill the frame
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------- 06
def _crossing_panel(ax, fit, full, pal, k_kept):
    """ln P_R against 1/T per kept bin with the Arrhenius lines, their crossing and the paper's onset."""
    x = 1.0 / fit.temperatures
    c = fit.crossing
    x_all = 1.0 / full.temperatures
    x_lo = min(x_all.min(), c["inv_T"]) - 0.05 if np.isfinite(c["inv_T"]) else x_all.min() - 0.05
    xx = np.linspace(max(x_lo, 0.0), x.max() + 0.05, 100)
    out_T = np.array([T not in fit.temperatures for T in full.temperatures])
    for col, k in zip(pal, k_kept):
        y = np.log(fit.p_r[:, k])
        ax.errorbar(x, y, yerr=fit.p_r_err[:, k] / fit.p_r[:, k], fmt="o", color=col, ms=4, capsize=2,
                    label=f"{fit.centers[k]:.2e}")
        ax.plot(xx, fit.ln_p0[k] - fit.delta_e[k] * xx, "-", color=col, lw=0.8)
        if out_T.any():  # temperatures left out of the shown fit: drawn open, to show where ln P_R bends
            ax.plot(1.0 / full.temperatures[out_T], np.log(full.p_r[out_T, k]), "o", mfc="none", mec=col, ms=5)
    if np.isfinite(c["inv_T"]) and c["inv_T"] > 0:
        ax.plot(c["inv_T"], c["ln_p"], "k*", ms=12, label=f"crossing T* = {c['T']:.2f}")
        if np.isfinite(c["low"]) and np.isfinite(c["high"]):
            ax.axvspan(1 / c["high"], 1 / c["low"], color="gray", alpha=0.2, lw=0,
                       label=f"T*: {100 * c['interval']:.0f} % bootstrap interval")
    ax.axvline(1 / PAPER_ONSET, color="k", ls=":", lw=0.8, label=f"paper's onset T = {PAPER_ONSET}")
    ax.set(xlabel=f"$1/T$ ({UNITS['inv_T']})", ylabel=r"$\ln P_R$")
    return ax


def fig5c(fits, shown, label, variable=None):
    """Fig. 5(c): ln P_R against 1/T per kept bin with the lines to their crossing (left) and the collapse
    P_R / P_0 against Delta E / T (right; an inset in the paper, a panel here so that it hides no point).

    ``fits``: {'all': fit[, 'selective': fit]} (:func:`rearrangement_stage.arrhenius_fits`), ``shown`` the key
    drawn, ``label`` its description; ``variable``: the predictor's name with unit for the legend title
    (default: the softness S in sigma_AA^2).
    """
    import seaborn as sns

    from ..analysis import arrhenius as ar

    fit, full = fits[shown], fits["all"]
    k_kept = np.flatnonzero(fit.kept)
    pal = sns.color_palette("plasma_r", k_kept.size)
    fig, (ax, bx) = _plt().subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.6, 1]})
    _crossing_panel(ax, fit, full, pal, k_kept)
    ax.set_title(f"Fig. 5(c), fit over {label}")
    cx, cy = ar.collapse(fit)
    for j, col in enumerate(pal):
        bx.plot(cx[:, j], cy[:, j], "o", color=col, ms=4)
    u = np.linspace(max(0.0, cx.min() - 0.2), cx.max() + 0.2, 50)
    bx.plot(u, np.exp(-u), "k-", lw=0.8)
    bx.set(yscale="log", xlabel=r"$\Delta E/T$", ylabel=r"$P_R/P_0$", title=r"collapse; line: $e^{-\Delta E/T}$")
    h, lab = ax.get_legend_handles_labels()
    legend_outside(bx, handles=h, labels=lab, fontsize=7,
                   title=f"bin centre, {variable or S_LABEL}")
    fig.tight_layout()
    return fig


def fig5d(fit, trend, label):
    """Fig. 5(d): the barrier Delta E (eps_AA) against S with a line (left) and against 1/S (right; an inset in
    the paper, a panel here so that it hides no error bar)."""
    k_kept = np.flatnonzero(fit.kept)
    s = fit.centers[k_kept]
    de, err = fit.delta_e[k_kept], fit.delta_e_err[k_kept]
    fig, (ax, bx) = _plt().subplots(1, 2, figsize=(10, 4), sharey=True, gridspec_kw={"width_ratios": [1.4, 1]})
    ax.errorbar(s, de, yerr=err, fmt="o", color="k", capsize=2)
    ax.plot(s, trend["S"]["intercept"] + trend["S"]["slope"] * s, "r-", lw=0.8)
    ax.set(xlabel=S_LABEL, ylabel=rf"$\Delta E$ ({UNITS['E']})",
           title=f"Fig. 5(d), fit over {label}\nred: linear in $S$, $R^2$ = {trend['S']['r2']:.2f}")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    bx.errorbar(1 / s, de, yerr=err, fmt="o", color="k", capsize=2)
    bx.plot(1 / s, trend["inv_S"]["intercept"] + trend["inv_S"]["slope"] / s, "r-", lw=0.8)
    bx.set(xlabel=f"$1/S$ ({UNITS['inv_S']})",
           title=f"the paper's inset\nred: linear in $1/S$, $R^2$ = {trend['inv_S']['r2']:.2f}")
    fig.tight_layout()
    return fig


def finite_size(fs, window):
    """P(beta Phi_r), P(S) and P_R(S) of the two system sizes at their shared temperature."""
    fig, axes = _plt().subplots(1, 3, figsize=(15, 4))
    sizes = list(fs["sizes"].values())
    dq = np.quantile(np.concatenate([x["depth"] for x in sizes]), [0.0005, 0.9995])
    lo_hi = np.quantile(np.concatenate([x["S"] for x in sizes]), [0.001, 0.999])
    for d, col in zip(sizes, ("C0", "C3")):
        lab = f"N = {d['N']} ({d['engine']}" + (f", {d['ranks']} ranks)" if d["ranks"] > 1 else ")")
        axes[0].hist(d["depth"], np.linspace(*dq, 60), density=True, histtype="step", lw=2, color=col, label=lab)
        axes[1].hist(d["S"], np.linspace(*lo_hi, 60), density=True, histtype="step", lw=2, color=col, label=lab)
        c = 0.5 * (d["bins"][1:] + d["bins"][:-1])
        axes[2].errorbar(c, d["P_R"], yerr=d["P_R_err"], marker="o", ms=4, capsize=2, color=col, label=lab)
    axes[0].set(xlabel=r"$\beta\Phi_r^i$", ylabel="probability density", title=f"local depth, T = {fs['T']:.2f}")
    axes[1].set(xlabel=S_LABEL, ylabel=f"probability density ({UNITS['inv_S']})", title=f"$P(S)$, T = {fs['T']:.2f}")
    axes[1].ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    axes[2].set(yscale="log", xlabel=S_LABEL, ylabel="$P_R(S)$",
                title=f"$P_R(S)$, T = {fs['T']:.2f}, $\\Delta t$ = {window:g} $\\tau$")
    axes[2].ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
