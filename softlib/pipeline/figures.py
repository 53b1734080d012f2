"""The figures of notebooks 01-04: each function takes the results and returns the figure.

The notebooks save them with ``ctx.savefig(fig, name)``. Colours of temperatures come from the caller
(``ctx.colors``: one colour per temperature, the same in every notebook). Notebooks 05-06:
:mod:`softlib.pipeline.figures_dynamics`.
"""
from __future__ import annotations

import numpy as np

from .plotting import S_LABEL, UNITS, legend_outside, na

PAIRS = {(0, 0): "AA", (0, 1): "AB", (1, 1): "BB"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------------------------------------- 01
def pair_potentials(pair_potential, r=None):
    """The three shifted KA potentials (``pair_potential(r, u, v)``, e.g. softlib.ka.pair_potential)."""
    r = np.linspace(0.7, 2.8, 400) if r is None else r
    fig, ax = _plt().subplots(figsize=(5, 3.4))
    for (u, v), name in PAIRS.items():
        ax.plot(r, pair_potential(r, u, v), label=name)
    ax.set(ylim=(-1.7, 1.5), xlabel=r"$r$ ($\sigma_{AA}$)", ylabel=r"$U_{uv}(r)$ ($\epsilon_{AA}$)")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.legend(title="pair")
    return fig


def thermo_traces(thermo, T):
    """Kinetic temperature, potential energy, pressure and conserved energy over all stages (thermo.csv)."""
    fig, axes = _plt().subplots(2, 2, figsize=(9, 5.5), sharex=False)
    for ax, col, lab in zip(axes.flat, ["T", "e_pot", "pressure", "e_conserved"],
                            [rf"$T$ ({UNITS['T']})", rf"$e_{{pot}}/N$ ({UNITS['E']})", rf"$P$ ({UNITS['P']})",
                             rf"$H_{{ext}}/N$ ({UNITS['E']})"]):
        for stage, grp in thermo.groupby("stage", sort=False):
            ax.plot(grp["time"], grp[col], lw=0.8, label=stage)
        ax.set(xlabel=r"time within stage ($\tau$)", ylabel=lab)
    axes[0, 0].axhline(T, color="k", ls=":", lw=1)
    legend_outside(axes[0, 1], title="stage")
    fig.tight_layout()
    return fig


def relaxation(t, fs, tau, T):
    """F_s(q = 7.25, t) of one run with its tau_alpha."""
    fig, ax = _plt().subplots(figsize=(5, 3.4))
    ax.semilogx(t, fs, "o-", ms=3)
    ax.axhline(np.exp(-1), color="0.5", ls=":")
    ax.axvline(tau, color="C3", ls="--", label=rf"$\tau_\alpha$ = {tau:.3g} $\tau$")
    ax.set(xlabel=r"$t$ ($\tau$)", ylabel=r"$F_s(q=7.25, t)$", title=f"T = {T:g}")
    ax.legend()
    return fig


# ---------------------------------------------------------------------------------------------- 02
def structure_factors(structure, colors):
    """S_uv(q) (top) and C_uv(q) (bottom) of every temperature."""
    from ..analysis import structure as st

    fig, axes = _plt().subplots(2, 3, figsize=(13, 7), sharex="row")
    for T in sorted(structure):
        s, c = structure[T], colors[T]
        C = st.direct_correlation(s["S"])
        for k, (u, v) in enumerate(PAIRS):
            axes[0, k].plot(s["q"], s["S"][:, u, v], color=c, lw=1, label=f"T = {T:.2f}")
            axes[1, k].plot(s["q"], C[:, u, v], color=c, lw=1)
    for k, name in enumerate(PAIRS.values()):
        axes[0, k].set_title(f"$S_{{{name}}}(q)$")
        axes[1, k].set_title(f"$C_{{{name}}}(q)$")
        axes[1, k].set_xlabel(rf"$q$ ({UNITS['q']})")
        axes[1, k].set_ylim(-6, 2)
    legend_outside(axes[0, -1])
    fig.tight_layout()
    return fig


def rdfs_with_limits(structure, results, colors):
    """g_uv(r) of every temperature with the integration limits of the depth (dotted)."""
    fig, axes = _plt().subplots(1, 3, figsize=(13, 3.8), sharex=True)
    for T in sorted(structure):
        s, lim, c = structure[T], results[T]["limits"], colors[T]
        for k, ((u, v), name) in enumerate(PAIRS.items()):
            axes[k].plot(s["r"], s["g"][u, v], color=c, lw=1, label=f"T = {T:.2f}")
            for x in lim.get(name, ()):
                axes[k].axvline(x, color=c, lw=0.6, ls=":")
    for k, name in enumerate(PAIRS.values()):
        axes[k].set_title(f"$g_{{{name}}}(r)$ (dotted: integration limits)")
        axes[k].set_xlabel(rf"$r$ ({UNITS['r']})")
        axes[k].set_xlim(0.5, 3.0)
    legend_outside(axes[-1])
    fig.tight_layout()
    return fig


def caging_potentials(structure, results, colors, dr_fit=0.03, dr=None):
    """beta Phi(dr) - beta Phi(0) with the harmonic fit, and the integrands q^2 F(q), q^4 F(q) / 50."""
    from ..analysis import caging as cg

    dr = np.linspace(0, 0.2, 201) if dr is None else dr
    fig, axes = _plt().subplots(1, 2, figsize=(12, 4))
    for T in sorted(structure):
        s, res, c = structure[T], results[T], colors[T]
        phi = cg.caging_potential(s["q"], s["S"], dr)
        axes[0].plot(dr, phi - phi[0], color=c, label=f"T = {T:.2f}")
        axes[0].plot(dr, dr ** 2 / (2 * res["S_av"]), color=c, ls="--", lw=0.8)
        F = cg.caging_integrand(s["q"], s["S"])
        axes[1].plot(s["q"], s["q"] ** 2 * F, color=c, lw=1)
        axes[1].plot(s["q"], s["q"] ** 4 * F / 50, color=c, lw=0.7, ls=":")
    axes[0].axvline(dr_fit, color="k", lw=0.6)
    axes[0].set(xlabel=rf"$\Delta r$ ({UNITS['r']})", ylabel=r"$\beta\Phi(\Delta r) - \beta\Phi(0)$", ylim=(0, None))
    axes[0].legend(title="solid: Eq. 3, dashed: fit")
    axes[1].set(xlabel=rf"$q$ ({UNITS['q']})", ylabel=r"$q^2 F(q)$ (solid), $q^4 F(q)/50$ (dotted)")
    fig.tight_layout()
    return fig


def _line(ax, x, a, b, r2, label):
    xx = np.linspace(x.min(), x.max(), 50)
    ax.plot(xx, a + b * xx, "k-", lw=0.8, label=f"{label}, $R^2$ = {na(r2, fmt='.3f')}")


def _annotate(ax, ts, xs, ys):
    for T, x, y in zip(ts, xs, ys):
        ax.annotate(f"{T:.2f}", (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)


def fig1a(col, cal, colors):
    """Fig. 1(a): 1/S^av against beta Phi_q with a0 + a1 beta Phi_q; inset: beta Phi_q against beta Phi_r."""
    from mpl_toolkits.axes_grid1.inset_locator import inset_axes

    cs = [colors[T] for T in col["T"]]
    fig, ax = _plt().subplots(figsize=(5.5, 4.5))
    ax.scatter(col["Phi_q"], col["inv_S"], c=cs, s=40, zorder=3)
    _line(ax, col["Phi_q"], cal["a0"], cal["a1"], cal["r2"]["a"], r"$a_0 + a_1\beta\Phi_q$")
    ax.set(xlabel=r"$\beta\Phi_q^{av}(0)$", ylabel=rf"$1/S^{{av}}$ ({UNITS['inv_S']})")
    ax.legend(loc="upper right", fontsize=8)
    ins = inset_axes(ax, width="38%", height="35%", loc="lower left", borderpad=2.5)
    ins.scatter(col["Phi_r"], col["Phi_q"], c=cs, s=15, zorder=3)
    xx = np.linspace(col["Phi_r"].min(), col["Phi_r"].max(), 50)
    ins.plot(xx, cal["b0"] + cal["b1"] * xx, "k-", lw=0.8)
    ins.set_xlabel(r"$\beta\Phi_r$", fontsize=8)
    ins.set_ylabel(r"$\beta\Phi_q$", fontsize=8)
    ins.tick_params(labelsize=7)
    ins.yaxis.set_label_position("right")
    ins.yaxis.tick_right()
    ins.set_title(f"$R^2$ = {na(cal['r2']['b'], fmt='.3f')}", fontsize=8)
    _annotate(ax, col["T"], col["Phi_q"], col["inv_S"])
    ax.margins(x=0.08)  # room for the temperature next to the last point
    fig.subplots_adjust(left=0.17, bottom=0.13, right=0.96, top=0.96)  # tight_layout ignores insets
    return fig


def fig1b(col, cal, colors):
    """Fig. 1(b): 1/S^av against beta Phi_r with the calibration c0 + c1 beta Phi_r (Eq. 7)."""
    fig, ax = _plt().subplots(figsize=(5.5, 4.5))
    ax.scatter(col["Phi_r"], col["inv_S"], c=[colors[T] for T in col["T"]], s=40, zorder=3)
    _line(ax, col["Phi_r"], cal["c0"], cal["c1"], cal["r2"]["c"], r"$c_0 + c_1\beta\Phi_r$ (Eq. 7)")
    _annotate(ax, col["T"], col["Phi_r"], col["inv_S"])
    ax.margins(x=0.08)  # room for the temperature next to the last point
    ax.set(xlabel=r"$\beta\Phi_r^{av}(0)$", ylabel=rf"$1/S^{{av}}$ ({UNITS['inv_S']})")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------- 03
def fig2_single_particle(terms, r, fig2, limits, particle, T, delta):
    """Eq. 8 for one A particle: a Gaussian per neighbour (thin), their sum g^i (thick), the average rdf."""
    fig, axes = _plt().subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for v, (ax, key) in enumerate(zip(axes, ("AA", "AB"))):
        for term in terms["terms"][v]:
            ax.plot(r, term, color="C0", lw=0.6, alpha=0.6)
        ax.vlines(terms["r_ij"][v], 0, 0.4, color="k", lw=1)
        ax.plot(r, terms["g"][v], color="C3", lw=2.2, label=rf"$g^i_{{{key}}}(r)$, $\delta = {delta}\,\sigma_{{AA}}$")
        ax.plot(fig2["r_hist"], fig2["g_hist"][0, v], color="0.5", lw=1.2, label=rf"average $g_{{{key}}}(r)$")
        ax.axvspan(*limits[key], color="C2", alpha=0.12, label="integration range")
        ax.set(xlabel=r"$r$ ($\sigma_{AA}$)", title=f"{key}: tagged A particle {particle}, T = {T:.2f}",
               xlim=(r[0], r[-1]))
        ax.legend(fontsize=8, loc="upper right")
    axes[0].set_ylabel(r"$g(r)$")
    fig.tight_layout()
    return fig


def fig2(fig2, T):
    """Fig. 2: averaged local rdfs at several delta against the smeared histogram rdf (white dashed)."""
    import seaborn as sns

    deltas = fig2["deltas"]
    pal = dict(zip(deltas, sns.color_palette("flare", len(deltas))))
    fig, axes = _plt().subplots(1, 2, figsize=(11, 3.8))
    for v, (ax, key) in enumerate(zip(axes, ("AA", "AB"))):
        ax.plot(fig2["r_hist"], fig2["g_hist"][0, v], color="k", lw=1.2, label="histogram rdf")
        for dl in deltas:
            ax.plot(fig2["r"], fig2["avg"][dl][v], color=pal[dl], lw=2,
                    label=rf"$\langle g^i\rangle$, $\delta = {dl}\,\sigma_{{AA}}$")
            ax.plot(fig2["r"], fig2["smeared"][dl][v], color="w", lw=0.8, ls="--")
        ax.set(xlabel=r"$r$ ($\sigma_{AA}$)", ylabel=rf"$g_{{{key}}}(r)$", xlim=(0.5, 3.0),
               title=f"{key}, T = {T:.2f}, {fig2['n_frames']} frames")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def fig3a(data, cal, colors, n_bins=60):
    """Fig. 3(a): P(beta Phi_r^i) per temperature; dotted: beta Phi_r of the average rdf."""
    ts = sorted(data)
    fig, ax = _plt().subplots(figsize=(5.5, 4))
    lo, hi = np.percentile(np.concatenate([data[T]["depth"] for T in ts]), [0.05, 99.95])
    bins = np.linspace(lo, hi, n_bins)
    for T in ts:
        ax.hist(data[T]["depth"], bins, density=True, histtype="step", lw=2, color=colors[T], label=f"T = {T:.2f}")
        ax.axvline(cal["per_temperature"][f"{T:.3f}"]["Phi_r"], color=colors[T], ls=":", lw=1)
    ax.set(xlabel=r"$\beta\Phi_r^i$", ylabel=r"$P(\beta\Phi_r)$",
           title=r"(a) local depth; dotted: $\beta\Phi_r^{av}$ of the average rdf")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fig3b(data, cal, colors, calibration="paper", variants=("paper", "smeared"), n_bins=60):
    """Fig. 3(b): P(S) with the stored calibration (left) and the other variant (right); dotted: S^av."""
    ts = sorted(data)
    fig, axes = _plt().subplots(1, 2, figsize=(11, 4))
    for ax, v in zip(axes, (calibration, [x for x in variants if x != calibration][0])):
        allv = np.concatenate([data[T][v] for T in ts])
        bins = np.linspace(*np.percentile(allv, [0.05, 99.9]), n_bins)
        for T in ts:
            ax.hist(data[T][v], bins, density=True, histtype="step", lw=2, color=colors[T], label=f"T = {T:.2f}")
            ax.axvline(cal["per_temperature"][f"{T:.3f}"]["S_av"], color=colors[T], ls=":", lw=1)
        which = "paper's $c_0, c_1$" if v == "paper" else "smeared-rdf $c_0, c_1$"
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
        ax.set(xlabel=rf"$S_i$ ({UNITS['S']})", ylabel=rf"$P(S)$ ({UNITS['inv_S']})",
               title=f"(b) {which}" + (" (stored)" if v == calibration else ""))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------- 04
def fig4a(curves, tags, colors):
    """Fig. 4(a): C_S(t) (solid) and Q(t) (dotted) of every run, tau_alpha dashed."""
    fig, ax = _plt().subplots(figsize=(6.5, 4.3))
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
    legend_outside(ax, fontsize=7)
    fig.tight_layout()
    return fig


def fig4b(prop, pick, T):
    """Fig. 4(b): G(S, S0, t) of the hard S0 bin at the lags ``pick``, over P(S) of all particles (grey)."""
    import seaborn as sns

    from .plotting import sig_text

    hard, lags = prop["hard"], prop["hard"]["times"]
    fig, ax = _plt().subplots(figsize=(6, 4.2))
    ax.hist(prop["S_all"], prop["e_s"], density=True, color="0.85", label="all A particles")
    pal = sns.color_palette("rocket", len(pick))
    for k, li in enumerate(pick):
        ax.plot(hard["s_centres"], hard["G"][li, 0], "-", color=pal[k], lw=2,
                label=f"{sig_text(lags[li], 3)} (n = {hard['count'][li, 0]})")
    ax.axvspan(*prop["e_hard"], color="C0", alpha=0.1)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
    ax.set(xlabel=S_LABEL, ylabel=rf"$G(S, S_0, t)$ ({UNITS['inv_S']})",
           title=f"(b) T = {T:.2f}, $S_0$ in [{prop['e_hard'][0]:.2e}, {prop['e_hard'][1]:.2e}] {UNITS['S']}")
    legend_outside(ax, title=r"lag $t$ ($\tau$)")
    fig.tight_layout()
    return fig


def s0_group_means(s0):
    """Mean initial softness of each S0 group of Fig. 4(c): the t = 0 row of the propagator.

    Parameters
    ----------
    s0 : dict
        The pooled S0 propagator (``prop['s0']`` of :func:`softlib.pipeline.lifetime_stage.propagators`): its
        ``mean`` (L + 1, B0) row 0 is <S_i(0)> over the particle-origin pairs whose S_i(0) fell in each bin.

    Returns
    -------
    (B0,) float, sigma_AA^2: where each group's curve starts. The bin centres are no label: the outer bins
    reach to the smallest and largest S of all particles, so their centres lie far outside the groups' means.
    """
    return np.asarray(s0["mean"])[0]


def fig4c(prop, T, tau_alpha, r_stay=0.5, min_count=30):
    """Fig. 4(c): <S(t)>_S0 of particles that stayed within r_stay, per S0 group; dashed: overall mean.

    Each group is labelled by its mean S0 (:func:`s0_group_means`), the value its curve starts from.
    """
    import seaborn as sns

    s0 = prop["s0"]
    n_s0 = s0["count"].shape[1]
    start = s0_group_means(s0)
    fig, ax = _plt().subplots(figsize=(6, 4.2))
    pal = sns.color_palette("coolwarm", n_s0)
    t_pos = s0["times"] > 0
    for b in range(n_s0):
        ok = t_pos & (s0["count"][:, b] >= min_count)
        ax.plot(s0["times"][ok], s0["mean"][ok, b], "-o", ms=3, color=pal[b], label=f"{start[b]:.2e}")
    ax.axhline(prop["S_all"].mean(), color="k", ls="--", lw=1)
    if np.isfinite(tau_alpha):
        ax.axvline(tau_alpha, color="0.5", lw=0.8)
    ax.set(xscale="log", xlabel=r"$t$ ($\tau$)", ylabel=rf"$\langle S(t)\rangle_{{S_0}}$ ({UNITS['S']})",
           title=f"(c) T = {T:.2f}, particles within {r_stay:g} $\\sigma_{{AA}}$ of their start\n"
                 r"grey: $\tau_\alpha$; dashed: mean $S$ of all A particles")
    # outside: the curves fill the frame
    legend_outside(ax, title=rf"mean $S_0$ of the group ({UNITS['S']})")
    fig.tight_layout()
    return fig
